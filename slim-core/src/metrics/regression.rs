//! Means and errors: mean, mean absolute / squared / root mean squared / relative error, percentage less,
//! mean cosine distance. Each is a weighted mean of something per element.

use tch::{Kind, Tensor};

use super::weights::{broadcast_weights, check_same_shape, sum};
use super::{StreamingMetric, safe_div};
use crate::{Error, Result};

/// A weighted running mean: Σ(w·v) / Σw, the accumulator behind the metrics of this file.
#[derive(Clone, Copy, Debug, Default)]
struct RunningMean {
    total: f64,
    count: f64,
}

impl RunningMean {
    fn add(&mut self, metric: &str, values: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        let weights = broadcast_weights(metric, values, weights)?;
        self.total += sum(&(values.flatten(0, -1).to_kind(Kind::Double) * &weights));
        self.count += sum(&weights);
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        safe_div(self.total, self.count)
    }
}

macro_rules! mean_metric {
    ($(#[$doc:meta])* $name:ident, $metric:literal, |$p:ident, $l:ident| $per_element:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default)]
        pub struct $name {
            mean: RunningMean,
        }

        impl StreamingMetric for $name {
            fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
                check_same_shape($metric, predictions, labels)?;
                let ($p, $l) = (predictions.to_kind(Kind::Double), labels.to_kind(Kind::Double).view_as(predictions));
                self.mean.add($metric, &$per_element, weights)
            }

            fn value(&self) -> f64 {
                self.mean.value()
            }

            fn reset(&mut self) {
                *self = $name::default();
            }
        }
    };
}

mean_metric!(
    /// TF-Slim's `streaming_mean_absolute_error`.
    MeanAbsoluteError, "mean_absolute_error", |p, l| (p - l).abs()
);
mean_metric!(
    /// TF-Slim's `streaming_mean_squared_error`.
    MeanSquaredError, "mean_squared_error", |p, l| (p - l).square()
);

/// TF-Slim's `streaming_mean(values)`: the weighted mean of the predictions (the labels are ignored).
#[derive(Clone, Debug, Default)]
pub struct Mean {
    mean: RunningMean,
}

impl StreamingMetric for Mean {
    fn update(&mut self, values: &Tensor, _labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.mean.add("mean", values, weights)
    }

    fn value(&self) -> f64 {
        self.mean.value()
    }

    fn reset(&mut self) {
        *self = Mean::default();
    }
}

/// TF-Slim's `streaming_root_mean_squared_error`: √MSE.
#[derive(Clone, Debug, Default)]
pub struct RootMeanSquaredError {
    squared: MeanSquaredError,
}

impl StreamingMetric for RootMeanSquaredError {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.squared.update(predictions, labels, weights)?;
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        self.squared.value().sqrt()
    }

    fn reset(&mut self) {
        self.squared.reset();
    }
}

/// TF-Slim's `streaming_mean_relative_error(predictions, labels, normalizer)`: the mean of
/// `|p − l| / normalizer`, 0 where the normalizer is 0. The normalizer is given per batch to `update_with`.
#[derive(Clone, Debug, Default)]
pub struct MeanRelativeError {
    mean: RunningMean,
}

impl MeanRelativeError {
    /// Adds a batch with its normalizer (the labels' shape, or broadcastable to it).
    pub fn update_with(
        &mut self,
        predictions: &Tensor,
        labels: &Tensor,
        normalizer: &Tensor,
        weights: Option<&Tensor>,
    ) -> Result<f64> {
        check_same_shape("mean_relative_error", predictions, labels)?;
        let labels = labels.to_kind(Kind::Double).view_as(predictions);
        let normalizer = normalizer.to_kind(Kind::Double).f_expand_as(&labels).map_err(|_| {
            Error::invalid(
                "mean_relative_error",
                format!("a normalizer of shape {:?} does not fit the labels", normalizer.size()),
            )
        })?;
        let errors = (predictions.to_kind(Kind::Double) - &labels).abs();
        let relative = (&errors / &normalizer).where_self(&normalizer.ne(0.0), &errors.zeros_like());
        self.mean.add("mean_relative_error", &relative, weights)
    }

    /// The value.
    pub fn value(&self) -> f64 {
        self.mean.value()
    }

