//! Choosing variables by scope patterns that mean what users mean: `"fc8"` matches the scope component `fc8`
//! wherever it stands (`vgg_16/fc8/weights`), `"conv1/conv1_1"` a run of components; a regular expression is
//! there for anything else.

use regex::Regex;

use super::collections::GLOBAL_VARIABLES;
use super::scope::current_store;
use super::variable::Variable;
use crate::{Error, Result};

/// A pattern over variable names.
#[derive(Clone, Debug)]
pub enum VariablePattern {
    /// Whole scope components, anywhere in the name: `fc8` matches `vgg_16/fc8/weights` but not
    /// `vgg_16/fc81/weights`; `conv1/conv1_1` matches those two components in a row.
    Scope(String),
    /// A regular expression searched anywhere in the full name.
    Regex(Regex),
}

impl From<&str> for VariablePattern {
    fn from(pattern: &str) -> Self {
        VariablePattern::Scope(pattern.trim_matches('/').to_string())
    }
}

impl From<String> for VariablePattern {
    fn from(pattern: String) -> Self {
        VariablePattern::from(pattern.as_str())
    }
}

impl VariablePattern {
    /// A regular-expression pattern; an error for a bad expression.
    pub fn regex(pattern: &str) -> Result<Self> {
        Regex::new(pattern)
            .map(VariablePattern::Regex)
            .map_err(|e| Error::invalid("variable pattern", format!("bad regular expression {pattern:?}: {e}")))
    }

    /// Whether the full variable name `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            VariablePattern::Regex(regex) => regex.is_match(name),
            VariablePattern::Scope(scope) => {
                let wanted: Vec<&str> = scope.split('/').collect();
                let components: Vec<&str> = name.split('/').collect();
                components.windows(wanted.len()).any(|window| window == wanted.as_slice())
            }
        }
    }
}

/// TF-Slim's `filter_variables`: the variables matching any include pattern (all when none is given) and no
/// exclude pattern, in their order.
pub fn filter_variables(
    variables: Vec<Variable>,
    include: &[VariablePattern],
    exclude: &[VariablePattern],
) -> Vec<Variable> {
    let included = |v: &Variable| include.is_empty() || include.iter().any(|p| p.matches(v.name()));
    let excluded = |v: &Variable| exclude.iter().any(|p| p.matches(v.name()));
    variables.into_iter().filter(|v| included(v) && !excluded(v)).collect()
}

/// TF-Slim's `get_variables_to_restore(include, exclude)`: the current store's global variables (every one a
/// checkpoint holds: model variables, plain `variable()`s, the global step and optimizer slots once a train op
/// exists) that match `include` (all when empty) and not `exclude`. `get_variables_to_restore(&[],
/// &["fc8".into()])` leaves out `vgg_16/fc8/*`. To warm-start from another model's checkpoint, which has no
/// slots of this run, filter the model variables instead, as TF-Slim's train_image_classifier does:
/// `filter_variables(get_model_variables(None, None)?, &[], &exclude)`.
pub fn get_variables_to_restore(include: &[VariablePattern], exclude: &[VariablePattern]) -> Result<Vec<Variable>> {
    Ok(filter_variables(current_store()?.collection(GLOBAL_VARIABLES), include, exclude))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_patterns_match_whole_components_anywhere() {
        let fc8 = VariablePattern::from("fc8");
        assert!(fc8.matches("vgg_16/fc8/weights"));
        assert!(fc8.matches("fc8/biases"));
        assert!(!fc8.matches("vgg_16/fc81/weights"));
        assert!(!fc8.matches("vgg_16/fc/weights"));
        let nested = VariablePattern::from("conv1/conv1_1/");
        assert!(nested.matches("vgg_16/conv1/conv1_1/weights"));
        assert!(!nested.matches("vgg_16/conv1/conv1_2/weights"));
        let regex = VariablePattern::regex("fc[67]/").unwrap();
        assert!(regex.matches("vgg_16/fc7/weights") && !regex.matches("vgg_16/fc8/weights"));
        assert!(VariablePattern::regex("(").is_err());
    }
}
