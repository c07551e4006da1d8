//! Creating variables in the current scope: `variable`, `model_variable`, `local_variable`,
//! `global_variable`, `add_model_variable`, with get-or-create semantics under reuse.

use tch::{Kind, Tensor};

use super::collections::{GLOBAL_VARIABLES, LOCAL_VARIABLES, MODEL_VARIABLES, TRAINABLE_VARIABLES};
use super::scope::{EffectiveReuse, current_reuse, current_scope_name, current_store, join_name};
use super::variable::Variable;
use crate::arg_scope::{ArgScope, ScopeArgs, scope_args};
use crate::initializers::{Fans, Initializer, xavier_initializer};
use crate::regularizers::{RegularizationLoss, Regularizer};
use crate::{Error, Result};

scope_args! {
    /// The arguments of [`variable`] (arg-scopable, as in TF-Slim).
    pub struct VariableArgs => VariableOptions for "variable" [] {
        /// The element kind (default `Float`).
        kind: Kind = Kind::Float,
        /// How the first value is made (default xavier uniform, as TF's `get_variable`).
        initializer: Initializer = xavier_initializer(true),
        /// A penalty registered in `REGULARIZATION_LOSSES` when the variable is created.
        regularizer: Option<Regularizer> = None,
        /// Whether optimizers update it (default true).
        trainable: bool = true,
        /// The collections to join (TF-Slim's `collections`): for [`variable`] they replace the global variables
        /// (none given: the global variables), for [`model_variable`] they join the global and model variables;
        /// a trainable variable joins the trainable variables either way.
        collections: Vec<String> = Vec::new(),
    }
}

/// The arguments of [`model_variable`]: the same fields as [`VariableArgs`], under their own arg-scope key, so
/// that `arg_scope` over `variable` does not reach `model_variable` (as in TF-Slim).
#[derive(Clone, Default, Debug)]
pub struct ModelVariableArgs(pub VariableArgs);

impl ScopeArgs for ModelVariableArgs {
    const OP_NAME: &'static str = "model_variable";
    const FIELDS: &'static [&'static str] = VariableArgs::FIELDS;

    fn or(self, outer: &Self) -> Self {
        ModelVariableArgs(self.0.or(&outer.0))
    }

    fn set_fields(&self) -> Vec<&'static str> {
        self.0.set_fields()
    }
}

/// Gets or creates the variable `name` in the current scope (TF-Slim's `variable`). Without reuse a name that
/// exists is an error; with reuse a missing one is, and so is a shape that differs from the existing one.
pub fn variable(name: &str, shape: &[i64], args: VariableArgs) -> Result<Variable> {
    let options = args.resolve_in_scope();
    get_or_create(name, shape, &options, false, None)
}

/// Like [`variable`], and also a member of the model variables (TF-Slim's `model_variable`).
pub fn model_variable(name: &str, shape: &[i64], args: ModelVariableArgs) -> Result<Variable> {
    let options = ArgScope::resolve(args).0.resolve();
    get_or_create(name, shape, &options, true, None)
}

/// A non-trainable variable holding `initial_value`, in the local variables only: never saved nor restored.
pub fn local_variable(name: &str, initial_value: &Tensor) -> Result<Variable> {
    let store = current_store()?;
    let full = join_name(&current_scope_name(), name);
    let tensor = initial_value.detach().copy().to_device(store.device());
    store.insert(Variable::new(full, tensor, vec![LOCAL_VARIABLES.to_string()]))
}

/// A non-trainable global variable holding `initial_value` (saved in checkpoints, not a model variable).
pub fn global_variable(name: &str, initial_value: &Tensor) -> Result<Variable> {
    let store = current_store()?;
    let full = join_name(&current_scope_name(), name);
    let tensor = initial_value.detach().copy().to_device(store.device());
    store.insert(Variable::new(full, tensor, vec![GLOBAL_VARIABLES.to_string()]))
}

/// Adds an existing variable (by full name) to the model variables.
pub fn add_model_variable(name: &str) -> Result<()> {
    current_store()?.add_to_collection(name, MODEL_VARIABLES)
}

/// Gets or creates a variable with resolved options; `fans` overrides the layout-derived fans.
pub(crate) fn get_or_create(
    name: &str,
    shape: &[i64],
    options: &VariableOptions,
    model: bool,
    fans: Option<Fans>,
) -> Result<Variable> {
    let store = current_store()?;
    let full = join_name(&current_scope_name(), name);
    match (store.variable(&full), current_reuse()) {
        (Some(existing), EffectiveReuse::Reuse | EffectiveReuse::Auto) => {
            if existing.shape() != shape {
                return Err(Error::ShapeMismatch { name: full, existing: existing.shape(), requested: shape.to_vec() });
            }
            Ok(existing)
        }
        (Some(_), EffectiveReuse::Create) => Err(Error::DuplicateVariable { name: full }),
        (None, EffectiveReuse::Reuse) => Err(Error::MissingVariable { name: full }),
        (None, _) => create(&store, full, shape, options, model, fans),
    }
}

fn create(
    store: &super::VarStore,
    full: String,
    shape: &[i64],
    options: &VariableOptions,
    model: bool,
    fans: Option<Fans>,
) -> Result<Variable> {
    if let Some(regularizer) = &options.regularizer {
        regularizer.validate(&full)?;
    }
    if let Some(bad) = shape.iter().find(|&&d| d < 0) {
        return Err(Error::invalid(&full, format!("a variable cannot have a negative dimension ({bad}) in {shape:?}")));
    }
    let fans = fans.unwrap_or_else(|| Fans::of_shape(shape));
    let tensor = tch::no_grad(|| options.initializer.initialize_with_fans(shape, fans, options.kind, store.device()))
        .map_err(|e| Error::invalid(&full, e.to_string()))?;
    let tensor = if options.trainable { tensor.set_requires_grad(true) } else { tensor };
    let variable = store.insert(Variable::new(full.clone(), tensor, membership(options, model)))?;
    if let Some(regularizer) = options.regularizer.as_ref().filter(|r| !r.is_noop()) {
        let loss = RegularizationLoss::new(format!("{full}/Regularizer"), variable.tensor(), regularizer.clone());
        store.add_regularization_loss(loss);
    }
    Ok(variable)
}

/// The collections a new variable joins, as TF-Slim's `variable` and `model_variable` choose them.
fn membership(options: &VariableOptions, model: bool) -> Vec<String> {
    let mut collections = match (model, options.collections.is_empty()) {
        (true, _) => vec![GLOBAL_VARIABLES.to_string(), MODEL_VARIABLES.to_string()],
        (false, true) => vec![GLOBAL_VARIABLES.to_string()],
        (false, false) => Vec::new(),
    };
    let trainable = options.trainable.then(|| TRAINABLE_VARIABLES.to_string());
    for collection in options.collections.iter().cloned().chain(trainable) {
        if !collections.contains(&collection) {
            collections.push(collection);
        }
    }
    collections
}
