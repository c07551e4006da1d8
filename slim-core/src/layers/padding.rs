//! Applying TF padding: symmetric amounts go to the op itself, asymmetric ones (SAME at stride 2) are padded
//! explicitly first.

use tch::Tensor;

use super::types::{Padding, Pair};
use crate::error::TorchContext;
use crate::{Error, Result};

/// An error naming the layer `scope` and both sizes when a VALID `window` (one extent per spatial axis, already
/// dilated) is larger than the map of `x` (`[N, C, spatial…]`), where libtorch would fail with an internal
/// message.
pub(crate) fn check_window_fits(scope: &str, x: &Tensor, padding: Padding, window: &[i64]) -> Result<()> {
    let size = x.size();
    let map = size.get(2..).unwrap_or_default();
    if padding == Padding::Same || map.iter().zip(window).all(|(side, extent)| side >= extent) {
        return Ok(());
    }
    let sizes = |values: &[i64]| values.iter().map(i64::to_string).collect::<Vec<_>>().join("×");
    Err(Error::invalid(
        scope,
        format!("a VALID {} window needs a map at least that large, got {}", sizes(window), sizes(map)),
    ))
}

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
    let (x, pad) = pad_for_window_nd(scope, x, padding, &kernel.to_array(), &stride.to_array(), fill)?;
    Ok((x, [pad[0], pad[1]]))
}

/// [`pad_for_window`] for any number of spatial axes: `x` is `[N, C, spatial…]`, `kernel` (already dilated) and
/// `stride` have one value per spatial axis.
pub(crate) fn pad_for_window_nd(
    scope: &str,
    x: &Tensor,
    padding: Padding,
    kernel: &[i64],
    stride: &[i64],
    fill: f64,
) -> Result<(Tensor, Vec<i64>)> {
    check_window_fits(scope, x, padding, kernel)?;
    let size = x.size();
    let amounts: Vec<(i64, i64)> =
        (0..kernel.len()).map(|axis| padding.amounts(size[axis + 2], kernel[axis], stride[axis])).collect();
    if amounts.iter().all(|(before, after)| before == after) {
        return Ok((x.shallow_clone(), amounts.iter().map(|(before, _)| *before).collect()));
    }
    // `pad` lists (before, after) from the last axis to the first.
    let pads: Vec<i64> = amounts.iter().rev().flat_map(|(before, after)| [*before, *after]).collect();
    let padded = x.f_pad(&pads, "constant", Some(fill)).context(scope)?;
    Ok((padded, vec![0; kernel.len()]))
}

/// The extent of a kernel dilated by `rate`.
pub(crate) fn dilated(kernel: Pair, rate: Pair) -> Pair {
    Pair((kernel.0 - 1) * rate.0 + 1, (kernel.1 - 1) * rate.1 + 1)
}

/// The extents of a kernel dilated by `rate`, per spatial axis.
pub(crate) fn dilated_nd(kernel: &[i64], rate: &[i64]) -> Vec<i64> {
    kernel.iter().zip(rate).map(|(k, r)| (k - 1) * r + 1).collect()
}
