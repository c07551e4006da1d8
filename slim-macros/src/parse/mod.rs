//! Parsing: each macro's input into syntax structs. Only what the syntax itself demands is reported here;
//! whether the ops, keywords and signatures make sense is `validate`'s job.

pub(crate) mod add_arg_scope;
pub(crate) mod arg_scope;
pub(crate) mod call;
pub(crate) mod repeat;
