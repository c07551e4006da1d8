//! Confusion counts at thresholds (TF's `_confusion_matrix_at_thresholds`) and the metrics read from them:
//! precision and recall at thresholds, sensitivity at a specificity, specificity at a sensitivity. As in TF, a
//! prediction counts as positive above a threshold (strictly), compared in float32, and predictions must lie in
//! [0, 1].

use tch::{Kind, Tensor};

use super::StreamingMetric;
use super::weights::{broadcast_weights, check_same_shape, check_unit_interval};
use crate::{Error, Result};

/// TF's epsilon against division by zero in these metrics.
const EPSILON: f64 = 1e-7;

/// Weighted true/false positive/negative counts at each threshold, over every batch since the last reset (TF's
/// `true_positives_at_thresholds` and its three siblings).
#[derive(Clone, Debug)]
pub struct CountsAtThresholds {
    thresholds: Vec<f32>,
    true_positives: Vec<f64>,
    false_negatives: Vec<f64>,
    true_negatives: Vec<f64>,
    false_positives: Vec<f64>,
}

impl CountsAtThresholds {
    /// Counts at `thresholds`, each in [0, 1]; an error naming `metric` and the first one outside.
    pub fn new(metric: &str, thresholds: &[f64]) -> Result<Self> {
        if let Some(bad) = thresholds.iter().find(|t| !(0.0..=1.0).contains(*t)) {
            return Err(Error::invalid(metric, format!("thresholds must lie in [0, 1], got {bad}")));
        }
        Ok(Self::at(thresholds))
    }

    /// Counts at `thresholds` as given (TF's own lists reach just past 0 and 1).
    pub(crate) fn at(thresholds: &[f64]) -> Self {
        let zeros = vec![0.0; thresholds.len()];
        CountsAtThresholds {
            thresholds: thresholds.iter().map(|t| *t as f32).collect(),
            true_positives: zeros.clone(),
            false_negatives: zeros.clone(),
            true_negatives: zeros.clone(),
            false_positives: zeros,
        }
    }

    /// TF's `num_thresholds` evenly spaced thresholds `i / (n − 1)` with the ends moved to `−1e-7` and
    /// `last` (`1 + 1e-7` or `1 − 1e-7`, as each TF metric has it); `num_thresholds` at least 2.
    pub(crate) fn evenly_spaced(metric: &str, num_thresholds: usize, last: f64) -> Result<Self> {
        if num_thresholds < 2 {
            return Err(Error::invalid(metric, format!("num_thresholds must be at least 2, got {num_thresholds}")));
        }
        let inner = (0..num_thresholds - 2).map(|i| (i + 1) as f64 / (num_thresholds - 1) as f64);
        let thresholds: Vec<f64> = std::iter::once(-EPSILON).chain(inner).chain(std::iter::once(last)).collect();
        Ok(Self::at(&thresholds))
    }

    /// Adds a batch of `predictions` in [0, 1] against bool-like `labels` (non-zero is positive), weighted; an
    /// error naming `metric` for mismatched shapes or a prediction outside [0, 1].
    pub fn update(
        &mut self,
        metric: &str,
        predictions: &Tensor,
        labels: &Tensor,
        weights: Option<&Tensor>,
    ) -> Result<()> {
        check_same_shape(metric, predictions, labels)?;
        let weights = broadcast_weights(metric, predictions, weights)?;
        let predictions = predictions.flatten(0, -1).to_kind(Kind::Float);
        check_unit_interval(metric, &predictions)?;
        let positive = labels.flatten(0, -1).ne(0.0);
        let negative = positive.logical_not();
        let thresholds = Tensor::from_slice(&self.thresholds).unsqueeze(1);
        let above = predictions.unsqueeze(0).gt_tensor(&thresholds);
        let below = above.logical_not();
        let counts = |mask: &Tensor, label: &Tensor| -> Vec<f64> {
            let weighted = mask.logical_and(&label.unsqueeze(0)).to_kind(Kind::Double) * weights.unsqueeze(0);
            Vec::<f64>::try_from(weighted.sum_dim_intlist(1, false, Kind::Double)).unwrap_or_default()
        };
        let add = |total: &mut Vec<f64>, batch: Vec<f64>| total.iter_mut().zip(batch).for_each(|(t, b)| *t += b);
        add(&mut self.true_positives, counts(&above, &positive));
        add(&mut self.false_negatives, counts(&below, &positive));
        add(&mut self.true_negatives, counts(&below, &negative));
        add(&mut self.false_positives, counts(&above, &negative));
        Ok(())
    }

