//! The global step: an int64 scalar variable named `global_step`, counted by the train op.

use tch::{Kind, Tensor};

use super::collections::{GLOBAL_STEP, GLOBAL_VARIABLES};
use super::scope::current_store;
use super::variable::Variable;
use crate::{Error, Result};

/// Creates the global step in the current store; an error if it exists already.
pub fn create_global_step() -> Result<Variable> {
    let store = current_store()?;
    if get_global_step()?.is_some() {
        return Err(Error::invalid(GLOBAL_STEP, "the global step already exists"));
    }
    let value = Tensor::zeros([], (Kind::Int64, store.device()));
    let collections = vec![GLOBAL_VARIABLES.to_string(), GLOBAL_STEP.to_string()];
    store.insert(Variable::new(GLOBAL_STEP.to_string(), value, collections))
}

/// The global step of the current store, if it was created.
pub fn get_global_step() -> Result<Option<Variable>> {
    Ok(current_store()?.collection(GLOBAL_STEP).into_iter().next())
}

/// The global step, created on first use.
pub fn get_or_create_global_step() -> Result<Variable> {
    match get_global_step()? {
        Some(step) => Ok(step),
        None => create_global_step(),
    }
}
