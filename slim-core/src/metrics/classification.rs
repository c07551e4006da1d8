//! Classification metrics: accuracy, precision, recall, the four counts, and recall at k.

use tch::{Kind, Tensor};

use super::weights::{broadcast_weights, check_same_shape, classes, sum};
use super::{StreamingMetric, safe_div};
use crate::{Error, Result};

/// TF-Slim's `streaming_accuracy`: the weighted fraction of predictions equal to their labels. A trailing
/// dimension of 1 on either side is squeezed, as TF does (`[batch, 1]` predictions against `[batch]` labels).
/// Scores with one more dimension than the labels (`[batch, classes]` logits against `[batch]` labels, more
/// than one class) are reduced to their argmax first, so a [`MetricMap`](super::MetricMap) can feed logits to
/// it and to [`RecallAtK`] alike.
#[derive(Clone, Debug, Default)]
pub struct Accuracy {
    correct: f64,
    total: f64,
}

impl StreamingMetric for Accuracy {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        let (predictions, labels) = &classes(predictions, labels);
        check_same_shape("accuracy", predictions, labels)?;
        let weights = broadcast_weights("accuracy", predictions, weights)?;
        let equal = predictions.flatten(0, -1).eq_tensor(&labels.flatten(0, -1).to_kind(predictions.kind()));
        self.correct += sum(&(equal.to_kind(Kind::Double) * &weights));
        self.total += sum(&weights);
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        safe_div(self.correct, self.total)
    }

    fn reset(&mut self) {
        *self = Accuracy::default();
    }
}

/// Weighted true/false positives and negatives of bool-like predictions and labels (non-zero is true): TF-Slim's
/// `streaming_{true,false}_{positives,negatives}` together; [`Precision`] and [`Recall`] read them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    /// Predicted true, labelled true.
    pub true_positives: f64,
    /// Predicted true, labelled false.
    pub false_positives: f64,
    /// Predicted false, labelled false.
    pub true_negatives: f64,
    /// Predicted false, labelled true.
    pub false_negatives: f64,
}

impl Counts {
    /// Adds a batch.
    pub fn update(
        &mut self,
        metric: &str,
        predictions: &Tensor,
        labels: &Tensor,
        weights: Option<&Tensor>,
    ) -> Result<()> {
        check_same_shape(metric, predictions, labels)?;
        let weights = broadcast_weights(metric, predictions, weights)?;
        let predicted = predictions.flatten(0, -1).ne(0.0);
        let actual = labels.flatten(0, -1).ne(0.0);
        let count = |p: &Tensor, l: &Tensor| sum(&(p.logical_and(l).to_kind(Kind::Double) * &weights));
        let (not_predicted, not_actual) = (predicted.logical_not(), actual.logical_not());
        self.true_positives += count(&predicted, &actual);
        self.false_positives += count(&predicted, &not_actual);
        self.true_negatives += count(&not_predicted, &not_actual);
        self.false_negatives += count(&not_predicted, &actual);
        Ok(())
    }
}

/// A metric that is one ratio of the [`Counts`] (0 when its denominator is 0).
macro_rules! counts_ratio {
    ($(#[$doc:meta])* $name:ident, $metric:literal, |$c:ident| ($numerator:expr, $denominator:expr)) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default)]
        pub struct $name {
            counts: Counts,
        }

        impl StreamingMetric for $name {
            fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
                self.counts.update($metric, predictions, labels, weights)?;
                Ok(self.value())
            }

            fn value(&self) -> f64 {
                let $c = &self.counts;
                safe_div($numerator, $denominator)
            }

            fn reset(&mut self) {
                *self = $name::default();
            }
        }
    };
}

counts_ratio!(
    /// TF-Slim's `streaming_precision`: TP / (TP + FP).
    Precision, "precision", |c| (c.true_positives, c.true_positives + c.false_positives)
);
counts_ratio!(
    /// TF-Slim's `streaming_recall`: TP / (TP + FN).
    Recall, "recall", |c| (c.true_positives, c.true_positives + c.false_negatives)
);
counts_ratio!(
    /// TF-Slim's `streaming_false_positive_rate`: FP / (FP + TN).
    FalsePositiveRate, "false_positive_rate", |c| (c.false_positives, c.false_positives + c.true_negatives)
);
counts_ratio!(
    /// TF-Slim's `streaming_false_negative_rate`: FN / (FN + TP).
    FalseNegativeRate, "false_negative_rate", |c| (c.false_negatives, c.false_negatives + c.true_positives)
);

/// TF-Slim's `streaming_recall_at_k(predictions, labels, k)`: the weighted fraction of examples whose label is
/// among the `k` highest scores (`[batch, classes]` scores, `[batch]` class labels; as TF's `in_top_k`, a label
/// counts when fewer than `k` classes score strictly higher).
#[derive(Clone, Debug)]
pub struct RecallAtK {
    k: i64,
    hits: f64,
    total: f64,
}

impl RecallAtK {
    /// Recall at `k` (positive).
    pub fn new(k: i64) -> Result<Self> {
        if k < 1 {
            return Err(Error::invalid("recall_at_k", format!("k must be positive, got {k}")));
        }
        Ok(RecallAtK { k, hits: 0.0, total: 0.0 })
    }
}

impl StreamingMetric for RecallAtK {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        let size = predictions.size();
        let [batch, classes] = size.as_slice() else {
            return Err(Error::invalid("recall_at_k", format!("predictions must be [batch, classes], got {size:?}")));
        };
        if self.k > *classes {
            return Err(Error::invalid("recall_at_k", format!("k = {} is more than the {classes} classes", self.k)));
        }
        if labels.numel() as i64 != *batch {
            return Err(Error::invalid(
                "recall_at_k",
                format!("{batch} examples but labels of shape {:?}", labels.size()),
            ));
        }
        let labels = labels.reshape([*batch, 1]).to_kind(Kind::Int64);
        let target = predictions.gather(1, &labels, false);
        let higher = predictions.gt_tensor(&target).sum_dim_intlist(1, false, Kind::Int64);
        let hit = higher.lt(self.k).to_kind(Kind::Double);
        let weights = broadcast_weights("recall_at_k", &hit, weights)?;
        self.hits += sum(&(hit * &weights));
        self.total += sum(&weights);
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        safe_div(self.hits, self.total)
    }

    fn reset(&mut self) {
        (self.hits, self.total) = (0.0, 0.0);
    }
}
