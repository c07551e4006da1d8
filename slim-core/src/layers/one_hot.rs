//! `one_hot_encoding`: integer labels to one-hot float rows.

use tch::{Kind, Tensor};

use crate::error::TorchContext;
use crate::{Error, Result};

/// TF-Slim's `one_hot_encoding(labels, num_classes, on_value, off_value)` as float32.
pub fn one_hot_encoding(labels: &Tensor, num_classes: i64, on_value: f64, off_value: f64) -> Result<Tensor> {
    let scope = "OneHotEncoding";
    if labels.is_floating_point() || labels.kind() == Kind::Bool {
        return Err(Error::invalid(scope, format!("labels must be integers, got {:?}", labels.kind())));
    }
    if num_classes < 1 {
        return Err(Error::invalid(scope, format!("num_classes must be positive, got {num_classes}")));
    }
    if labels.numel() > 0 {
        let (lo, hi) = (labels.min().int64_value(&[]), labels.max().int64_value(&[]));
        if lo < 0 || hi >= num_classes {
            return Err(Error::invalid(
                scope,
                format!("labels must lie in [0, {num_classes}), got values in [{lo}, {hi}]"),
            ));
        }
    }
    let hot = labels.to_kind(Kind::Int64).f_one_hot(num_classes).context(scope)?.to_kind(Kind::Float);
    Ok(&hot * on_value + (1.0 - hot) * off_value)
}
