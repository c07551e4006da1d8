//! The area under the ROC curve with an asymptotic confidence interval (TF-Slim's
//! `auc_with_confidence_intervals`): DeLong's placement values computed as Sun and Xu do, over every prediction
//! seen.

use tch::{Kind, Tensor};

use super::weights::{broadcast_weights, check_same_shape};
use crate::{Error, Result};

/// TF-Slim's `_EPSILON`, kept in its divisions so the numbers match.
const EPSILON: f32 = 1e-7;

/// An AUC and its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AucInterval {
    /// The area under the ROC curve.
    pub auc: f64,
    /// The interval's lower end.
    pub lower: f64,
    /// The interval's upper end.
    pub upper: f64,
}

/// TF-Slim's `auc_with_confidence_intervals(labels, predictions, weights, alpha=0.95, logit_transformation=True)`:
/// every prediction is kept (24 bytes each), with its 0/1 label and weight; a batch whose weights sum below 1 is
/// skipped, as TF-Slim skips it. The value is all zeros until both classes have been seen with a total weight of
/// at least 1; an AUC of exactly 0 or 1 has no spread, so its interval is the point. The arithmetic is float32,
/// as TF-Slim's (the predictions are ordered in float64).
#[derive(Clone, Debug)]
pub struct AucWithConfidenceIntervals {
    alpha: f64,
    logit_transformation: bool,
    seen: Vec<(f64, bool, f32)>,
}

impl AucWithConfidenceIntervals {
    /// A metric of intervals at confidence `alpha` (in (0, 1); TF-Slim's default 0.95), computed on the logit of
    /// the AUC when `logit_transformation` (so they stay in [0, 1]).
    pub fn new(alpha: f64, logit_transformation: bool) -> Result<Self> {
        match alpha > 0.0 && alpha < 1.0 {
            true => Ok(AucWithConfidenceIntervals { alpha, logit_transformation, seen: Vec::new() }),
            false => {
                Err(Error::invalid("auc_with_confidence_intervals", format!("alpha must be in (0, 1), got {alpha}")))
            }
        }
    }

    /// Adds a batch of predictions (any real values), 0/1 labels and optional weights; returns the value over
    /// everything seen.
    pub fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<AucInterval> {
        const METRIC: &str = "auc_with_confidence_intervals";
        check_same_shape(METRIC, predictions, labels)?;
        let weights = Vec::<f64>::try_from(broadcast_weights(METRIC, predictions, weights)?)?;
        let predictions = Vec::<f64>::try_from(predictions.flatten(0, -1).to_kind(Kind::Double))?;
        let labels = Vec::<f64>::try_from(labels.flatten(0, -1).to_kind(Kind::Double))?;
        if let Some(bad) = labels.iter().find(|label| **label != 0.0 && **label != 1.0) {
            return Err(Error::invalid(METRIC, format!("labels must be 0 or 1, got {bad}")));
        }
        if let Some(bad) = predictions.iter().find(|p| !p.is_finite()) {
            return Err(Error::invalid(METRIC, format!("predictions must be finite, got {bad}")));
        }
        if weights.iter().sum::<f64>() >= 1.0 {
            let batch = predictions.into_iter().zip(labels).zip(weights);
            self.seen.extend(batch.map(|((p, l), w)| (p, l == 1.0, w as f32)));
        }
        Ok(self.value())
    }

