//! Data-parallel training across processes and machines (TF-Slim's `model_deploy` clones, Horovod's ring
//! all-reduce, PyTorch's DDP): every rank runs the same model on its part of each global batch, and the train op
//! averages the gradients over the ranks before it applies them, so every rank takes the same step.
//!
//! - [`World`]: the rank, the number of ranks and the rank on the machine, from the launcher.
//! - [`Collective`] and [`GradientReducer`]: what a communication backend offers; [`Mpi`] (the `mpi` feature)
//!   is the one slim ships.
//! - [`TrainOpBuilder::distributed`](crate::learning::TrainOpBuilder::distributed) turns a train op
//!   data-parallel; [`Provider::shard`](crate::data::Provider::shard) gives each rank its part of every batch, and
//!   [`BatchPart`] tells dropout which part a forward pass holds.

mod batch_part;
mod collective;
mod data_parallel;
#[cfg(feature = "mpi")]
mod mpi;
mod world;

pub use batch_part::BatchPart;
pub(crate) use batch_part::first_element;
pub use collective::{Collective, GradientReducer};
pub use data_parallel::DEFAULT_BUCKET_BYTES;
pub(crate) use data_parallel::DataParallel;
#[cfg(feature = "mpi")]
pub use mpi::{DEFAULT_TIMEOUT, Mpi};
pub use world::World;
