//! `softmax` over the last axis.

use tch::Tensor;

use crate::error::TorchContext;
use crate::{Error, Result};

/// TF-Slim's `softmax`: normalizes the last axis of an N-D tensor.
pub fn softmax(logits: &Tensor) -> Result<Tensor> {
    if logits.dim() == 0 {
        return Err(Error::invalid("softmax", "logits must have at least one axis, got a scalar"));
    }
    logits.f_softmax(-1, logits.kind()).context("softmax")
}
