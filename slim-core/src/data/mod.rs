//! Data: the in-memory [`Dataset`], readers of IDX files and of TFRecords of `tf.train.Example`s, preprocessing,
//! and a provider that batches a dataset in a seeded shuffled order over epochs (on reader threads with a bounded
//! queue if asked), with a position a checkpoint can keep. The data sets themselves (MNIST, CIFAR, …) and their
//! factory are application code, in the `slim` crate's `datasets`.

mod dataset;
mod idx;
mod image_ops;
mod inception_preprocessing;
mod preprocessing;
mod preprocessing_factory;
mod provider;
mod rng;
mod tfrecord;
mod vgg_preprocessing;

pub use dataset::{Dataset, Split};
pub use idx::{IdxArray, read_idx};
pub use inception_preprocessing::InceptionPreprocessing;
pub use preprocessing::CifarnetPreprocessing;
pub use preprocessing_factory::{PREPROCESSING_NAMES, get_preprocessing};
pub use provider::{Batch, Position, Prefetch, Preprocessing, Provider, lenet_preprocessing};
pub use rng::SplitMix64;
pub use tfrecord::{tfrecord_dataset, tfrecord_files};
pub use vgg_preprocessing::{VGG_RGB_MEANS, VggPreprocessing};