    /// Forgets everything seen.
    pub fn reset(&mut self) {
        *self = MeanRelativeError::default();
    }
}

/// TF-Slim's `streaming_percentage_less(values, threshold)`: the weighted fraction of values below `threshold`
/// (the predictions are the values; the labels are ignored).
#[derive(Clone, Debug)]
pub struct PercentageLess {
    threshold: f64,
    mean: RunningMean,
}

impl PercentageLess {
    /// Counts values below `threshold`.
    pub fn new(threshold: f64) -> Self {
        PercentageLess { threshold, mean: RunningMean::default() }
    }
}

impl StreamingMetric for PercentageLess {
    fn update(&mut self, values: &Tensor, _labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.mean.add("percentage_less", &values.lt(self.threshold), weights)
    }

    fn value(&self) -> f64 {
        self.mean.value()
    }

    fn reset(&mut self) {
        self.mean = RunningMean::default();
    }
}

/// TF-Slim's `streaming_mean_cosine_distance(predictions, labels, dim)`: the mean of `1 − Σ_dim p·l` (inputs
/// unit-normalized along `dim`); weights are per remaining element.
#[derive(Clone, Debug)]
pub struct MeanCosineDistance {
    dim: i64,
    mean: RunningMean,
}

impl MeanCosineDistance {
    /// Distances along `dim`.
    pub fn new(dim: i64) -> Self {
        MeanCosineDistance { dim, mean: RunningMean::default() }
    }
}

impl StreamingMetric for MeanCosineDistance {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        check_same_shape("mean_cosine_distance", predictions, labels)?;
        let rank = predictions.dim() as i64;
        if !(-rank..rank).contains(&self.dim) {
            return Err(Error::invalid(
                "mean_cosine_distance",
                format!("dim {} is out of range for rank {rank}", self.dim),
            ));
        }
        let products = (predictions.to_kind(Kind::Double) * labels.to_kind(Kind::Double).view_as(predictions))
            .sum_dim_intlist(self.dim, false, Kind::Double);
        let distances = -products + 1.0;
        self.mean.add("mean_cosine_distance", &distances, weights)
    }

    fn value(&self) -> f64 {
        self.mean.value()
    }

    fn reset(&mut self) {
        self.mean = RunningMean::default();
    }
}

/// TF-Slim's `streaming_mean_tensor(values)`: the element-wise weighted mean over batches of one shape, as a
/// tensor (0 where the weights summed to 0).
#[derive(Debug, Default)]
pub struct MeanTensor {
    total: Option<Tensor>,
    count: Option<Tensor>,
}

impl MeanTensor {
    /// Adds a batch of values of the shape every batch has (weights broadcast to it) and returns the mean.
    pub fn update(&mut self, values: &Tensor, weights: Option<&Tensor>) -> Result<Tensor> {
        let values = values.to_kind(Kind::Double);
        let weights = match weights {
            Some(w) => w.to_kind(Kind::Double).f_expand_as(&values).map_err(|_| {
                Error::invalid("mean_tensor", format!("weights {:?} do not broadcast to {:?}", w.size(), values.size()))
            })?,
            None => values.ones_like(),
        };
        match (&self.total, &self.count) {
            (Some(total), _) if total.size() != values.size() => {
                return Err(Error::invalid(
                    "mean_tensor",
                    format!("values of shape {:?} after batches of shape {:?}", values.size(), total.size()),
                ));
            }
            (Some(total), Some(count)) => {
                self.total = Some(total + &values * &weights);
                self.count = Some(count + &weights);
            }
            _ => {
                self.total = Some(&values * &weights);
                self.count = Some(weights);
            }
        }
        Ok(self.value().unwrap_or_else(|| values.zeros_like()))
    }

    /// The element-wise mean so far; `None` before the first batch.
    pub fn value(&self) -> Option<Tensor> {
        let (total, count) = (self.total.as_ref()?, self.count.as_ref()?);
        Some((total / count.clamp_min(f64::MIN_POSITIVE)).where_self(&count.ne(0.0), &total.zeros_like()))
    }

    /// Forgets everything seen.
    pub fn reset(&mut self) {
        (self.total, self.count) = (None, None);
    }
}
