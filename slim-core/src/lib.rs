//! slim-core: the runtime of slim — variables and collections, arg scopes, initializers, regularizers and
//! layers with TF-Slim's names, defaults and numerics, on libtorch through `tch`.

#[doc(hidden)]
pub mod __private;
pub mod arg_scope;
pub mod backend;
pub mod checkpoint;
mod context;
pub mod data;
mod error;
pub mod evaluation;
pub mod initializers;
pub mod io;
pub mod layers;
pub mod learning;
mod log_lines;
pub mod losses;
pub mod metrics;
pub mod mode;
pub mod model;
mod native;
pub mod optimizers;
pub mod regularizers;
pub mod summary;
mod switch;
pub mod variables;

pub use error::{Error, Result, TorchContext};
