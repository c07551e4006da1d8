//! Validation: parsed inputs checked against the shapes the runtime needs. Every mistake is
//! reported at its token, all of them together, before anything is expanded.

pub(crate) mod add_arg_scope;
pub(crate) mod arg_scope;
pub(crate) mod call;
pub(crate) mod model;
pub(crate) mod repeat;
