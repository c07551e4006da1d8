//! TF's `precision_recall_at_equal_thresholds`: weighted true/false positive counts in `num_thresholds` evenly
//! spaced buckets of the predictions (O(T + N), where the confusion counts at thresholds cost O(T · N)), read
//! as TP, FP, TN, FN, precision and recall at each threshold `i / (T − 1)` by reversed cumulative sums.

use tch::{Kind, Tensor};

use super::weights::{broadcast_weights, check_same_shape, check_unit_interval};
use crate::{Error, Result, TorchContext};

/// The name errors carry.
const METRIC: &str = "precision_recall_at_equal_thresholds";

/// TF's default number of thresholds.
pub const DEFAULT_EQUAL_THRESHOLDS: usize = 201;

/// What [`PrecisionRecallAtEqualThresholds::data`] reads at each threshold (TF's `PrecisionRecallData`), in the
/// predictions' float type (float32 values are rounded to float32).
#[derive(Clone, Debug, PartialEq)]
pub struct PrecisionRecallData {
    /// Weighted true positives: positive examples predicted at or above the threshold.
    pub tp: Vec<f64>,
    /// Weighted false positives.
    pub fp: Vec<f64>,
    /// Weighted true negatives.
    pub tn: Vec<f64>,
    /// Weighted false negatives.
    pub fn_: Vec<f64>,
    /// `tp / max(1e-7, tp + fp)`.
    pub precision: Vec<f64>,
    /// `tp / max(1e-7, tp + fn)`.
    pub recall: Vec<f64>,
    /// The thresholds, `i / (T − 1)` as TF's `lin_space` computes them.
    pub thresholds: Vec<f64>,
}

/// TF's `precision_recall_at_equal_thresholds` over every batch since the last reset: each prediction in
/// [0, 1] falls in bucket `⌊p · (T − 1)⌋` (computed in the predictions' type), which adds its weight to the
/// bucket's true or false positives (summed in float64).
#[derive(Clone, Debug)]
pub struct PrecisionRecallAtEqualThresholds {
    true_positives: Vec<f64>,
    false_positives: Vec<f64>,
    /// The predictions' float type, in which results are given (float32 until a batch says otherwise).
    kind: Kind,
}

impl PrecisionRecallAtEqualThresholds {
    /// `num_thresholds` evenly spaced thresholds in [0, 1] (at least 2; TF's default is
    /// [`DEFAULT_EQUAL_THRESHOLDS`]).
    pub fn new(num_thresholds: usize) -> Result<Self> {
        if num_thresholds < 2 {
            return Err(Error::invalid(METRIC, format!("num_thresholds must be at least 2, got {num_thresholds}")));
        }
        let zeros = vec![0.0; num_thresholds];
        Ok(PrecisionRecallAtEqualThresholds {
            true_positives: zeros.clone(),
            false_positives: zeros,
            kind: Kind::Float,
        })
    }

    /// Adds a batch: `predictions` (float, in [0, 1]) against bool `labels` of the same shape, with optional
    /// `weights` broadcastable to them. An error naming the metric for a label tensor that is not bool,
    /// mismatched shapes, or a prediction outside [0, 1].
    pub fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<()> {
        if labels.kind() != Kind::Bool {
            return Err(Error::invalid(METRIC, format!("labels must be bool, got {:?}", labels.kind())));
        }
        check_same_shape(METRIC, predictions, labels)?;
        let kind = match predictions.kind() {
            Kind::Double => Kind::Double,
            Kind::Float | Kind::Half | Kind::BFloat16 => Kind::Float,
            other => return Err(Error::invalid(METRIC, format!("predictions must be floats, got {other:?}"))),
        };
        let weights = broadcast_weights(METRIC, predictions, weights)?;
        let predictions = predictions.flatten(0, -1).to_kind(kind);
        check_unit_interval(METRIC, &predictions)?;
        let last = (self.true_positives.len() - 1) as f64;
        let buckets = (predictions * last).floor().to_kind(Kind::Int64);
        let positive = labels.flatten(0, -1).to_kind(Kind::Double);
        let true_labels = &positive * &weights;
        let false_labels = (1.0 - positive) * &weights;
        let bins = self.true_positives.len() as i64;
        let sums = |values: &Tensor| -> Result<Vec<f64>> {
            let sums = Tensor::zeros([bins], (Kind::Double, values.device())).f_scatter_add(0, &buckets, values);
            Vec::<f64>::try_from(sums.context(METRIC)?).context(METRIC)
        };
        let add = |total: &mut Vec<f64>, batch: Vec<f64>| total.iter_mut().zip(batch).for_each(|(t, b)| *t += b);
        add(&mut self.true_positives, sums(&true_labels)?);
        add(&mut self.false_positives, sums(&false_labels)?);
        self.kind = kind;
        Ok(())
    }

    /// TP, FP, TN, FN, precision, recall and the thresholds over everything seen since the last reset.
    pub fn data(&self) -> PrecisionRecallData {
        let tp = reversed_cumulative_sum(&self.true_positives);
        let fp = reversed_cumulative_sum(&self.false_positives);
        let tn: Vec<f64> = fp.iter().map(|f| fp[0] - f).collect();
        let fn_: Vec<f64> = tp.iter().map(|t| tp[0] - t).collect();
        let ratio = |part: &[f64], rest: &[f64]| -> Vec<f64> {
            part.iter().zip(rest).map(|(p, r)| p / (p + r).max(1e-7)).collect()
        };
        let (precision, recall) = (ratio(&tp, &fp), ratio(&tp, &fn_));
        let out = |values: Vec<f64>| self.in_kind(values);
        PrecisionRecallData {
            precision: out(precision),
            recall: out(recall),
            tp: out(tp),
            fp: out(fp),
            tn: out(tn),
            fn_: out(fn_),
            thresholds: self.thresholds(),
        }
    }

    /// TF's `lin_space(0, 1, T)` in the predictions' type: `i · (1 / (T − 1))`, the last exactly 1.
    fn thresholds(&self) -> Vec<f64> {
        let count = self.true_positives.len();
        let last = count - 1;
        match self.kind {
            Kind::Double => (0..count).map(|i| if i == last { 1.0 } else { i as f64 * (1.0 / last as f64) }).collect(),
            _ => {
                let step = 1.0f32 / last as f32;
                (0..count).map(|i| if i == last { 1.0 } else { f64::from(i as f32 * step) }).collect()
            }
        }
    }

    /// `values` as the predictions' type holds them.
    fn in_kind(&self, values: Vec<f64>) -> Vec<f64> {
        match self.kind {
            Kind::Double => values,
            _ => values.into_iter().map(|v| f64::from(v as f32)).collect(),
        }
    }

    /// Forgets every count.
    pub fn reset(&mut self) {
        self.true_positives.iter_mut().for_each(|c| *c = 0.0);
        self.false_positives.iter_mut().for_each(|c| *c = 0.0);
    }
}

/// `out[i] = Σ values[j], j ≥ i` (TF's `cumsum(reverse=True)`).
fn reversed_cumulative_sum(values: &[f64]) -> Vec<f64> {
    let mut sums = values.to_vec();
    for i in (0..sums.len().saturating_sub(1)).rev() {
        sums[i] += sums[i + 1];
    }
    sums
}
