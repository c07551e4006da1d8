//! Keras' `F1Score` / `FBetaScore`: per-class precision and recall from streaming counts, combined into
//! F-beta, then averaged over the classes (macro), by their support (weighted), or counted globally (micro).

use tch::{Kind, Tensor};

use super::StreamingMetric;
use super::weights::check_same_shape;
use crate::{Error, Result};

/// How Keras' F-score combines the classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FScoreAverage {
    /// Counts over every class and example together.
    Micro,
    /// The mean of the per-class scores.
    Macro,
    /// The per-class scores weighted by each class's support (its weighted true labels).
    Weighted,
}

/// Keras' `FBetaScore(average, beta, threshold)` (`F1Score` at beta 1) over `[batch, classes]` one-hot or
/// multi-label `labels` and scores: without a threshold each row's highest score is its prediction (ties all
/// count; an all-zero row predicts nothing), with one every score above it. Sample weights are one per row.
#[derive(Clone, Debug)]
pub struct FScore {
    average: FScoreAverage,
    beta: f64,
    threshold: Option<f64>,
    true_positives: Vec<f64>,
    false_positives: Vec<f64>,
    false_negatives: Vec<f64>,
    support: Vec<f64>,
}

impl FScore {
    /// F-beta over `num_classes`, `beta` > 0 (1 for F1), with an optional `threshold` in [0, 1].
    pub fn new(num_classes: i64, average: FScoreAverage, beta: f64, threshold: Option<f64>) -> Result<Self> {
        let beta_ok = beta.is_finite() && beta > 0.0;
        if num_classes < 1 || !beta_ok || threshold.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
            return Err(Error::invalid(
                "f_score",
                format!(
                    "needs classes >= 1, beta > 0, a threshold in [0, 1]; got {num_classes}, {beta}, {threshold:?}"
                ),
            ));
        }
        let zeros = vec![0.0; num_classes as usize];
        Ok(FScore {
            average,
            beta,
            threshold,
            true_positives: zeros.clone(),
            false_positives: zeros.clone(),
            false_negatives: zeros.clone(),
            support: zeros,
        })
    }

    /// Keras' `F1Score(average, threshold)`.
    pub fn f1(num_classes: i64, average: FScoreAverage, threshold: Option<f64>) -> Result<Self> {
        Self::new(num_classes, average, 1.0, threshold)
    }

    /// The score of each class (Keras' `average=None`).
    pub fn per_class(&self) -> Vec<f64> {
        (0..self.true_positives.len())
            .map(|c| self.f_beta(self.true_positives[c], self.false_positives[c], self.false_negatives[c]))
            .collect()
    }

    /// F-beta of these counts: `(1 + β²) · p · r / (β² · p + r)`, each division 0 when its denominator is.
    fn f_beta(&self, true_positives: f64, false_positives: f64, false_negatives: f64) -> f64 {
        let ratio = |a: f64, b: f64| if b == 0.0 { 0.0 } else { a / b };
        let beta2 = self.beta * self.beta;
        let precision = ratio(true_positives, true_positives + false_positives);
        let recall = ratio(true_positives, true_positives + false_negatives);
        ratio(precision * recall, beta2 * precision + recall) * (1.0 + beta2)
    }
}

impl StreamingMetric for FScore {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        check_same_shape("f_score", predictions, labels)?;
        let size = predictions.size();
        let [batch, classes] = size[..] else {
            return Err(Error::invalid("f_score", format!("expects [batch, classes], got {size:?}")));
        };
        if classes != self.support.len() as i64 {
            return Err(Error::invalid("f_score", format!("expects {} classes, got {classes}", self.support.len())));
        }
        let scores = predictions.to_kind(Kind::Double);
        let predicted = match self.threshold {
            Some(threshold) => scores.gt(threshold),
            None => scores.ge_tensor(&scores.amax([1].as_slice(), true)).logical_and(&scores.abs().gt(1e-9)),
        }
        .to_kind(Kind::Double);
        let truth = labels.to_kind(Kind::Double).view([batch, classes]);
        let rows = match weights {
            None => Tensor::ones([batch, 1], (Kind::Double, scores.device())),
            Some(w) if w.numel() as i64 == batch => w.to_kind(Kind::Double).view([batch, 1]),
            Some(w) => return Err(Error::invalid("f_score", format!("one weight per row, got {:?}", w.size()))),
        };
        let per_class = |t: Tensor| Vec::<f64>::try_from((t * &rows).sum_dim_intlist(0, false, Kind::Double));
        let add = |total: &mut Vec<f64>, batch: Vec<f64>| total.iter_mut().zip(batch).for_each(|(t, b)| *t += b);
        add(&mut self.true_positives, per_class(&predicted * &truth)?);
        add(&mut self.false_positives, per_class(&predicted * (-&truth + 1.0))?);
        add(&mut self.false_negatives, per_class((-&predicted + 1.0) * &truth)?);
        add(&mut self.support, per_class(truth.shallow_clone())?);
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        match self.average {
            FScoreAverage::Micro => {
                let sum = |counts: &[f64]| counts.iter().sum::<f64>();
                self.f_beta(sum(&self.true_positives), sum(&self.false_positives), sum(&self.false_negatives))
            }
            FScoreAverage::Macro => {
                let scores = self.per_class();
                scores.iter().sum::<f64>() / scores.len() as f64
            }
            FScoreAverage::Weighted => {
                let total: f64 = self.support.iter().sum();
                let scores = self.per_class();
                if total == 0.0 { 0.0 } else { scores.iter().zip(&self.support).map(|(s, w)| s * w / total).sum() }
            }
        }
    }

    fn reset(&mut self) {
        for counts in
            [&mut self.true_positives, &mut self.false_positives, &mut self.false_negatives, &mut self.support]
        {
            counts.iter_mut().for_each(|c| *c = 0.0);
        }
    }
}