    /// The thresholds.
    pub fn thresholds(&self) -> Vec<f64> {
        self.thresholds.iter().map(|t| f64::from(*t)).collect()
    }

    /// Weighted true positives at each threshold.
    pub fn true_positives(&self) -> &[f64] {
        &self.true_positives
    }

    /// Weighted false negatives at each threshold.
    pub fn false_negatives(&self) -> &[f64] {
        &self.false_negatives
    }

    /// Weighted true negatives at each threshold.
    pub fn true_negatives(&self) -> &[f64] {
        &self.true_negatives
    }

    /// Weighted false positives at each threshold.
    pub fn false_positives(&self) -> &[f64] {
        &self.false_positives
    }

    /// Forgets every count.
    pub fn reset(&mut self) {
        for counts in
            [&mut self.true_positives, &mut self.false_negatives, &mut self.true_negatives, &mut self.false_positives]
        {
            counts.iter_mut().for_each(|c| *c = 0.0);
        }
    }

    /// `part / (part + rest + 1e-7)` at every threshold, as TF computes it in float32.
    fn ratios(part: &[f64], rest: &[f64]) -> Vec<f32> {
        part.iter().zip(rest).map(|(p, r)| (*p as f32) / ((*p as f32) + (*r as f32) + EPSILON as f32)).collect()
    }
}

/// Which ratio of the counts a [`RateAtThresholds`] reads: `part / (1e-7 + part + rest)`, in float32 and in
/// TF-Slim's order of additions.
pub trait ThresholdRate {
    /// TF-Slim's name of the metric.
    const METRIC: &'static str;
    /// The counts over the numerator and the denominator.
    fn part(counts: &CountsAtThresholds) -> &[f64];
    /// The other counts of the denominator.
    fn rest(counts: &CountsAtThresholds) -> &[f64];
}

/// Precision: true positives over everything predicted positive.
#[derive(Clone, Copy, Debug)]
pub struct PrecisionRate;

impl ThresholdRate for PrecisionRate {
    const METRIC: &'static str = "precision_at_thresholds";
    fn part(counts: &CountsAtThresholds) -> &[f64] {
        &counts.true_positives
    }
    fn rest(counts: &CountsAtThresholds) -> &[f64] {
        &counts.false_positives
    }
}

/// Recall: true positives over everything labelled positive.
#[derive(Clone, Copy, Debug)]
pub struct RecallRate;

impl ThresholdRate for RecallRate {
    const METRIC: &'static str = "recall_at_thresholds";
    fn part(counts: &CountsAtThresholds) -> &[f64] {
        &counts.true_positives
    }
    fn rest(counts: &CountsAtThresholds) -> &[f64] {
        &counts.false_negatives
    }
}

/// The false-positive rate (fall-out): false positives over everything labelled negative.
#[derive(Clone, Copy, Debug)]
pub struct FallOutRate;

impl ThresholdRate for FallOutRate {
    const METRIC: &'static str = "false_positive_rate_at_thresholds";
    fn part(counts: &CountsAtThresholds) -> &[f64] {
        &counts.false_positives
    }
    fn rest(counts: &CountsAtThresholds) -> &[f64] {
        &counts.true_negatives
    }
}

/// The false-negative rate (miss rate): false negatives over everything labelled positive.
#[derive(Clone, Copy, Debug)]
pub struct MissRate;

