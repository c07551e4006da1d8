//! `flatten`: `[batch, …]` to `[batch, ∏…]`.

use tch::Tensor;

use crate::error::TorchContext;
use crate::{Error, Result};

/// TF-Slim's `flatten`: keeps the first axis and merges the rest; a `[5]` input becomes `[5, 1]`.
pub fn flatten(inputs: &Tensor) -> Result<Tensor> {
    let shape = inputs.size();
    let Some(&batch) = shape.first() else {
        return Err(Error::invalid("Flatten", "inputs must have a least 1 dimension, got a scalar"));
    };
    let rest: i64 = shape[1..].iter().product();
    inputs.f_reshape([batch, rest]).context("Flatten")
}
