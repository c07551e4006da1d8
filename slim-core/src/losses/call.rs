//! The losses themselves: each function returns a [`LossCall`] to set weights and scope on, and `call()`
//! computes the element-wise losses, reduces them and adds the result to the loss collection. Reduced-precision
//! inputs (bfloat16 or half, as a mixed-precision forward pass returns them) are taken in float32.

use tch::{Kind, Tensor};

use super::collection::add_named_loss;
use super::weighted::{Weights, weighted_mean};
use crate::backend::full_precision;
use crate::error::TorchContext;
use crate::variables::collections::LOSSES;
use crate::variables::{current_scope_name, join_name};
use crate::{Error, Result};

/// Which loss, with its inputs and own parameters.
#[derive(Debug)]
enum LossKind {
    SoftmaxCrossEntropy { logits: Tensor, onehot_labels: Tensor },
    SparseSoftmaxCrossEntropy { logits: Tensor, labels: Tensor },
    SigmoidCrossEntropy { logits: Tensor, labels: Tensor },
    LogLoss { predictions: Tensor, labels: Tensor },
    MeanSquaredError { predictions: Tensor, labels: Tensor },
    AbsoluteDifference { predictions: Tensor, labels: Tensor },
    CosineDistance { predictions: Tensor, labels: Tensor, axis: i64 },
}

impl LossKind {
    /// TF-Slim's default scope of the loss.
    fn default_scope(&self) -> &'static str {
        match self {
            LossKind::SoftmaxCrossEntropy { .. } => "softmax_cross_entropy_loss",
            LossKind::SparseSoftmaxCrossEntropy { .. } => "sparse_softmax_cross_entropy_loss",
            LossKind::SigmoidCrossEntropy { .. } => "sigmoid_cross_entropy_loss",
            LossKind::LogLoss { .. } => "log_loss",
            LossKind::MeanSquaredError { .. } => "mean_squared_error",
            LossKind::AbsoluteDifference { .. } => "absolute_difference",
            LossKind::CosineDistance { .. } => "cosine_distance_loss",
        }
    }
}

/// A loss being configured; finish it with [`LossCall::call`].
#[derive(Debug)]
pub struct LossCall {
    kind: LossKind,
    weights: Weights,
    label_smoothing: Option<f64>,
    epsilon: Option<f64>,
    scope: Option<String>,
    collection: Option<String>,
}

impl LossCall {
    fn new(kind: LossKind) -> Self {
        LossCall {
            kind,
            weights: Weights::Scalar(1.0),
            label_smoothing: None,
            epsilon: None,
            scope: None,
            collection: Some(LOSSES.to_string()),
        }
    }

    /// Weights (default 1.0): a scalar, one per example (`[batch]` or `[batch, 1]`), or a shape that broadcasts
    /// to the losses' (see [`compute_weighted_loss`](super::compute_weighted_loss)).
    pub fn weights(mut self, weights: impl Into<Weights>) -> Self {
        self.weights = weights.into();
        self
    }

    /// Label smoothing for the cross-entropy losses (default 0): softmax labels move toward `1/num_classes`,
    /// sigmoid labels toward 0.5.
    pub fn label_smoothing(mut self, label_smoothing: f64) -> Self {
        self.label_smoothing = Some(label_smoothing);
        self
    }

