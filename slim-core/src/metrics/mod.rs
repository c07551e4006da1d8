//! Streaming metrics with TF-Slim's contract: each metric accumulates batches with `update`, which returns the
//! new value; `value` only reads (calling it twice gives the same number); `reset` starts over. Weights
//! broadcast to the predictions and a weight of 0 masks an element; a division by zero gives 0. The accumulated
//! state lives in the metric (in f64), never in the variable store, so checkpoints do not hold it.

mod aggregate;
mod auc;
mod auc_confidence;
mod classification;
mod cohen_kappa;
mod concat;
mod confusion;
mod correlation;
mod dynamic_auc;
mod equal_thresholds;
mod f_score;
mod regression;
mod thresholds;
mod top_k;
mod weights;

pub use aggregate::{MetricMap, aggregate_metric_map};
pub use auc::{Auc, Curve};
pub use auc_confidence::{AucInterval, AucWithConfidenceIntervals};
pub use classification::{Accuracy, Counts, FalseNegativeRate, FalsePositiveRate, Precision, Recall, RecallAtK};
pub use cohen_kappa::CohenKappa;
pub use concat::Concat;
pub use confusion::{ConfusionMatrix, MeanIou};
pub use correlation::{Count, Covariance, PearsonCorrelation};
pub use dynamic_auc::DynamicAuc;
pub use equal_thresholds::{DEFAULT_EQUAL_THRESHOLDS, PrecisionRecallAtEqualThresholds, PrecisionRecallData};
pub use f_score::{FScore, FScoreAverage};
pub use regression::{
    Mean, MeanAbsoluteError, MeanCosineDistance, MeanRelativeError, MeanSquaredError, MeanTensor, PercentageLess,
    RootMeanSquaredError,
};
pub use thresholds::{
    CountsAtThresholds, CurvePoints, FallOutRate, FalseNegativeRateAtThresholds, FalsePositiveRateAtThresholds,
    MissRate, PrecisionAtRecall, PrecisionAtThresholds, PrecisionRate, RateAtThresholds, RecallAtPrecision,
    RecallAtThresholds, RecallRate, SensitivityAtSpecificity, SpecificityAtSensitivity, ThresholdRate,
};
pub use top_k::{SparseAveragePrecisionAtK, SparsePrecisionAtK, SparseRecallAtK};

use tch::Tensor;

use crate::Result;

/// A metric fed batches of predictions and labels (metrics of one tensor, such as [`Mean`], read the
/// predictions and ignore the labels).
pub trait StreamingMetric {
    /// Adds a batch, optionally weighted, and returns the value over everything seen since the last reset.
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64>;

    /// The value over everything seen since the last reset; reading it changes nothing.
    fn value(&self) -> f64;

    /// Forgets everything seen.
    fn reset(&mut self);
}

/// `numerator / denominator`, or 0 when the denominator is 0 (TF-Slim's `div_no_nan`).
pub(crate) fn safe_div(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 { 0.0 } else { numerator / denominator }
}
