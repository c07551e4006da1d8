//! `flatten`: `[batch, …]` to `[batch, ∏…]`, a feature map's rows in TF's H, W, C order.

use tch::Tensor;

use crate::error::TorchContext;
use crate::{Error, Result};

/// TF-Slim's `flatten`: keeps the first axis and merges the rest; a `[5]` input becomes `[5, 1]`.
///
/// A 4-D input is an `[n, c, h, w]` feature map, and its rows come out in **H, W, C order**, the order
/// TF-Slim's NHWC flatten gives, so a dense layer after it (LeNet's and CifarNet's `fc3`) takes a TF-Slim
/// checkpoint's weights as they are. For a feature map in channels-last memory this is a view; in NCHW memory
/// it is one copy. PyTorch's C, H, W order (torchvision's classifiers) is `Tensor::flatten(1, -1)`.
pub fn flatten(inputs: &Tensor) -> Result<Tensor> {
    let rows = match inputs.dim() {
        0 => return Err(Error::invalid("Flatten", "inputs must have a least 1 dimension, got a scalar")),
        1 => inputs.f_unsqueeze(1),
        4 => inputs.f_permute([0, 2, 3, 1]).and_then(|nhwc| nhwc.f_flatten(1, -1)),
        _ => inputs.f_flatten(1, -1),
    };
    // `flatten` rather than a reshape to sizes read here, so a TorchScript trace keeps the batch size free.
    rows.context("Flatten")
}