    /// `log_loss`'s epsilon (default 1e-7).
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = Some(epsilon);
        self
    }

    /// The name scope of the loss (default TF-Slim's, e.g. `softmax_cross_entropy_loss`).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The collection the loss joins (default `LOSSES`; `None` for none).
    pub fn loss_collection(mut self, collection: Option<&str>) -> Self {
        self.collection = collection.map(str::to_string);
        self
    }

    /// Computes the loss: a scalar, added to the loss collection as `<scope>/value`.
    pub fn call(self) -> Result<Tensor> {
        let scope = join_name(&current_scope_name(), self.scope.as_deref().unwrap_or(self.kind.default_scope()));
        self.check_options(&scope)?;
        let loss = match self.mean_in_one_kernel(&scope)? {
            Some(loss) => loss,
            None => weighted_mean(&scope, &self.elementwise(&scope)?, &self.weights)?,
        };
        if let Some(collection) = &self.collection {
            add_named_loss(collection, &join_name(&scope, "value"), &loss)?;
        }
        Ok(loss)
    }

    /// The sparse softmax cross entropy under one scalar weight, reduced to its mean inside libtorch's loss
    /// kernel: the same value as `weighted_mean` of the per-example losses, without the separate mean's
    /// forward and backward operations. `None` for every other loss and weighting.
    fn mean_in_one_kernel(&self, scope: &str) -> Result<Option<Tensor>> {
        let (LossKind::SparseSoftmaxCrossEntropy { logits, labels }, Weights::Scalar(weight)) =
            (&self.kind, &self.weights)
        else {
            return Ok(None);
        };
        if *weight == 0.0 || logits.numel() == 0 {
            return Ok(None);
        }
        let mean = sparse_cross_entropy(scope, logits, labels, tch::Reduction::Mean)?;
        Ok(Some(if *weight == 1.0 { mean } else { mean * *weight }))
    }

    fn check_options(&self, scope: &str) -> Result<()> {
        let smoothing_applies =
            matches!(self.kind, LossKind::SoftmaxCrossEntropy { .. } | LossKind::SigmoidCrossEntropy { .. });
        if self.label_smoothing.is_some() && !smoothing_applies {
            return Err(Error::invalid(
                scope,
                "label_smoothing applies to the softmax and sigmoid cross entropies only",
            ));
        }
        if self.epsilon.is_some() && !matches!(self.kind, LossKind::LogLoss { .. }) {
            return Err(Error::invalid(scope, "epsilon applies to log_loss only"));
        }
        if let Some(smoothing) = self.label_smoothing.filter(|s| !(0.0..=1.0).contains(s)) {
            return Err(Error::invalid(scope, format!("label_smoothing must be in [0, 1], got {smoothing}")));
        }
        if matches!(self.kind, LossKind::SoftmaxCrossEntropy { .. } | LossKind::SparseSoftmaxCrossEntropy { .. })
            && matches!(&self.weights, Weights::Tensor(w) if w.size().iter().skip(1).any(|&d| d != 1))
        {
            return Err(Error::invalid(
                scope,
                "softmax cross entropy takes a scalar weight or one per example ([batch] or [batch, 1])",
            ));
        }
        Ok(())
    }

    /// The loss of each element (each example, for the softmax cross entropies).
    fn elementwise(&self, scope: &str) -> Result<Tensor> {
        let smoothing = self.label_smoothing.unwrap_or(0.0);
        match &self.kind {
            LossKind::SoftmaxCrossEntropy { logits, onehot_labels } => {
                same_shape(scope, "logits", logits, "onehot_labels", onehot_labels)?;
                check_rank(scope, logits, 2)?;
                let classes = logits.size()[1] as f64;
                let labels = onehot_labels.to_kind(Kind::Float) * (1.0 - smoothing) + smoothing / classes;
                let log_probabilities = logits.f_log_softmax(1, Kind::Float).context(scope)?;
                Ok(-(labels * log_probabilities).sum_dim_intlist(1, false, Kind::Float))
            }
            LossKind::SparseSoftmaxCrossEntropy { logits, labels } => {
                sparse_cross_entropy(scope, logits, labels, tch::Reduction::None)
            }
            LossKind::SigmoidCrossEntropy { logits, labels } => {
                same_shape(scope, "logits", logits, "multi_class_labels", labels)?;
                let z = labels.to_kind(Kind::Float) * (1.0 - smoothing) + 0.5 * smoothing;
                Ok(logits.clamp_min(0.0) - logits * z + (-logits.abs()).exp().log1p())
            }
            LossKind::LogLoss { predictions, labels } => {
                same_shape(scope, "predictions", predictions, "labels", labels)?;
                let epsilon = self.epsilon.unwrap_or(1e-7);
                let labels = labels.to_kind(Kind::Float);
                let positive = -(&labels * (predictions + epsilon).log());
                let negative: Tensor = (-labels + 1.0) * (-predictions + (1.0 + epsilon)).log();
                Ok(positive - negative)
            }
            LossKind::MeanSquaredError { predictions, labels } => {
                same_shape(scope, "predictions", predictions, "labels", labels)?;
                Ok((predictions - labels).square())
            }
            LossKind::AbsoluteDifference { predictions, labels } => {
                same_shape(scope, "predictions", predictions, "labels", labels)?;
                Ok((predictions - labels).abs())
            }
            LossKind::CosineDistance { predictions, labels, axis } => {
                same_shape(scope, "predictions", predictions, "labels", labels)?;
                let rank = predictions.dim() as i64;
                if !(-rank..rank).contains(axis) {
                    return Err(Error::invalid(scope, format!("axis {axis} is out of range for rank {rank}")));
                }
                Ok(-(predictions * labels).sum_dim_intlist(*axis, true, Kind::Float) + 1.0)
            }
        }
    }
}

fn same_shape(scope: &str, a_name: &str, a: &Tensor, b_name: &str, b: &Tensor) -> Result<()> {
    if a.size() != b.size() {
        return Err(Error::invalid(
            scope,
            format!("{a_name} of shape {:?} and {b_name} of shape {:?} must have the same shape", a.size(), b.size()),
        ));
    }
    Ok(())
}

fn check_rank(scope: &str, logits: &Tensor, rank: usize) -> Result<()> {
    if logits.dim() != rank {
        return Err(Error::invalid(scope, format!("logits must have rank {rank}, got shape {:?}", logits.size())));
    }
    Ok(())
}

