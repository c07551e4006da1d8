//! slim-core: the runtime of slim — variables and collections, arg scopes, initializers, regularizers and
//! layers with TF-Slim's names, defaults and numerics, losses, optimizers, the train op and loop, checkpoints in
//! three formats, metrics, evaluation, summaries and data, on libtorch through `tch`.
//!
//! Programs usually depend on the `tch-slim` facade (library `slim`), which re-exports every module here beside
//! the macros (`#[slim::model]`, `arg_scope!`), the model zoo, the data sets and the preprocessings, and whose
//! front page is the full guide. This crate is what the macros expand to, and can be used without them: every
//! layer is a builder, and an arg scope is a value entered for a block.
//!
//! # Quick start, without macros
//!
//! ```
//! use slim_core::arg_scope::ArgScope;
//! use slim_core::layers::fully_connected;
//! use slim_core::learning::create_train_op;
//! use slim_core::losses::{get_total_loss, sparse_softmax_cross_entropy};
//! use slim_core::optimizers::Momentum;
//! use slim_core::regularizers::l2_regularizer;
//! use slim_core::variables::{Reuse, VarStore, VariableScope};
//! use tch::{Device, Kind, Tensor};
//!
//! # fn main() -> slim_core::Result<()> {
//! let vs = VarStore::new(Device::Cpu);
//! let _store = vs.as_default(); // layers create their variables in the default store
//! let images = Tensor::randn([16, 8], (Kind::Float, Device::Cpu));
//! let labels = Tensor::from_slice(&[0i64, 1, 2, 1]).repeat([4]);
//! // TF-Slim's `with slim.arg_scope([slim.fully_connected], weights_regularizer=...)`.
//! let defaults = fully_connected::Args::default().weights_regularizer(l2_regularizer(1e-4));
//! let forward = |images: &Tensor| -> slim_core::Result<Tensor> {
//!     let _defaults = ArgScope::current().with(defaults.clone()).enter();
//!     let _scope = VariableScope::new("mlp").reuse(Reuse::Auto).enter()?; // TF's AUTO_REUSE
//!     let net = fully_connected(images, 32).scope("fc1").call()?;
//!     fully_connected(&net, 3).activation_fn(None).scope("logits").call()
//! };
//! forward(&images)?; // creates mlp/fc1/weights, mlp/fc1/biases, mlp/logits/…
//! let mut train_op = create_train_op(&vs, Momentum::new(0.9)?, 0.1).build()?;
//! let loss = train_op.step(|| {
//!     let logits = forward(&images)?; // the same names: the variables are reused
//!     let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?; // joins the LOSSES collection
//!     get_total_loss(true) // plus the two l2 regularization losses
//! })?;
//! assert!(loss.is_finite() && train_op.global_step() == 1);
//! assert_eq!(vs.variable("mlp/fc1/weights").map(|w| w.shape()), Some(vec![32, 8]));
//! # Ok(())
//! # }
//! ```
//!
//! # Where things are
//!
//! - [`variables`]: [`VarStore`](variables::VarStore), variable scopes and reuse, collections.
//! - [`arg_scope`]: [`ArgScope`](arg_scope::ArgScope) frames of per-op defaults (each layer's `Args`).
//! - [`layers`], [`initializers`], [`regularizers`]: TF-Slim's layers and their defaults; the [`Layer`](layers::Layer)
//!   protocol a user's own layer implements to join arg scopes and the tape.
//! - [`model`]: what `#[slim::model]` builds on: models built from an example shape and replayed from the tape.
//! - [`losses`], [`optimizers`], [`learning`]: the loss collection, TF's optimizers with named slots,
//!   `create_train_op` and the training loop.
//! - [`checkpoint`], [`summary`]: safetensors, TF V2 and `torch.save` checkpoints; TensorBoard event files.
//! - [`metrics`], [`evaluation`]: streaming metrics, `evaluate_once`, `evaluation_loop`.
//! - [`data`], [`io`]: in-memory data sets, the batch [`Provider`](data::Provider), TFRecord framing.
//! - [`distributed`]: data-parallel training over processes and machines (MPI with the `mpi` feature).
//! - [`backend`]: the CPU speed paths' switches; [`mode`]: train or eval mode.

#[doc(hidden)]
pub mod __private;
pub mod arg_scope;
pub mod backend;
pub mod checkpoint;
mod context;
pub mod data;
pub mod distributed;
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
