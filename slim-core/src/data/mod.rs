//! Data: the in-memory [`Dataset`], readers of IDX files and of TFRecords of `tf.train.Example`s, and a provider
//! that batches a dataset in a seeded shuffled order over epochs (on reader threads with a bounded queue if
//! asked), applying a [`Preprocessing`], with a position a checkpoint can keep. The data sets themselves (MNIST,
//! CIFAR, …), TF-Slim's preprocessings and their factories are application code, in the `slim` crate's
//! `datasets` and `preprocessing`.

mod dataset;
mod idx;
mod provider;
mod rng;
mod tfrecord;

pub use dataset::{Dataset, Split};
pub use idx::{IdxArray, read_idx};
pub use provider::{Batch, Position, Prefetch, Preprocessing, Provider};
pub use rng::SplitMix64;
pub use tfrecord::{tfrecord_dataset, tfrecord_files};
