//! `aggregate_metric_map`: metrics by name, updated together and read together.

use tch::Tensor;

use super::StreamingMetric;
use crate::{Error, Result};

/// Named metrics fed the same batches (TF-Slim's `aggregate_metric_map`, whose value and update dictionaries
/// are [`MetricMap::values`] and [`MetricMap::update`]).
pub struct MetricMap {
    metrics: Vec<(String, Box<dyn StreamingMetric>)>,
}

/// A map of the given `(name, metric)` pairs; an error when there are none or a name repeats.
pub fn aggregate_metric_map(metrics: Vec<(&str, Box<dyn StreamingMetric>)>) -> Result<MetricMap> {
    if metrics.is_empty() {
        return Err(Error::invalid("aggregate_metric_map", "give at least one metric"));
    }
    let mut named: Vec<(String, Box<dyn StreamingMetric>)> = Vec::with_capacity(metrics.len());
    for (name, metric) in metrics {
        if named.iter().any(|(existing, _)| existing == name) {
            return Err(Error::invalid("aggregate_metric_map", format!("the name {name} is given twice")));
        }
        named.push((name.to_string(), metric));
    }
    Ok(MetricMap { metrics: named })
}

impl MetricMap {
    /// Adds a batch to every metric; returns the new values by name.
    pub fn update(
        &mut self,
        predictions: &Tensor,
        labels: &Tensor,
        weights: Option<&Tensor>,
    ) -> Result<Vec<(String, f64)>> {
        for (_, metric) in &mut self.metrics {
            metric.update(predictions, labels, weights)?;
        }
        Ok(self.values())
    }

    /// Every metric's value by name, in the order given.
    pub fn values(&self) -> Vec<(String, f64)> {
        self.metrics.iter().map(|(name, metric)| (name.clone(), metric.value())).collect()
    }

    /// Resets every metric.
    pub fn reset(&mut self) {
        self.metrics.iter_mut().for_each(|(_, metric)| metric.reset());
    }
}
