//! Cohen's kappa (TF-Slim's `cohen_kappa`): the agreement of predicted and true classes beyond chance, from a
//! streaming confusion matrix.

use tch::Tensor;

use super::confusion::ConfusionMatrix;
use super::{StreamingMetric, safe_div};
use crate::Result;

/// TF-Slim's `cohen_kappa(labels, predictions_idx, num_classes, weights)`: `(p_o − p_e) / (N − p_e)` with `p_o`
/// the weighted agreements, `N` the total weight and `p_e = Σ_c row_c · column_c / N` the agreements expected
/// by chance; 0 when the denominator is 0.
#[derive(Clone, Debug)]
pub struct CohenKappa {
    matrix: ConfusionMatrix,
}

impl CohenKappa {
    /// Kappa over `num_classes` (positive) classes.
    pub fn new(num_classes: i64) -> Result<Self> {
        Ok(CohenKappa { matrix: ConfusionMatrix::new(num_classes)? })
    }
}

impl StreamingMetric for CohenKappa {
    fn update(&mut self, predictions: &Tensor, labels: &Tensor, weights: Option<&Tensor>) -> Result<f64> {
        self.matrix.update(predictions, labels, weights)?;
        Ok(self.value())
    }

    fn value(&self) -> f64 {
        let n = self.matrix.num_classes();
        let row = |class: i64| (0..n).map(|c| self.matrix.get(class, c)).sum::<f64>();
        let column = |class: i64| (0..n).map(|r| self.matrix.get(r, class)).sum::<f64>();
        let total: f64 = (0..n).map(row).sum();
        let agreements: f64 = (0..n).map(|class| self.matrix.get(class, class)).sum();
        let chance: f64 = (0..n).map(|class| safe_div(row(class) * column(class), total)).sum();
        safe_div(agreements - chance, total - chance)
    }

    fn reset(&mut self) {
        self.matrix.reset();
    }
}
