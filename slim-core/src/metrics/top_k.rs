//! TF-Slim's sparse top-k metrics: precision and recall of the `k` highest-scoring classes against one or more
//! labels per example (`[batch]` or `[batch, labels]`, negative entries are padding).

use tch::{Kind, Tensor};

use super::weights::broadcast_weights;
use super::{StreamingMetric, safe_div};
use crate::{Error, Result};

/// Weighted true positives, false positives and false negatives of the top `k` classes.
#[derive(Clone, Debug)]
struct TopKCounts {
    k: i64,
    true_positives: f64,
    false_positives: f64,
    false_negatives: f64,
}

impl TopKCounts {
    fn new(metric: &str, k: i64) -> Result<Self> {
        if k < 1 {
            return Err(Error::invalid(metric, format!("k must be positive, got {k}")));
        }
        Ok(TopKCounts { k, true_positives: 0.0, false_positives: 0.0, false_negatives: 0.0 })
    }

    fn add(&mut self, metric: &str, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<()> {
        let (hit, labels) = top_k_hits(metric, self.k, predictions, labels)?;
        let valid_labels = labels.ge(0).to_kind(Kind::Double).sum_dim_intlist(1, false, Kind::Double);
        let per_example_tp = hit.sum_dim_intlist(1, false, Kind::Double);
        let weights = broadcast_weights(metric, &per_example_tp, weights)?;
        let total = |t: Tensor| (t * &weights).sum(Kind::Double).double_value(&[]);
        self.true_positives += total(per_example_tp.shallow_clone());
        self.false_positives += total(-&per_example_tp + self.k as f64);
        self.false_negatives += total((valid_labels - &per_example_tp).clamp_min(0.0));
        Ok(())
    }
}

/// Whether each of the `k` top classes of each example is one of its labels (`[batch, k]`, 0 or 1, in rank
/// order), and the labels as `[batch, labels]` (negative entries are padding); an error naming `metric` for
/// predictions that are not `[batch, classes]`, `k` above the classes, or labels of another batch.
fn top_k_hits(metric: &str, k: i64, predictions: &Tensor, labels: &Tensor) -> Result<(Tensor, Tensor)> {
    let size = predictions.size();
    let [batch, classes] = size.as_slice() else {
        return Err(Error::invalid(metric, format!("predictions must be [batch, classes], got {size:?}")));
    };
    if k > *classes {
        return Err(Error::invalid(metric, format!("k = {k} is more than the {classes} classes")));
    }
    let labels = match labels.dim() {
        1 if labels.size()[0] == *batch => labels.unsqueeze(1),
        2 if labels.size()[0] == *batch => labels.shallow_clone(),
        _ => {
            return Err(Error::invalid(metric, format!("{batch} examples but labels of shape {:?}", labels.size())));
        }
    }
    .to_kind(Kind::Int64);
    let (_, top) = predictions.topk(k, 1, true, true);
    // hit[n, j]: the j-th top class of example n is one of its labels.
    let hit = top.unsqueeze(2).eq_tensor(&labels.unsqueeze(1)).any_dim(2, false).to_kind(Kind::Double);
    Ok((hit, labels))
}

/// TF-Slim's `streaming_sparse_precision_at_k`: of the `k` top classes of each example, the weighted fraction
/// that are labels.
#[derive(Clone, Debug)]
pub struct SparsePrecisionAtK {
    counts: TopKCounts,
}

impl SparsePrecisionAtK {
    /// Precision at `k` (positive).
    pub fn new(k: i64) -> Result<Self> {
        Ok(SparsePrecisionAtK { counts: TopKCounts::new("sparse_precision_at_k", k)? })
    }
}

impl StreamingMetric for SparsePrecisionAtK {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.counts.add("sparse_precision_at_k", predictions, labels, weights)?;
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        safe_div(self.counts.true_positives, self.counts.true_positives + self.counts.false_positives)
    }

    fn reset(&mut self) {
        let k = self.counts.k;
        self.counts = TopKCounts { k, true_positives: 0.0, false_positives: 0.0, false_negatives: 0.0 };
    }
}

/// TF-Slim's `streaming_sparse_recall_at_k`: of each example's labels, the weighted fraction among its `k` top
/// classes (unlike [`RecallAtK`](super::RecallAtK), ties are broken by `topk`'s order, as TF's sparse version).
#[derive(Clone, Debug)]
pub struct SparseRecallAtK {
    counts: TopKCounts,
}

impl SparseRecallAtK {
    /// Recall at `k` (positive).
    pub fn new(k: i64) -> Result<Self> {
        Ok(SparseRecallAtK { counts: TopKCounts::new("sparse_recall_at_k", k)? })
    }
}

impl StreamingMetric for SparseRecallAtK {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.counts.add("sparse_recall_at_k", predictions, labels, weights)?;
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        safe_div(self.counts.true_positives, self.counts.true_positives + self.counts.false_negatives)
    }

    fn reset(&mut self) {
        let k = self.counts.k;
        self.counts = TopKCounts { k, true_positives: 0.0, false_positives: 0.0, false_negatives: 0.0 };
    }
}

/// TF-Slim's `streaming_sparse_average_precision_at_k`: per example, the mean over its top `k` classes of the
/// precision at each rank that holds a label, divided by `min(k, its distinct labels)`; the weighted mean over
/// the examples. An example without labels gives NaN, as TF's does.
#[derive(Clone, Debug)]
pub struct SparseAveragePrecisionAtK {
    k: i64,
    total: f64,
    weight: f64,
}

impl SparseAveragePrecisionAtK {
    /// Average precision at `k` (positive).
    pub fn new(k: i64) -> Result<Self> {
        TopKCounts::new("sparse_average_precision_at_k", k)?;
        Ok(SparseAveragePrecisionAtK { k, total: 0.0, weight: 0.0 })
    }
}

impl StreamingMetric for SparseAveragePrecisionAtK {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        let metric = "sparse_average_precision_at_k";
        let (hit, labels) = top_k_hits(metric, self.k, predictions, labels)?;
        let ranks = Tensor::arange_start(1, self.k + 1, (Kind::Double, hit.device()));
        let precision_at_hits = hit.cumsum(1, Kind::Double) / ranks * &hit;
        let distinct = Vec::<Vec<i64>>::try_from(&labels)?
            .into_iter()
            .map(|row| {
                let mut valid: Vec<i64> = row.into_iter().filter(|label| *label >= 0).collect();
                valid.sort_unstable();
                valid.dedup();
                (valid.len() as i64).min(self.k) as f64
            })
            .collect::<Vec<f64>>();
        let average = precision_at_hits.sum_dim_intlist(1, false, Kind::Double) / Tensor::from_slice(&distinct);
        let weights = broadcast_weights(metric, &average, weights)?;
        self.total += (&average * &weights).sum(Kind::Double).double_value(&[]);
        self.weight += weights.sum(Kind::Double).double_value(&[]);
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        safe_div(self.total, self.weight)
    }

    fn reset(&mut self) {
        (self.total, self.weight) = (0.0, 0.0);
    }
}
