//! Streaming covariance, Pearson correlation and count (TF-Slim's `streaming_covariance`,
//! `streaming_pearson_correlation`, `count`): batches merged into running means and a co-moment with Chan et
//! al.'s pairwise update, weights counted as frequencies.

use tch::{Kind, Tensor};

use super::StreamingMetric;
use super::weights::{broadcast_weights, check_same_shape, sum};
use crate::Result;

/// The running state of one covariance: the weight seen, both means, and Σw·(p − p̄)(l − l̄).
#[derive(Clone, Copy, Debug, Default)]
struct CoMoment {
    count: f64,
    mean_predictions: f64,
    mean_labels: f64,
    comoment: f64,
}

impl CoMoment {
    /// Merges a batch of (flattened, f64) `predictions`, `labels` and `weights` into the state.
    fn add(&mut self, predictions: &Tensor, labels: &Tensor, weights: &Tensor) {
        let batch_count = sum(weights);
        if batch_count == 0.0 {
            return;
        }
        let batch_mean_predictions = sum(&(predictions * weights)) / batch_count;
        let batch_mean_labels = sum(&(labels * weights)) / batch_count;
        let residuals = (predictions - batch_mean_predictions) * (labels - batch_mean_labels);
        let batch_comoment = sum(&(residuals * weights));
        let total = self.count + batch_count;
        let (delta_predictions, delta_labels) =
            (self.mean_predictions - batch_mean_predictions, self.mean_labels - batch_mean_labels);
        self.comoment += batch_comoment + delta_predictions * delta_labels * self.count * batch_count / total;
        self.mean_predictions -= delta_predictions * batch_count / total;
        self.mean_labels -= delta_labels * batch_count / total;
        self.count = total;
    }

    /// The unbiased covariance `comoment / (count − 1)`; NaN until more than one unit of weight was seen, as TF.
    fn covariance(&self) -> f64 {
        if self.count <= 1.0 { f64::NAN } else { self.comoment / (self.count - 1.0) }
    }
}

/// The predictions, labels and broadcast weights of a batch as flat f64 tensors, after the shape check.
fn flat_inputs(metric: &str, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<[Tensor; 3]> {
    check_same_shape(metric, predictions, labels)?;
    let weights = broadcast_weights(metric, predictions, weights)?;
    let flat = |t: &Tensor| t.flatten(0, -1).to_kind(Kind::Double);
    Ok([flat(predictions), flat(labels), weights])
}

/// TF-Slim's `streaming_covariance(predictions, labels, weights)`: the unbiased covariance of the predictions and
/// the labels over everything seen (weights are frequency weights); NaN until more than one unit of weight.
#[derive(Clone, Debug, Default)]
pub struct Covariance {
    state: CoMoment,
}

impl StreamingMetric for Covariance {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        let [predictions, labels, weights] = flat_inputs("covariance", predictions, labels, weights)?;
        self.state.add(&predictions, &labels, &weights);
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        self.state.covariance()
    }

    fn reset(&mut self) {
        *self = Covariance::default();
    }
}

/// TF-Slim's `streaming_pearson_correlation(predictions, labels, weights)`: `cov(p, l) / (σ_p · σ_l)` from three
/// streaming covariances; NaN until more than one unit of weight (or when either side is constant).
#[derive(Clone, Debug, Default)]
pub struct PearsonCorrelation {
    both: CoMoment,
    predictions: CoMoment,
    labels: CoMoment,
}

impl StreamingMetric for PearsonCorrelation {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        let [predictions, labels, weights] = flat_inputs("pearson_correlation", predictions, labels, weights)?;
        self.both.add(&predictions, &labels, &weights);
        self.predictions.add(&predictions, &predictions, &weights);
        self.labels.add(&labels, &labels, &weights);
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        let spread = self.predictions.covariance().sqrt() * self.labels.covariance().sqrt();
        self.both.covariance() / spread
    }

    fn reset(&mut self) {
        *self = PearsonCorrelation::default();
    }
}

/// TF's `metrics.count(values, weights)`: how many values were seen, each counted by its weight (default 1).
/// The labels are ignored.
#[derive(Clone, Debug, Default)]
pub struct Count {
    total: f64,
}

impl StreamingMetric for Count {
    fn update(&mut self, values: &Tensor, _labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.total += sum(&broadcast_weights("count", values, weights)?);
        Ok(self.total)
    }

    fn value(&self) -> f64 {
        self.total
    }

    fn reset(&mut self) {
        self.total = 0.0;
    }
}
