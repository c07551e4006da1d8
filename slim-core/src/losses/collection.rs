//! The `LOSSES` collection: adding losses, reading them back, and the total loss.

use tch::{Kind, Tensor};

use crate::regularizers::RegularizationLoss;
use crate::variables::collections::LOSSES;
use crate::variables::{current_scope_name, current_store, join_name};
use crate::{Error, Result};

/// Adds `loss` to `collection` of the current store under `name`.
pub(crate) fn add_named_loss(collection: &str, name: &str, loss: &Tensor) -> Result<()> {
    current_store()?.add_loss(collection, name, loss);
    Ok(())
}

/// TF-Slim's `add_loss(loss)`: registers a custom loss in `LOSSES`, named after the current scope.
pub fn add_loss(loss: &Tensor) -> Result<()> {
    let name = join_name(&current_scope_name(), "loss");
    add_named_loss(LOSSES, &name, loss)
}

/// The losses of `collection` (default `LOSSES`) whose names start with `scope`, as `(name, loss)` pairs.
pub fn get_losses(scope: Option<&str>, collection: Option<&str>) -> Result<Vec<(String, Tensor)>> {
    let losses = current_store()?.losses(collection.unwrap_or(LOSSES));
    Ok(losses.into_iter().filter(|(name, _)| scope.is_none_or(|scope| name.starts_with(scope))).collect())
}

/// The regularization losses whose names start with `scope`.
pub fn get_regularization_losses(scope: Option<&str>) -> Result<Vec<RegularizationLoss>> {
    let losses = current_store()?.regularization_losses();
    Ok(losses.into_iter().filter(|loss| scope.is_none_or(|scope| loss.name().starts_with(scope))).collect())
}

/// TF-Slim's `get_total_loss`: the sum of the `LOSSES` collection and, when asked, of the regularization
/// losses. An error when there is nothing to sum.
pub fn get_total_loss(add_regularization_losses: bool) -> Result<Tensor> {
    let mut terms: Vec<Tensor> = get_losses(None, None)?.into_iter().map(|(_, loss)| loss).collect();
    if add_regularization_losses {
        terms.extend(get_regularization_losses(None)?.iter().map(RegularizationLoss::value));
    }
    let mut terms = terms.into_iter();
    let first = terms.next().ok_or_else(|| {
        Error::invalid("total_loss", "no losses to sum: compute a loss (which adds it to LOSSES) first")
    })?;
    let first = if first.kind() == Kind::Float { first } else { first.to_kind(Kind::Float) };
    Ok(terms.fold(first, |sum, term| sum + term))
}
