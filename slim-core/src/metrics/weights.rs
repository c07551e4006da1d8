//! Checking metric inputs and broadcasting their weights, as TF-Slim does.

use tch::{Kind, Tensor};

use crate::{Error, Result};

/// An error naming `metric` unless every one of `predictions` lies in [0, 1] (an empty tensor passes).
pub(crate) fn check_unit_interval(metric: &str, predictions: &Tensor) -> Result<()> {
    if predictions.numel() == 0 {
        return Ok(());
    }
    let (low, high) = (predictions.min().double_value(&[]), predictions.max().double_value(&[]));
    if (0.0..=1.0).contains(&low) && (0.0..=1.0).contains(&high) {
        return Ok(());
    }
    Err(Error::invalid(metric, format!("predictions must lie in [0, 1], got {low} to {high}")))
}

/// `predictions` and `labels` after squeezing size-1 dimensions must have the same shape; an error naming the
/// metric otherwise.
pub(crate) fn check_same_shape(metric: &str, predictions: &Tensor, labels: &Tensor) -> Result<()> {
    let squeezed = |t: &Tensor| -> Vec<i64> { t.size().into_iter().filter(|d| *d != 1).collect() };
    if squeezed(predictions) != squeezed(labels) {
        return Err(Error::invalid(
            metric,
            format!(
                "predictions of shape {:?} and labels of shape {:?} do not match",
                predictions.size(),
                labels.size()
            ),
        ));
    }
    Ok(())
}

/// The weights (default 1) broadcast to `values`' shape (a scalar, one per example, or one per element) and
/// flattened, as f64; an error when they cannot be.
pub(crate) fn broadcast_weights(metric: &str, values: &Tensor, weights: Option<&Tensor>) -> Result<Tensor> {
    let shape = values.size();
    let numel = values.numel() as i64;
    let Some(weights) = weights else { return Ok(Tensor::ones([numel], (Kind::Double, values.device()))) };
    let weights = weights.to_kind(Kind::Double);
    let rows = shape.first().copied().unwrap_or(1);
    let flat = match weights.numel() as i64 {
        1 => weights.reshape([1]).expand([numel], false),
        n if n == numel => weights.flatten(0, -1),
        n if n == rows && shape.len() > 1 => {
            let mut view = vec![1i64; shape.len()];
            view[0] = rows;
            weights.reshape(view.as_slice()).expand(shape.as_slice(), false).flatten(0, -1)
        }
        _ => {
            return Err(Error::invalid(
                metric,
                format!("weights of shape {:?} do not broadcast to {} values", weights.size(), values.numel()),
            ));
        }
    };
    Ok(flat)
}

/// Σ of a double tensor, as f64.
pub(crate) fn sum(t: &Tensor) -> f64 {
    t.sum(Kind::Double).double_value(&[])
}

/// Class predictions and labels lined up: when their ranks differ by one and the longer one's last dimension
/// is 1, it is squeezed (TF's `remove_squeezable_dimensions`: `[batch, 1]` predictions are `[batch]` classes,
/// never one column of scores); floating-point scores of one more dimension than the labels
/// (`[batch, classes]` against `[batch]`) are reduced to their argmax; anything else is taken as classes.
pub(crate) fn classes(predictions: &Tensor, labels: &Tensor) -> (Tensor, Tensor) {
    let squeezable =
        |longer: &Tensor, shorter: &Tensor| longer.dim() == shorter.dim() + 1 && longer.size().last() == Some(&1);
    if squeezable(predictions, labels) {
        return (predictions.squeeze_dim(-1), labels.shallow_clone());
    }
    if squeezable(labels, predictions) {
        return (predictions.shallow_clone(), labels.squeeze_dim(-1));
    }
    let scores = predictions.dim() == labels.dim() + 1 && predictions.is_floating_point();
    let predictions = if scores { predictions.argmax(-1, false) } else { predictions.shallow_clone() };
    (predictions, labels.shallow_clone())
}