/// libtorch's fused log-softmax and NLL of `logits` `[batch, classes]` against class `labels`, reduced by
/// `reduction`; its own bounds check (no label is ignored) finds labels outside `[0, classes)`.
fn sparse_cross_entropy(scope: &str, logits: &Tensor, labels: &Tensor, reduction: tch::Reduction) -> Result<Tensor> {
    check_rank(scope, logits, 2)?;
    let labels = sparse_labels(scope, logits, labels)?;
    logits.f_cross_entropy_loss::<Tensor>(&labels, None, reduction, i64::MIN, 0.0).map_err(|e| {
        let classes = logits.size()[1];
        Error::invalid(scope, format!("labels must be classes in [0, {classes}) ({e})"))
    })
}

/// Labels of shape `[batch]` or `[batch, 1]` as int64 `[batch]` (the loss kernel checks their range).
fn sparse_labels(scope: &str, logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let batch = logits.size()[0];
    let as_int64 = || match labels.kind() {
        Kind::Int64 => labels.shallow_clone(),
        _ => labels.to_kind(Kind::Int64),
    };
    let labels = match labels.size().as_slice() {
        [b] if *b == batch => as_int64(),
        [b, 1] if *b == batch => as_int64().squeeze_dim(1),
        other => {
            return Err(Error::invalid(
                scope,
                format!("labels must have shape [{batch}] or [{batch}, 1], got {other:?}"),
            ));
        }
    };
    Ok(labels)
}

/// TF-Slim's `softmax_cross_entropy(logits, onehot_labels)`: logits `[batch, classes]`, one-hot labels of the same
/// shape; weights are a scalar or one per example (`[batch]` or `[batch, 1]`).
pub fn softmax_cross_entropy(logits: &Tensor, onehot_labels: &Tensor) -> LossCall {
    let (logits, onehot_labels) = (full_precision(logits), full_precision(onehot_labels));
    LossCall::new(LossKind::SoftmaxCrossEntropy { logits, onehot_labels })
}

/// TF-Slim's `sparse_softmax_cross_entropy(logits, labels)`: labels are class indices, `[batch]` or `[batch, 1]`.
pub fn sparse_softmax_cross_entropy(logits: &Tensor, labels: &Tensor) -> LossCall {
    LossCall::new(LossKind::SparseSoftmaxCrossEntropy {
        logits: full_precision(logits),
        labels: full_precision(labels),
    })
}

/// TF-Slim's `sigmoid_cross_entropy(logits, multi_class_labels)`: an independent binary cross entropy per element.
pub fn sigmoid_cross_entropy(logits: &Tensor, multi_class_labels: &Tensor) -> LossCall {
    let (logits, labels) = (full_precision(logits), full_precision(multi_class_labels));
    LossCall::new(LossKind::SigmoidCrossEntropy { logits, labels })
}

/// TF-Slim's `log_loss(predictions, labels)`: `-y·log(p + ε) − (1 − y)·log(1 − p + ε)` per element.
pub fn log_loss(predictions: &Tensor, labels: &Tensor) -> LossCall {
    LossCall::new(LossKind::LogLoss { predictions: full_precision(predictions), labels: full_precision(labels) })
}

/// TF-Slim's `mean_squared_error(predictions, labels)` (once called `sum_of_squares`).
pub fn mean_squared_error(predictions: &Tensor, labels: &Tensor) -> LossCall {
    LossCall::new(LossKind::MeanSquaredError {
        predictions: full_precision(predictions),
        labels: full_precision(labels),
    })
}

/// TF-Slim's `absolute_difference(predictions, labels)`.
pub fn absolute_difference(predictions: &Tensor, labels: &Tensor) -> LossCall {
    let (predictions, labels) = (full_precision(predictions), full_precision(labels));
    LossCall::new(LossKind::AbsoluteDifference { predictions, labels })
}

/// TF-Slim's `cosine_distance(predictions, labels, axis)`: `1 − Σ_axis p·y`, for unit-normalized inputs.
pub fn cosine_distance(predictions: &Tensor, labels: &Tensor, axis: i64) -> LossCall {
    let (predictions, labels) = (full_precision(predictions), full_precision(labels));
    LossCall::new(LossKind::CosineDistance { predictions, labels, axis })
}

/// TF-Slim's `hinge_loss(logits, labels)`: element-wise `max(0, 1 − (2y − 1)·x)` for labels in {0, 1},
/// unreduced and not added to any collection (as in TF-Slim).
pub fn hinge_loss(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    same_shape("hinge_loss", "logits", logits, "labels", labels)?;
    let signs = labels.to_kind(Kind::Float) * 2.0 - 1.0;
    let margins: Tensor = -(signs * full_precision(logits)) + 1.0;
    Ok(margins.clamp_min(0.0))
}
