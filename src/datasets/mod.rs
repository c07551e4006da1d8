//! TF-Slim's data sets (its `datasets/` folder): MNIST and Fashion-MNIST, CIFAR-10 and CIFAR-100, a generated
//! set, TFRecord sets as TF-Slim's converters write them, and `get_dataset` to pick one by name. Each loads into a
//! [`slim::data::Dataset`](crate::data::Dataset) that a [`Provider`](crate::data::Provider) batches.

mod cifar;
mod factory;
mod idx_sets;
mod imagenet;
mod labels_file;
mod synthetic;

pub use cifar::{cifar10, cifar100};
pub use factory::{DATASET_NAMES, get_data_source, get_dataset};
pub use idx_sets::{DEBIAN_FASHION_MNIST, fashion_mnist, mnist};
pub use imagenet::{IMAGENET_NUM_CLASSES, imagenet, imagenet_decoder};
pub use synthetic::synthetic;
