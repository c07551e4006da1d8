//! Expansion: validated inputs into calls of the `slim` runtime. Each macro's entry point here runs the three
//! phases in order (parse, validate, expand) and, after a mistake, emits the errors beside items that keep
//! the rest of the program free of follow-on errors.

pub(crate) mod add_arg_scope;
pub(crate) mod arg_scope;
pub(crate) mod call;
pub(crate) mod model;
pub(crate) mod repeat;
