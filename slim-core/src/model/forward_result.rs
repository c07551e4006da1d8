//! What a model's forward body may end in: a `Tensor`, or a `Result<Tensor>` already.

use tch::Tensor;

use crate::Result;

/// Turns the value a `#[slim::model]` forward body ends in into the forward's `Result<Tensor>`.
pub trait IntoForwardResult {
    /// The body's value as a result.
    fn into_forward_result(self) -> Result<Tensor>;
}

impl IntoForwardResult for Tensor {
    fn into_forward_result(self) -> Result<Tensor> {
        Ok(self)
    }
}

impl IntoForwardResult for Result<Tensor> {
    fn into_forward_result(self) -> Result<Tensor> {
        self
    }
}
