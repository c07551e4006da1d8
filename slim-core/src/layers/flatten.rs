//! `flatten`: `[batch, …]` to `[batch, ∏…]`.

use tch::{Device, Kind, Tensor};

use crate::backend::memory_format::is_channels_last;
use crate::error::TorchContext;
use crate::{Error, Result};

/// TF-Slim's `flatten`: keeps the first axis and merges the rest; a `[5]` input becomes `[5, 1]`.
pub fn flatten(inputs: &Tensor) -> Result<Tensor> {
    let shape = inputs.size();
    let Some(&batch) = shape.first() else {
        return Err(Error::invalid("Flatten", "inputs must have a least 1 dimension, got a scalar"));
    };
    if is_channels_last(inputs) {
        return flatten_channels_last(inputs, &shape).context("Flatten");
    }
    let rest: i64 = shape[1..].iter().product();
    inputs.f_reshape([batch, rest]).context("Flatten")
}

/// The same values for an `[n, c, h, w]` tensor held in NHWC memory: its memory read as `[n, h·w·c]` rows (a view)
/// and the columns gathered into C, H, W order. A reshape would copy it into NCHW memory and hand the layer
/// before an NCHW gradient (a slower pooling backward pass, after another copy); the gather's gradient is
/// scattered back into NHWC memory.
fn flatten_channels_last(inputs: &Tensor, shape: &[i64]) -> tch::Result<Tensor> {
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]);
    let rows = inputs.f_permute([0, 2, 3, 1])?.f_reshape([n, h * w * c])?;
    // Column j = ci·h·w + pixel of the NCHW order is at pixel·c + ci in the NHWC rows.
    let order = Tensor::f_arange(h * w * c, (Kind::Int64, Device::Cpu))?.f_view([h * w, c])?.f_t_()?;
    rows.f_index_select(1, &order.f_reshape([-1])?.f_to_device(inputs.device())?)
}