    /// The AUC and its interval over everything seen.
    pub fn value(&self) -> AucInterval {
        let total = |label: bool| self.seen.iter().filter(|(_, l, _)| *l == label).map(|(_, _, w)| w).sum::<f32>();
        let (total_0, total_1) = (total(false), total(true));
        let both_classes = self.seen.iter().any(|(_, l, _)| *l) && self.seen.iter().any(|(_, l, _)| !*l);
        if !both_classes || total_0 + total_1 < 1.0 {
            return AucInterval { auc: 0.0, lower: 0.0, upper: 0.0 };
        }
        let placements = self.placement_values();
        let group = |label: bool| self.seen.iter().zip(&placements).filter(move |((_, l, _), _)| *l == label);
        let auc_0 = group(false).map(|((_, _, w), v)| w * (1.0 - v)).sum::<f32>() / (total_0 + EPSILON);
        let auc_1 = group(true).map(|((_, _, w), v)| w * v).sum::<f32>() / (total_1 + EPSILON);
        let auc = if total_0 < total_1 { auc_1 } else { auc_0 };
        let spread_0 = group(false).map(|((_, _, w), v)| w * (1.0 - v - auc_0).powi(2)).sum::<f32>();
        let spread_1 = group(true).map(|((_, _, w), v)| w * (v - auc_1).powi(2)).sum::<f32>();
        let (var_0, var_1) = (spread_0 / (total_0 - 1.0 + EPSILON), spread_1 / (total_1 - 1.0 + EPSILON));
        let std_err = (var_0 / (total_0 + EPSILON) + var_1 / (total_1 + EPSILON)).sqrt();
        if auc == 0.0 || auc == 1.0 {
            let auc = f64::from(auc);
            return AucInterval { auc, lower: auc, upper: auc };
        }
        let z = standard_normal_quantile((1.0 - self.alpha) / 2.0) as f32;
        let (lower, upper) = match self.logit_transformation {
            true => {
                let estimate = (auc / (1.0 - auc + EPSILON)).ln();
                let std_err = std_err / (auc * (1.0 - auc + EPSILON));
                let inverse_logit = |x: f32| 1.0 / (1.0 + (-x).exp() + EPSILON);
                (inverse_logit(estimate + z * std_err), inverse_logit(estimate - z * std_err))
            }
            false => (auc + z * std_err, auc - z * std_err),
        };
        AucInterval { auc: f64::from(auc), lower: f64::from(lower), upper: f64::from(upper) }
    }

    /// Each prediction's placement value: for a positive, the weighted share of negatives ranked below it (ties
    /// count half); for a negative, the share of positives ranked below it.
    fn placement_values(&self) -> Vec<f32> {
        let mut order: Vec<usize> = (0..self.seen.len()).collect();
        order.sort_by(|a, b| self.seen[*a].0.total_cmp(&self.seen[*b].0));
        // Per distinct prediction (ascending): the weights of its negatives and of its positives.
        let mut segments: Vec<(f64, f32, f32)> = Vec::new();
        let mut segment_of = vec![0; self.seen.len()];
        for index in order {
            let (prediction, label, weight) = self.seen[index];
            if segments.last().is_none_or(|(value, _, _)| *value != prediction) {
                segments.push((prediction, 0.0, 0.0));
            }
            let last = segments.len() - 1;
            match label {
                true => segments[last].2 += weight,
                false => segments[last].1 += weight,
            }
            segment_of[index] = last;
        }
        let (negatives, positives): (f32, f32) = segments.iter().fold((0.0, 0.0), |(n, p), s| (n + s.1, p + s.2));
        let (mut below_negative, mut below_positive) = (0.0, 0.0);
        let mut placements = Vec::with_capacity(segments.len());
        for (_, negative, positive) in &segments {
            let for_positive = (below_negative + negative / 2.0) / (negatives + EPSILON);
            let for_negative = (below_positive + positive / 2.0) / (positives + EPSILON);
            placements.push((for_positive, for_negative));
            below_negative += negative;
            below_positive += positive;
        }
        self.seen
            .iter()
            .zip(segment_of)
            .map(|((_, label, _), segment)| if *label { placements[segment].0 } else { placements[segment].1 })
            .collect()
    }

    /// Forgets everything seen.
    pub fn reset(&mut self) {
        self.seen.clear();
    }
}

/// The standard normal distribution's quantile at `p` in (0, 1): `√2 · erfinv(2p − 1)`, in float64.
fn standard_normal_quantile(p: f64) -> f64 {
    let x = Tensor::from(2.0 * p - 1.0).to_kind(Kind::Double);
    std::f64::consts::SQRT_2 * x.erfinv().double_value(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_quantile_is_accurate() {
        assert!((standard_normal_quantile(0.025) + 1.959_963_984_540_054).abs() < 1e-12);
        assert!(standard_normal_quantile(0.5).abs() < 1e-15);
    }
}
