//! Variables and their collections: the store, variable scopes with reuse, creation and lookup.

pub mod collections;
mod create;
mod filter;
mod global_step;
mod query;
mod scope;
mod store;
mod update_ops;
mod variable;

pub(crate) use create::get_or_create;
pub use create::{
    ModelVariableArgs, VariableArgs, VariableOptions, add_model_variable, global_variable, local_variable,
    model_variable, variable,
};
pub use filter::{VariablePattern, filter_variables, get_variables_to_restore};
pub use global_step::{create_global_step, get_global_step, get_or_create_global_step};
pub use query::{
    get_global_variables, get_local_variables, get_model_variables, get_trainable_variables, get_unique_variable,
    get_variables, get_variables_by_name, get_variables_by_suffix,
};
pub use scope::{Reuse, ScopeGuard, StoreGuard, VariableScope, current_scope_name, current_store, join_name};
pub(crate) use scope::{scope_mark, scope_name_since};
pub use store::VarStore;
pub(crate) use store::is_valid_variable_name;
pub use update_ops::UpdateOp;
pub use variable::Variable;
