//! TF-Slim's `streaming_auc`: the area under the ROC or the precision-recall curve by the trapezoidal rule over
//! the curve's points at `num_thresholds` thresholds, with TF's thresholds and epsilon.

use tch::Tensor;

use super::StreamingMetric;
use super::thresholds::CurvePoints;
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
    points: CurvePoints,
}

impl Auc {
    /// `num_thresholds` (at least 2; TF's default is 200) thresholds: −1e-7, then `i / (n − 1)`, then 1 + 1e-7.
    pub fn new(curve: Curve, num_thresholds: usize) -> Result<Self> {
        Ok(Auc { points: CurvePoints::for_metric("auc", curve, num_thresholds)? })
    }
}

impl StreamingMetric for Auc {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.points.update(predictions, labels, weights)?;
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        let points = self.points.points();
        points.windows(2).map(|w| (w[0].0 - w[1].0) * (w[0].1 + w[1].1) / 2.0).sum()
    }

    fn reset(&mut self) {
        self.points.reset();
    }
}
