//! `dataset_factory`: datasets by name, as TF-Slim's `datasets/dataset_factory.get_dataset`.

use std::path::Path;

use super::cifar::{cifar10, cifar100};
use super::dataset::{Dataset, Split, fashion_mnist, mnist, synthetic};
use crate::{Error, Result};

/// The names [`get_dataset`] knows.
pub const DATASET_NAMES: [&str; 5] = ["fashion_mnist", "mnist", "cifar10", "cifar100", "synthetic"];

/// The dataset called `name`, its `split`, from `dir`: `fashion_mnist` (`dir`, else `$SLIM_FASHION_MNIST`, else
/// Debian's path), `mnist`, `cifar10` and `cifar100` (fine labels) need a directory; `synthetic` makes 28×28
/// images of 10 classes (6,000 for training, 1,000 for test) and reads nothing. An unknown name is an error
/// listing the known ones.
pub fn get_dataset(name: &str, split: Split, dir: Option<&Path>) -> Result<Dataset> {
    let need_dir = || dir.ok_or_else(|| Error::invalid(name, "needs the directory that holds its files"));
    match name {
        "fashion_mnist" => fashion_mnist(dir, split),
        "mnist" => mnist(need_dir()?, split),
        "cifar10" => cifar10(need_dir()?, split),
        "cifar100" => cifar100(need_dir()?, split, true),
        "synthetic" => Ok(match split {
            Split::Train => synthetic(6000, 10, 28, 1),
            Split::Test => synthetic(1000, 10, 28, 2),
        }),
        other => Err(Error::invalid(
            "dataset_factory",
            format!("unknown dataset {other:?}; known: {}", DATASET_NAMES.join(", ")),
        )),
    }
}
