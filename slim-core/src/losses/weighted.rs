//! `compute_weighted_loss`: TF-Slim's reduction of element-wise losses by weights.

use tch::{Kind, Tensor};

use crate::error::TorchContext;
use crate::{Error, Result};

/// Loss weights: one for all elements, one per example (`[batch]` or `[batch, 1]`), or any shape that
/// broadcasts to the losses' (`[1, k]` per column, the losses' own shape per element).
#[derive(Debug)]
pub enum Weights {
    /// The same weight for every element.
    Scalar(f64),
    /// A tensor that broadcasts to the losses' shape as [`compute_weighted_loss`] describes.
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
    /// The weights broadcast to `losses`' shape, as TF-Slim's `compute_weighted_loss` lines them up: trailing
    /// dimensions of size 1 beyond the losses' rank are dropped (`[batch, 1]` weights of `[batch]` losses),
    /// weights of a lower rank stand for the losses' leading dimensions (`[batch]` is viewed as
    /// `[batch, 1, …]`), and then every dimension is the losses' or 1. Any other shape is an error naming both.
    fn broadcast(&self, scope: &str, losses: &Tensor) -> Result<Tensor> {
        let shape = losses.size();
        let weights = match self {
            Weights::Scalar(weight) => return Ok(Tensor::full(&shape, *weight, (losses.kind(), losses.device()))),
            Weights::Tensor(weights) => weights.to_kind(losses.kind()),
        };
        let given = weights.size();
        let mut aligned = given.clone();
        while aligned.len() > shape.len() && aligned.last() == Some(&1) {
            aligned.pop();
        }
        if !aligned.is_empty() && aligned.len() < shape.len() {
            aligned.resize(shape.len(), 1);
        }
        let fits = aligned.is_empty()
            || (aligned.len() == shape.len() && aligned.iter().zip(&shape).all(|(w, l)| w == l || *w == 1));
        if !fits {
            return Err(Error::invalid(
                scope,
                format!(
                    "weights of shape {given:?} do not broadcast to the losses' shape {shape:?} (a scalar, \
                     [batch], [batch, 1], or each dimension the losses' or 1)"
                ),
            ));
        }
        weights.f_view(aligned.as_slice()).context(scope)?.f_expand(&shape, false).context(scope)
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
/// weight (0 when there are none), added to the `LOSSES` collection as `weighted_loss/value`. Weights are a
/// scalar, or a tensor lined up with the losses as TF-Slim does it (a trailing 1 beyond the losses' rank
/// dropped, a lower rank standing for the leading dimensions) that broadcasts to their shape; the elements
/// counted are those of the broadcast weights that are not zero (`tf.losses`' `SUM_BY_NONZERO_WEIGHTS`, which
/// TF-Slim's scripts use; `tf_slim.losses` counts a `[1, k]` weight's k only once).
pub fn compute_weighted_loss(losses: &Tensor, weights: impl Into<Weights>) -> Result<Tensor> {
    let loss = weighted_mean("weighted_loss", &crate::backend::full_precision(losses), &weights.into())?;
    super::collection::add_named_loss(crate::variables::collections::LOSSES, "weighted_loss/value", &loss)?;
    Ok(loss)
}
