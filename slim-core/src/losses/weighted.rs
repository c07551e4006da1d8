//! `compute_weighted_loss`: TF-Slim's reduction of element-wise losses by weights.

use tch::{Kind, Tensor};

use crate::error::TorchContext;
use crate::{Error, Result};

/// Loss weights: one for all elements, one per example (`[batch]`), or one per loss element.
#[derive(Debug)]
pub enum Weights {
    /// The same weight for every element.
    Scalar(f64),
    /// A tensor of shape `[]`, `[batch]` or the losses' shape.
    Tensor(Tensor),
}

impl From<f64> for Weights {
    fn from(weight: f64) -> Self {
        Weights::Scalar(weight)
    }
}

impl From<Tensor> for Weights {
    fn from(weights: Tensor) -> Self {
        Weights::Tensor(weights)
    }
}

impl From<&Tensor> for Weights {
    fn from(weights: &Tensor) -> Self {
        Weights::Tensor(weights.shallow_clone())
    }
}

impl Weights {
    /// The weights broadcast to `losses`' shape: a `[batch]` vector is viewed as `[batch, 1, …]`.
    fn broadcast(&self, scope: &str, losses: &Tensor) -> Result<Tensor> {
        let shape = losses.size();
        let weights = match self {
            Weights::Scalar(weight) => return Ok(Tensor::full(&shape, *weight, (losses.kind(), losses.device()))),
            Weights::Tensor(weights) => weights.to_kind(losses.kind()),
        };
        let given = weights.size();
        let viewed = match given.as_slice() {
            [] => weights,
            [batch] if shape.first() == Some(batch) => {
                let mut view = vec![1; shape.len()];
                view[0] = *batch;
                weights.view(view.as_slice())
            }
            _ if given == shape => weights,
            _ => {
                return Err(Error::invalid(
                    scope,
                    format!("weights of shape {given:?} must be a scalar, [batch] or the losses' shape {shape:?}"),
                ));
            }
        };
        viewed.f_expand(&shape, false).context(scope)
    }
}

/// TF-Slim's `compute_weighted_loss` without registering the result: `Σ(weights·losses) / n`, where `n` counts
/// the elements whose weight is not zero; 0 when `n` is 0.
pub(crate) fn weighted_mean(scope: &str, losses: &Tensor, weights: &Weights) -> Result<Tensor> {
    if let Weights::Scalar(weight) = weights {
        return Ok(scalar_weighted_mean(losses, *weight));
    }
    let weights = weights.broadcast(scope, losses)?;
    let total = (losses * &weights).sum(Kind::Float);
    let present = weights.ne(0.0).sum(Kind::Float);
    let zero = Tensor::zeros([], (Kind::Float, losses.device()));
    Ok(total.f_div(&present.clamp_min(1.0)).context(scope)?.where_self(&present.gt(0.0), &zero))
}

/// The same reduction for one weight `w` on every element: `w · mean(losses)` (every element counts unless
/// `w` is 0), in one or two ops rather than a broadcast weight tensor's nine.
fn scalar_weighted_mean(losses: &Tensor, weight: f64) -> Tensor {
    if weight == 0.0 || losses.numel() == 0 {
        return Tensor::zeros([], (Kind::Float, losses.device()));
    }
    let mean = losses.mean(Kind::Float);
    if weight == 1.0 { mean } else { mean * weight }
}

/// TF-Slim's `compute_weighted_loss(losses, weights)`: the weighted mean over the elements with a non-zero
/// weight (0 when there are none), added to the `LOSSES` collection as `weighted_loss/value`.
pub fn compute_weighted_loss(losses: &Tensor, weights: impl Into<Weights>) -> Result<Tensor> {
    let loss = weighted_mean("weighted_loss", losses, &weights.into())?;
    super::collection::add_named_loss(crate::variables::collections::LOSSES, "weighted_loss/value", &loss)?;
    Ok(loss)
}
