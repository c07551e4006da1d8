//! A streaming confusion matrix (rows: labels, columns: predictions, as TF) and the mean intersection over
//! union computed from it (TF-Slim's `streaming_mean_iou`).

use tch::{Kind, Tensor};

use super::weights::{broadcast_weights, check_same_shape, classes};
use super::{StreamingMetric, safe_div};
use crate::{Error, Result};

/// Weighted counts of (label, prediction) pairs of class indices.
#[derive(Clone, Debug)]
pub struct ConfusionMatrix {
    num_classes: i64,
    counts: Vec<f64>,
}

impl ConfusionMatrix {
    /// A matrix over `num_classes` (positive) classes.
    pub fn new(num_classes: i64) -> Result<Self> {
        if num_classes < 1 {
            return Err(Error::invalid("confusion_matrix", format!("num_classes must be positive, got {num_classes}")));
        }
        Ok(ConfusionMatrix { num_classes, counts: vec![0.0; (num_classes * num_classes) as usize] })
    }

    /// Adds a batch of predicted and true class indices (or scores, reduced to their argmax as [`Accuracy`]
    /// does); an index outside `[0, num_classes)` is an error.
    ///
    /// [`Accuracy`]: super::Accuracy
    pub fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<()> {
        let (predictions, labels) = &classes(predictions, labels);
        check_same_shape("confusion_matrix", predictions, labels)?;
        let weights = broadcast_weights("confusion_matrix", predictions, weights)?;
        let (p, l) = (predictions.flatten(0, -1).to_kind(Kind::Int64), labels.flatten(0, -1).to_kind(Kind::Int64));
        let n = self.num_classes;
        let in_range = |t: &Tensor| t.ge(0).logical_and(&t.lt(n)).all().int64_value(&[]) == 1;
        if !in_range(&p) || !in_range(&l) {
            return Err(Error::invalid("confusion_matrix", format!("class indices must be in [0, {n})")));
        }
        let cells = l * n + p;
        let batch = Tensor::zeros([n * n], (Kind::Double, weights.device())).index_add(0, &cells, &weights);
        let batch = Vec::<f64>::try_from(batch).unwrap_or_default();
        self.counts.iter_mut().zip(batch).for_each(|(total, add)| *total += add);
        Ok(())
    }

    /// The number of classes.
    pub fn num_classes(&self) -> i64 {
        self.num_classes
    }

    /// The count of (label `row`, prediction `column`).
    pub fn get(&self, row: i64, column: i64) -> f64 {
        self.counts.get((row * self.num_classes + column) as usize).copied().unwrap_or(0.0)
    }

    /// The matrix as a `[num_classes, num_classes]` tensor.
    pub fn to_tensor(&self) -> Tensor {
        Tensor::from_slice(&self.counts).view([self.num_classes, self.num_classes])
    }

    /// Forgets everything seen.
    pub fn reset(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0.0);
    }
}

/// TF-Slim's `streaming_mean_iou(predictions, labels, num_classes)`: per class, true positives over
/// (row + column − diagonal); the mean over the classes where that denominator is not 0.
#[derive(Clone, Debug)]
pub struct MeanIou {
    matrix: ConfusionMatrix,
}

impl MeanIou {
    /// Mean IoU over `num_classes` classes.
    pub fn new(num_classes: i64) -> Result<Self> {
        Ok(MeanIou { matrix: ConfusionMatrix::new(num_classes)? })
    }
}

impl StreamingMetric for MeanIou {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.matrix.update(predictions, labels, weights)?;
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        let n = self.matrix.num_classes;
        let (mut total, mut valid) = (0.0, 0.0);
        for class in 0..n {
            let row: f64 = (0..n).map(|c| self.matrix.get(class, c)).sum();
            let column: f64 = (0..n).map(|r| self.matrix.get(r, class)).sum();
            let diagonal = self.matrix.get(class, class);
            let denominator = row + column - diagonal;
            if denominator != 0.0 {
                total += diagonal / denominator;
                valid += 1.0;
            }
        }
        safe_div(total, valid)
    }

    fn reset(&mut self) {
        self.matrix.reset();
    }
}
