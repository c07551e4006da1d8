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

/// TF's `get_global_step`: the variable in the `global_step` collection, else the one named `global_step`
/// (a user's own `variable("global_step", …)`), else `None`. One that is not an integer scalar, or more than one
/// in the collection, is an error saying so.
pub fn get_global_step() -> Result<Option<Variable>> {
    let store = current_store()?;
    let mut listed = store.collection(GLOBAL_STEP);
    if listed.len() > 1 {
        let names: Vec<&str> = listed.iter().map(Variable::name).collect();
        return Err(Error::invalid(GLOBAL_STEP, format!("the collection holds more than one variable: {names:?}")));
    }
    let Some(step) = listed.pop().or_else(|| store.variable(GLOBAL_STEP)) else { return Ok(None) };
    let tensor = step.tensor();
    let integer = matches!(tensor.kind(), Kind::Int64 | Kind::Int | Kind::Int16 | Kind::Int8 | Kind::Uint8);
    if !integer || tensor.dim() != 0 {
        let message =
            format!("{} must be an integer scalar, got {:?} of shape {:?}", step.name(), tensor.kind(), tensor.size());
        return Err(Error::invalid(GLOBAL_STEP, message));
    }
    Ok(Some(step))
}

/// The global step, created on first use.
pub fn get_or_create_global_step() -> Result<Variable> {
    match get_global_step()? {
        Some(step) => Ok(step),
        None => create_global_step(),
    }
}
