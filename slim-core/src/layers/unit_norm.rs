//! `unit_norm`: scale to unit L2 norm along one axis.

use tch::Tensor;

use crate::error::TorchContext;
use crate::{Error, Result};

/// TF-Slim's `unit_norm(inputs, dim, epsilon)`: `x / sqrt(epsilon + Σ x²)` along `dim`, which must lie in
/// `[0, rank)`.
pub fn unit_norm(inputs: &Tensor, dim: i64, epsilon: f64) -> Result<Tensor> {
    let rank = inputs.dim() as i64;
    if !(0..rank).contains(&dim) {
        return Err(Error::invalid("UnitNorm", format!("dim must be in [0, {rank}), got {dim}")));
    }
    let squares = inputs.square().f_sum_dim_intlist(Some([dim].as_slice()), true, inputs.kind()).context("UnitNorm")?;
    Ok(inputs / (squares + epsilon).sqrt())
}