impl ThresholdRate for MissRate {
    const METRIC: &'static str = "false_negative_rate_at_thresholds";
    fn part(counts: &CountsAtThresholds) -> &[f64] {
        &counts.false_negatives
    }
    fn rest(counts: &CountsAtThresholds) -> &[f64] {
        &counts.true_positives
    }
}

/// A rate at each threshold (vector-valued: one value per threshold).
#[derive(Clone, Debug)]
pub struct RateAtThresholds<R: ThresholdRate> {
    counts: CountsAtThresholds,
    rate: std::marker::PhantomData<R>,
}

/// TF-Slim's `streaming_precision_at_thresholds`: `tp / (tp + fp + 1e-7)` at each threshold.
pub type PrecisionAtThresholds = RateAtThresholds<PrecisionRate>;

/// TF-Slim's `streaming_recall_at_thresholds`: `tp / (tp + fn + 1e-7)` at each threshold.
pub type RecallAtThresholds = RateAtThresholds<RecallRate>;

/// TF-Slim's `streaming_false_positive_rate_at_thresholds`: `fp / (fp + tn + 1e-7)` at each threshold.
pub type FalsePositiveRateAtThresholds = RateAtThresholds<FallOutRate>;

/// TF-Slim's `streaming_false_negative_rate_at_thresholds`: `fn / (fn + tp + 1e-7)` at each threshold.
pub type FalseNegativeRateAtThresholds = RateAtThresholds<MissRate>;

impl<R: ThresholdRate> RateAtThresholds<R> {
    /// At `thresholds`, each in [0, 1].
    pub fn new(thresholds: &[f64]) -> Result<Self> {
        Ok(RateAtThresholds { counts: CountsAtThresholds::new(R::METRIC, thresholds)?, rate: std::marker::PhantomData })
    }

    /// Adds a batch and returns the rate at each threshold over everything seen.
    pub fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<Vec<f64>> {
        self.counts.update(R::METRIC, predictions, labels, weights)?;
        Ok(self.values())
    }

    /// The rate at each threshold.
    pub fn values(&self) -> Vec<f64> {
        let epsilon = EPSILON as f32;
        let (part, rest) = (R::part(&self.counts), R::rest(&self.counts));
        part.iter().zip(rest).map(|(p, r)| f64::from((*p as f32) / (epsilon + *p as f32 + *r as f32))).collect()
    }

    /// Forgets everything seen.
    pub fn reset(&mut self) {
        self.counts.reset();
    }
}

/// A target rate in [0, 1], or an error naming the metric.
fn check_target(metric: &str, name: &str, target: f64) -> Result<()> {
    match (0.0..=1.0).contains(&target) {
        true => Ok(()),
        false => Err(Error::invalid(metric, format!("{name} must be in the range [0, 1], got {target}"))),
    }
}

/// TF-Slim's `streaming_sensitivity_at_specificity`: the recall at the threshold whose specificity is closest
/// to the target (the first such threshold), over `num_thresholds` thresholds (TF's default 200).
#[derive(Clone, Debug)]
pub struct SensitivityAtSpecificity {
    specificity: f64,
    counts: CountsAtThresholds,
}

impl SensitivityAtSpecificity {
    /// At `specificity` in [0, 1], with `num_thresholds` (at least 2).
    pub fn new(specificity: f64, num_thresholds: usize) -> Result<Self> {
        check_target("sensitivity_at_specificity", "specificity", specificity)?;
        let counts = CountsAtThresholds::evenly_spaced("sensitivity_at_specificity", num_thresholds, 1.0 + EPSILON)?;
        Ok(SensitivityAtSpecificity { specificity, counts })
    }
}

