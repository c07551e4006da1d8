//! Applying TF padding: symmetric amounts go to the op itself, asymmetric ones (SAME at stride 2) are padded
//! explicitly first.

use tch::Tensor;

use super::types::{Padding, Pair};
use crate::Result;
use crate::error::TorchContext;

/// `x` (NCHW) prepared for a window op of `kernel` (already dilated) and `stride`: the tensor to feed the op
/// and the symmetric padding to pass it. Asymmetric padding is applied here with `fill`.
pub(crate) fn pad_for_window(
    scope: &str,
    x: &Tensor,
    padding: Padding,
    kernel: Pair,
    stride: Pair,
    fill: f64,
) -> Result<(Tensor, [i64; 2])> {
    let size = x.size();
    let (top, bottom) = padding.amounts(size[2], kernel.0, stride.0);
    let (left, right) = padding.amounts(size[3], kernel.1, stride.1);
    if top == bottom && left == right {
        return Ok((x.shallow_clone(), [top, left]));
    }
    let padded = x.f_pad([left, right, top, bottom], "constant", Some(fill)).context(scope)?;
    Ok((padded, [0, 0]))
}

/// The extent of a kernel dilated by `rate`.
pub(crate) fn dilated(kernel: Pair, rate: Pair) -> Pair {
    Pair((kernel.0 - 1) * rate.0 + 1, (kernel.1 - 1) * rate.1 + 1)
}
