//! Looking variables up in the current store: by scope pattern and suffix, by short name, exactly.

use regex::Regex;

use super::collections::{GLOBAL_VARIABLES, LOCAL_VARIABLES, MODEL_VARIABLES, TRAINABLE_VARIABLES};
use super::scope::current_store;
use super::variable::Variable;
use crate::{Error, Result};

fn compile(pattern: &str) -> Result<Regex> {
    Regex::new(pattern).map_err(|e| Error::invalid("get_variables", format!("bad scope pattern {pattern:?}: {e}")))
}

/// The variables of `collection` whose full name matches `scope` as a regex anchored at the start (TF's
/// `re.match`) and, when given, ends with `suffix` after it.
pub fn get_variables(scope: Option<&str>, suffix: Option<&str>, collection: &str) -> Result<Vec<Variable>> {
    let pattern = format!(
        "^(?:{}){}",
        scope.unwrap_or(""),
        suffix.map(|s| format!(".*{}$", regex::escape(s))).unwrap_or_default()
    );
    let re = compile(&pattern)?;
    Ok(current_store()?.collection(collection).into_iter().filter(|v| re.is_match(v.name())).collect())
}

/// [`get_variables`] over the global variables.
pub fn get_global_variables(scope: Option<&str>, suffix: Option<&str>) -> Result<Vec<Variable>> {
    get_variables(scope, suffix, GLOBAL_VARIABLES)
}

/// [`get_variables`] over the model variables.
pub fn get_model_variables(scope: Option<&str>, suffix: Option<&str>) -> Result<Vec<Variable>> {
    get_variables(scope, suffix, MODEL_VARIABLES)
}

/// [`get_variables`] over the trainable variables.
pub fn get_trainable_variables(scope: Option<&str>, suffix: Option<&str>) -> Result<Vec<Variable>> {
    get_variables(scope, suffix, TRAINABLE_VARIABLES)
}

/// [`get_variables`] over the local variables.
pub fn get_local_variables(scope: Option<&str>, suffix: Option<&str>) -> Result<Vec<Variable>> {
    get_variables(scope, suffix, LOCAL_VARIABLES)
}

/// Global variables whose name ends with `suffix` (`"a"` matches `A/a`, `A/fooa`, `B/a`).
pub fn get_variables_by_suffix(suffix: &str, scope: Option<&str>) -> Result<Vec<Variable>> {
    get_variables(scope, Some(suffix), GLOBAL_VARIABLES)
}

/// Global variables whose last name component is exactly `name`.
pub fn get_variables_by_name(name: &str, scope: Option<&str>) -> Result<Vec<Variable>> {
    let re = compile(&format!("(?:^|/){}$", regex::escape(name)))?;
    Ok(get_global_variables(scope, None)?.into_iter().filter(|v| re.is_match(v.name())).collect())
}

/// The one global variable with exactly this full name; an error naming what was found otherwise.
pub fn get_unique_variable(name: &str) -> Result<Variable> {
    let candidates = get_global_variables(Some(&regex::escape(name)), None)?;
    if let Some(exact) = candidates.iter().find(|v| v.name() == name) {
        return Ok(exact.clone());
    }
    if candidates.is_empty() {
        return Err(Error::NotFound(format!("couldn't find variable {name}")));
    }
    let names: Vec<&str> = candidates.iter().map(Variable::name).collect();
    Err(Error::NotFound(format!("variable {name} does not uniquely identify a variable; it prefixes {names:?}")))
}