impl StreamingMetric for SensitivityAtSpecificity {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.counts.update("sensitivity_at_specificity", predictions, labels, weights)?;
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        let counts = &self.counts;
        let specificities = CountsAtThresholds::ratios(&counts.true_negatives, &counts.false_positives);
        let target = self.specificity as f32;
        let distance = |i: usize| (specificities[i] - target).abs();
        let index = (0..specificities.len()).fold(0, |best, i| if distance(i) < distance(best) { i } else { best });
        f64::from(CountsAtThresholds::ratios(&counts.true_positives, &counts.false_negatives)[index])
    }

    fn reset(&mut self) {
        self.counts.reset();
    }
}

/// TF-Slim's `streaming_specificity_at_sensitivity`: the specificity at the threshold whose recall is closest to
/// the target (the last such threshold), over `num_thresholds` thresholds (TF's default 200).
#[derive(Clone, Debug)]
pub struct SpecificityAtSensitivity {
    sensitivity: f64,
    counts: CountsAtThresholds,
}

impl SpecificityAtSensitivity {
    /// At `sensitivity` in [0, 1], with `num_thresholds` (at least 2).
    pub fn new(sensitivity: f64, num_thresholds: usize) -> Result<Self> {
        check_target("specificity_at_sensitivity", "sensitivity", sensitivity)?;
        let counts = CountsAtThresholds::evenly_spaced("specificity_at_sensitivity", num_thresholds, 1.0 - EPSILON)?;
        Ok(SpecificityAtSensitivity { sensitivity, counts })
    }
}

impl StreamingMetric for SpecificityAtSensitivity {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.counts.update("specificity_at_sensitivity", predictions, labels, weights)?;
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        let counts = &self.counts;
        let sensitivities = CountsAtThresholds::ratios(&counts.true_positives, &counts.false_negatives);
        let target = self.sensitivity as f32;
        let distance = |i: usize| (sensitivities[i] - target).abs();
        let index = (0..sensitivities.len()).fold(0, |best, i| if distance(i) <= distance(best) { i } else { best });
        f64::from(CountsAtThresholds::ratios(&counts.true_negatives, &counts.false_positives)[index])
    }

    fn reset(&mut self) {
        self.counts.reset();
    }
}

/// TF-Slim's `recall_at_precision`: the recall at the threshold whose precision is closest to the target (the
/// first such threshold); with `strict`, at the threshold whose precision is the nearest at or above the target,
/// and 0 when none reaches it.
#[derive(Clone, Debug)]
pub struct RecallAtPrecision {
    precision: f64,
    strict: bool,
    counts: CountsAtThresholds,
}

impl RecallAtPrecision {
    /// At `precision` in [0, 1], with `num_thresholds` (at least 2; TF's default 200) and TF's `strict_mode`.
    pub fn new(precision: f64, num_thresholds: usize, strict: bool) -> Result<Self> {
        check_target("recall_at_precision", "precision", precision)?;
        let counts = CountsAtThresholds::evenly_spaced("recall_at_precision", num_thresholds, 1.0 + EPSILON)?;
        Ok(RecallAtPrecision { precision, strict, counts })
    }
}

impl StreamingMetric for RecallAtPrecision {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.counts.update("recall_at_precision", predictions, labels, weights)?;
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        let counts = &self.counts;
        let precisions = CountsAtThresholds::ratios(&counts.true_positives, &counts.false_positives);
        let target = self.precision as f32;
        let recalls = CountsAtThresholds::ratios(&counts.true_positives, &counts.false_negatives);
        if !self.strict {
            let distance = |i: usize| (precisions[i] - target).abs();
            let index = (0..precisions.len()).fold(0, |best, i| if distance(i) < distance(best) { i } else { best });
            return f64::from(recalls[index]);
        }
        // TF's argmax of 1 / (precision − target + ε): the smallest margin above the target. TF's graph optimizer
        // folds the constants first, `precision + (ε − target)` in float32, so a precision one float below the
        // target can make the margin 0 and the closeness infinite; the same here.
        let shift = EPSILON as f32 - target;
        let closeness = |i: usize| 1.0 / (precisions[i] + shift);
        let index = (0..precisions.len()).fold(0, |best, i| if closeness(i) > closeness(best) { i } else { best });
        if precisions[index] >= target { f64::from(recalls[index]) } else { 0.0 }
    }

    fn reset(&mut self) {
        self.counts.reset();
    }
}

