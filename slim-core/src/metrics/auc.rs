//! TF-Slim's `streaming_auc`: confusion counts at `num_thresholds` thresholds, and the area under the ROC or
//! the precision-recall curve by the trapezoidal rule, with TF's thresholds and epsilon.

use tch::{Kind, Tensor};

use super::StreamingMetric;
use super::weights::{broadcast_weights, check_same_shape};
use crate::{Error, Result};

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
    thresholds: Vec<f64>,
    true_positives: Vec<f64>,
    false_negatives: Vec<f64>,
    true_negatives: Vec<f64>,
    false_positives: Vec<f64>,
}

impl Auc {
    /// `num_thresholds` (at least 2; TF's default is 200) thresholds: −1e-7, then `i / (n − 1)`, then 1 + 1e-7.
    pub fn new(curve: Curve, num_thresholds: usize) -> Result<Self> {
        if num_thresholds < 2 {
            return Err(Error::invalid("auc", format!("num_thresholds must be at least 2, got {num_thresholds}")));
        }
        let epsilon = 1e-7;
        let inner = (0..num_thresholds - 2).map(|i| (i + 1) as f64 / (num_thresholds - 1) as f64);
        let thresholds: Vec<f64> =
            std::iter::once(-epsilon).chain(inner).chain(std::iter::once(1.0 + epsilon)).collect();
        let zeros = vec![0.0; num_thresholds];
        Ok(Auc {
            curve,
            thresholds,
            true_positives: zeros.clone(),
            false_negatives: zeros.clone(),
            true_negatives: zeros.clone(),
            false_positives: zeros,
        })
    }
}

impl StreamingMetric for Auc {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        check_same_shape("auc", predictions, labels)?;
        let weights = broadcast_weights("auc", predictions, weights)?;
        let predictions = predictions.flatten(0, -1).to_kind(Kind::Double);
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
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        let epsilon = 1e-6;
        let points: Vec<(f64, f64)> = (0..self.thresholds.len())
            .map(|i| {
                let (tp, fneg, tn, fp) =
                    (self.true_positives[i], self.false_negatives[i], self.true_negatives[i], self.false_positives[i]);
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
        for counts in
            [&mut self.true_positives, &mut self.false_negatives, &mut self.true_negatives, &mut self.false_positives]
        {
            counts.iter_mut().for_each(|c| *c = 0.0);
        }
    }
}
