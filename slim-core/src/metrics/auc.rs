//! TF-Slim's `streaming_auc`: confusion counts at `num_thresholds` thresholds, and the area under the ROC or
//! the precision-recall curve by the trapezoidal rule, with TF's thresholds and epsilon.

use tch::Tensor;

use super::StreamingMetric;
use super::thresholds::CountsAtThresholds;
use crate::Result;

/// Which curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    /// True-positive rate against false-positive rate.
    Roc,
    /// Precision against recall.
    Pr,
}

/// The area under a curve of predictions in [0, 1] against bool-like labels.
#[derive(Clone, Debug)]
pub struct Auc {
    curve: Curve,
    counts: CountsAtThresholds,
}

impl Auc {
    /// `num_thresholds` (at least 2; TF's default is 200) thresholds: −1e-7, then `i / (n − 1)`, then 1 + 1e-7.
    pub fn new(curve: Curve, num_thresholds: usize) -> Result<Self> {
        Ok(Auc { curve, counts: CountsAtThresholds::evenly_spaced("auc", num_thresholds, 1.0 + 1e-7)? })
    }
}

impl StreamingMetric for Auc {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.counts.update("auc", predictions, labels, weights)?;
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        let epsilon = 1e-6;
        let c = &self.counts;
        let points: Vec<(f64, f64)> = (0..c.true_positives().len())
            .map(|i| {
                let (tp, fneg) = (c.true_positives()[i], c.false_negatives()[i]);
                let (tn, fp) = (c.true_negatives()[i], c.false_positives()[i]);
                let recall = (tp + epsilon) / (tp + fneg + epsilon);
                match self.curve {
                    Curve::Roc => (fp / (fp + tn + epsilon), recall),
                    Curve::Pr => (recall, (tp + epsilon) / (tp + fp + epsilon)),
                }
            })
            .collect();
        points.windows(2).map(|w| (w[0].0 - w[1].0) * (w[0].1 + w[1].1) / 2.0).sum()
    }

    fn reset(&mut self) {
        self.counts.reset();
    }
}