/// TF-Slim's `precision_at_recall`: `(tp + ε) / (tp + fp + ε)` at the largest threshold whose recall is at least
/// the target (the last threshold when none is).
#[derive(Clone, Debug)]
pub struct PrecisionAtRecall {
    recall: f64,
    counts: CountsAtThresholds,
}

impl PrecisionAtRecall {
    /// At `recall` in [0, 1], with `num_thresholds` (at least 2; TF's default 200).
    pub fn new(recall: f64, num_thresholds: usize) -> Result<Self> {
        check_target("precision_at_recall", "target_recall", recall)?;
        let counts = CountsAtThresholds::evenly_spaced("precision_at_recall", num_thresholds, 1.0 + EPSILON)?;
        Ok(PrecisionAtRecall { recall, counts })
    }
}

impl StreamingMetric for PrecisionAtRecall {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.counts.update("precision_at_recall", predictions, labels, weights)?;
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        let counts = &self.counts;
        let recalls = CountsAtThresholds::ratios(&counts.true_positives, &counts.false_negatives);
        let admissible = recalls.iter().filter(|recall| **recall >= self.recall as f32).count();
        let index = admissible.checked_sub(1).unwrap_or(recalls.len() - 1);
        let (tp, fp) = (counts.true_positives[index] as f32, counts.false_positives[index] as f32);
        let epsilon = EPSILON as f32;
        f64::from((tp + epsilon) / (tp + fp + epsilon))
    }

    fn reset(&mut self) {
        self.counts.reset();
    }
}

/// TF-Slim's `streaming_curve_points`: the ROC (false-positive rate, recall) or PR (recall, precision) point at
/// each of `num_thresholds` thresholds, as the AUC sums them (ε = 1e-6 in the ratios, as TF).
#[derive(Clone, Debug)]
pub struct CurvePoints {
    /// The metric errors name (`curve_points`, or the AUC built on these points).
    metric: &'static str,
    curve: super::Curve,
    counts: CountsAtThresholds,
}

impl CurvePoints {
    /// The points of `curve` at `num_thresholds` (at least 2; TF's default 200).
    pub fn new(curve: super::Curve, num_thresholds: usize) -> Result<Self> {
        Self::for_metric("curve_points", curve, num_thresholds)
    }

    /// The points as metric `metric` (named in errors) uses them.
    pub(crate) fn for_metric(metric: &'static str, curve: super::Curve, num_thresholds: usize) -> Result<Self> {
        let counts = CountsAtThresholds::evenly_spaced(metric, num_thresholds, 1.0 + EPSILON)?;
        Ok(CurvePoints { metric, curve, counts })
    }

    /// Adds a batch and returns the points over everything seen.
    pub fn update(
        &mut self,
        predictions: &Tensor,
        labels: &Tensor,
        weights: Option<&Tensor>,
    ) -> Result<Vec<(f64, f64)>> {
        self.counts.update(self.metric, predictions, labels, weights)?;
        Ok(self.points())
    }

    /// One `(x, y)` point per threshold, from the lowest threshold to the highest.
    pub fn points(&self) -> Vec<(f64, f64)> {
        let epsilon = 1e-6;
        let c = &self.counts;
        (0..c.true_positives.len())
            .map(|i| {
                let (tp, fneg, tn, fp) =
                    (c.true_positives[i], c.false_negatives[i], c.true_negatives[i], c.false_positives[i]);
                let recall = (tp + epsilon) / (tp + fneg + epsilon);
                match self.curve {
                    super::Curve::Roc => (fp / (fp + tn + epsilon), recall),
                    super::Curve::Pr => (recall, (tp + epsilon) / (tp + fp + epsilon)),
                }
            })
            .collect()
    }

    /// Forgets everything seen.
    pub fn reset(&mut self) {
        self.counts.reset();
    }
}
