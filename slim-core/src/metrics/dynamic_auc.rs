//! The exact area under the ROC or PR curve of every prediction seen (TF-Slim's `streaming_dynamic_auc`): all
//! predictions are kept, sorted, and each distinct value is a threshold.

use tch::{Kind, Tensor};

use super::weights::{broadcast_weights, check_same_shape};
use super::{Curve, StreamingMetric};
use crate::{Error, Result};

/// TF-Slim's `streaming_dynamic_auc(labels, predictions, curve, weights)`: the trapezoidal area under the curve
/// with a point at every distinct prediction, over everything seen; 0 while the labels are all of one class.
/// Memory grows with the predictions seen (24 bytes each).
#[derive(Clone, Debug)]
pub struct DynamicAuc {
    curve: Curve,
    seen: Vec<(f64, bool, f64)>,
}

impl DynamicAuc {
    /// The exact area under `curve`.
    pub fn new(curve: Curve) -> Self {
        DynamicAuc { curve, seen: Vec::new() }
    }
}

impl StreamingMetric for DynamicAuc {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        check_same_shape("dynamic_auc", predictions, labels)?;
        let weights = Vec::<f64>::try_from(broadcast_weights("dynamic_auc", predictions, weights)?)?;
        let predictions = Vec::<f64>::try_from(predictions.flatten(0, -1).to_kind(Kind::Double))?;
        let labels = Vec::<f64>::try_from(labels.flatten(0, -1).to_kind(Kind::Double))?;
        if let Some(bad) = labels.iter().find(|label| **label != 0.0 && **label != 1.0) {
            return Err(Error::invalid("dynamic_auc", format!("labels must be 0 or 1, got {bad}")));
        }
        if let Some(bad) = predictions.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(Error::invalid("dynamic_auc", format!("predictions must lie in [0, 1], got {bad}")));
        }
        let batch = predictions.into_iter().zip(labels).zip(weights).map(|((p, l), w)| (p, l == 1.0, w));
        self.seen.extend(batch);
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        let total: f64 = self.seen.iter().map(|(_, _, w)| w).sum();
        let positive: f64 = self.seen.iter().filter(|(_, l, _)| *l).map(|(_, _, w)| w).sum();
        if positive == 0.0 || positive == total {
            return 0.0;
        }
        let mut ordered = self.seen.clone();
        ordered.sort_by(|a, b| b.0.total_cmp(&a.0));
        // Cumulative weights at each distinct prediction's end, from the highest down, after a start at 0.
        let (mut true_positives, mut seen_weight, mut points) = (0.0, 0.0, vec![(0.0, 0.0, 0.0)]);
        for (i, (prediction, label, weight)) in ordered.iter().enumerate() {
            true_positives += if *label { *weight } else { 0.0 };
            seen_weight += weight;
            if ordered.get(i + 1).is_none_or(|next| next.0 != *prediction) {
                points.push((true_positives, seen_weight - true_positives, seen_weight));
            }
        }
        let negative = total - positive;
        let axes: Vec<(f64, f64)> = points
            .iter()
            .enumerate()
            .map(|(i, (tp, fp, weight))| match self.curve {
                Curve::Roc => (fp / negative, tp / positive),
                Curve::Pr => (tp / positive, if i == 0 { 1.0 } else { tp / weight }),
            })
            .collect();
        axes.windows(2).map(|w| (w[1].0 - w[0].0).abs() * (w[0].1 + w[1].1) / 2.0).sum()
    }

    fn reset(&mut self) {
        self.seen.clear();
    }
}
