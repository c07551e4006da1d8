//! Data: in-memory datasets read from IDX files (MNIST, Fashion-MNIST), CIFAR binaries, TFRecords of
//! `tf.train.Example`s, or generated, and a provider that
//! batches them in a seeded shuffled order over epochs (on reader threads with a bounded queue if asked), with
//! a position a checkpoint can keep.

mod cifar;
mod dataset;
mod factory;
mod idx;
mod image_ops;
mod inception_preprocessing;
mod preprocessing;
mod preprocessing_factory;
mod provider;
mod rng;
mod tfrecord;
mod vgg_preprocessing;

pub use cifar::{cifar10, cifar100};
pub use dataset::{DEBIAN_FASHION_MNIST, Dataset, Split, fashion_mnist, mnist, synthetic};
pub use factory::{DATASET_NAMES, get_dataset};
pub use idx::{IdxArray, read_idx};
pub use inception_preprocessing::InceptionPreprocessing;
pub use preprocessing::CifarnetPreprocessing;
pub use preprocessing_factory::{PREPROCESSING_NAMES, get_preprocessing};
pub use provider::{Batch, Position, Prefetch, Preprocessing, Provider, lenet_preprocessing};
pub use tfrecord::{tfrecord_dataset, tfrecord_files};
pub use vgg_preprocessing::{VGG_RGB_MEANS, VggPreprocessing};
