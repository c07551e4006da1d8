//! Data: the in-memory [`Dataset`], the streaming [`TfRecordSet`] (TFRecord shards read as needed), readers of
//! IDX files and of TFRecords of `tf.train.Example`s, and a provider that batches either in a seeded shuffled
//! order over epochs (on reader threads with a bounded queue if asked), applying a [`Preprocessing`], with a
//! position a checkpoint can keep. The data sets themselves (MNIST,
//! CIFAR, …), TF-Slim's preprocessings and their factories are application code, in the `slim` crate's
//! `datasets` and `preprocessing`.

mod batch;
mod batch_item;
mod data_position;
mod dataset;
mod example;
mod idx;
mod image;
mod image_folder;
mod plan;
mod preprocessing;
mod provider;
mod record_order;
mod record_set;
mod rng;
mod source;
mod tfexample_decoder;
mod tfrecord;

pub use batch::Batch;
pub use batch_item::BatchItem;
pub use data_position::DataPosition;
pub use dataset::{Dataset, Split};
pub use example::{ExampleFeatures, FeatureValues, image_to_tfexample};
pub use idx::{IdxArray, read_idx};
pub use image::{DecodedImage, FloatImage};
pub use image_folder::{IMAGE_EXTENSIONS, ImageFolder};
pub use plan::Position;
pub use preprocessing::Preprocessing;
pub use provider::{DEFAULT_SHUFFLE_BUFFER, Prefetch, Provider};
pub use record_set::{StreamOptions, TfRecordSet};
pub use rng::SplitMix64;
pub use source::DataSource;
pub use tfexample_decoder::{FeatureKind, FeatureSpec, Item, ItemHandler, TfExampleDecoder};
pub use tfrecord::{tfrecord_dataset, tfrecord_files};
