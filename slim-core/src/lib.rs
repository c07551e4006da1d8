//! slim-core: the runtime of slim — variables and collections, arg scopes, initializers, regularizers and
//! layers with TF-Slim's names, defaults and numerics, losses, optimizers, the train op and loop, checkpoints in
//! three formats, metrics, evaluation, summaries and data, on libtorch through `tch`. Programs depend on the
//! `tch-slim` facade (library `slim`), which re-exports every module here beside the macros, the model zoo, the
//! data sets and the preprocessings; its front page is the guide.

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
