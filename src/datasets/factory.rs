//! `dataset_factory`: datasets by name, as TF-Slim's `datasets/dataset_factory.get_dataset`.

use std::path::Path;
use std::sync::Arc;

use slim_core::data::{
    DataSource, Dataset, ImageFolder, Split, StreamOptions, TfRecordSet, tfrecord_dataset, tfrecord_files,
};
use slim_core::{Error, Result};

use super::cifar::{cifar10, cifar100};
use super::idx_sets::{fashion_mnist, mnist};
use super::imagenet::imagenet;
use super::labels_file::{LABELS_FILE, read_labels_file};
use super::synthetic::synthetic;

/// The names [`get_dataset`] knows.
pub const DATASET_NAMES: [&str; 5] = ["fashion_mnist", "mnist", "cifar10", "cifar100", "synthetic"];

/// The dataset called `name`, its `split`, from `dir`, in memory: `fashion_mnist` (`dir`, else
/// `$SLIM_FASHION_MNIST`, else Debian's path), `mnist` (IDX files), `cifar10` and `cifar100` (fine labels; the
/// binary batches) need a directory; `synthetic` makes 28×28 images of 10 classes (6,000 for training, 1,000
/// for test) and reads nothing. A TFRecord set as TF-Slim's `download_and_convert` scripts wrote it, whatever
/// its name (`mnist` and `cifar10` too, when `dir` holds their converted files): `dir` holds
/// `<name>_train*.tfrecord` and `<name>_test*` (or `<name>_validation*`) files and TF-Slim's `labels.txt`
/// (`0:daisy` lines), which gives the class count and names. An unknown name without such files is an error
/// listing the known names.
pub fn get_dataset(name: &str, split: Split, dir: Option<&Path>) -> Result<Dataset> {
    if let Some(dir) = dir.filter(|dir| name != "synthetic" && holds_converted_set(name, dir)) {
        return tfrecord_set(name, split, dir);
    }
    let need_dir = || dir.ok_or_else(|| Error::invalid(name, "needs the directory that holds its files"));
    match name {
        "fashion_mnist" => fashion_mnist(dir, split),
        "mnist" => mnist(need_dir()?, split),
        "cifar10" => cifar10(need_dir()?, split),
        "cifar100" => cifar100(need_dir()?, split, true),
        "synthetic" => Ok(match split {
            Split::Train => synthetic(6000, 10, 28, 1)?,
            Split::Test => synthetic(1000, 10, 28, 2)?,
        }),
        other => match dir {
            Some(dir) if dir.join(LABELS_FILE).is_file() => tfrecord_set(other, split, dir),
            _ => Err(Error::invalid(
                "dataset_factory",
                format!(
                    "unknown dataset {other:?}; known: {}, or a TFRecord set: a --dataset_dir with \
                     {other}_train*.tfrecord files and {LABELS_FILE} (imagenet and image folders are streamed: \
                     get_data_source)",
                    DATASET_NAMES.join(", ")
                ),
            )),
        },
    }
}

/// Whether `dir` holds the set `name` as TF-Slim's converters write it: `labels.txt` and `<name>_*` TFRecord
/// files.
fn holds_converted_set(name: &str, dir: &Path) -> bool {
    dir.join(LABELS_FILE).is_file() && tfrecord_files(dir, &format!("{name}_")).is_ok_and(|files| !files.is_empty())
}

/// A TFRecord set `name` in `dir`, with the class names of its `labels.txt`.
fn tfrecord_set(name: &str, split: Split, dir: &Path) -> Result<Dataset> {
    let (files, names) = tfrecord_split(name, split, dir)?;
    let mut dataset = tfrecord_dataset(name, &files, names.len() as i64)?;
    dataset.labels_to_names = names;
    Ok(dataset)
}

/// The shards of a TFRecord set's `split` in `dir` and the class names of its `labels.txt`.
fn tfrecord_split(name: &str, split: Split, dir: &Path) -> Result<(Vec<std::path::PathBuf>, Vec<String>)> {
    let names = read_labels_file(&dir.join(LABELS_FILE))?;
    let prefixes: &[&str] = match split {
        Split::Train => &["train"],
        Split::Test => &["test", "validation"],
    };
    let files = prefixes
        .iter()
        .map(|split| tfrecord_files(dir, &format!("{name}_{split}")))
        .find(|found| found.as_ref().map_or(true, |files| !files.is_empty()))
        .unwrap_or_else(|| Ok(Vec::new()))?;
    if files.is_empty() {
        let patterns: Vec<String> = prefixes.iter().map(|split| format!("{name}_{split}*.tfrecord")).collect();
        return Err(Error::NotFound(format!("{} holds no {} files", dir.display(), patterns.join(" or "))));
    }
    Ok((files, names))
}

/// The dataset called `name` as a provider's source: the built-in sets of [`get_dataset`] in memory; `imagenet`
/// streamed from `build_imagenet_data.py`'s shards in `dir` ([`imagenet`]); a TFRecord set in `dir`
/// (`labels.txt` and `<name>_<split>*` shards) streamed; a folder of class folders of images streamed
/// (`dir/train` and `dir/validation` or `dir/test` when it has them, else `dir` itself for either split).
/// `options` say how streamed images are decoded and whether bad records are skipped.
pub fn get_data_source(name: &str, split: Split, dir: Option<&Path>, options: StreamOptions) -> Result<DataSource> {
    let Some(dir) = dir.filter(|_| !DATASET_NAMES.contains(&name)) else {
        return get_dataset(name, split, dir).map(DataSource::InMemory);
    };
    if name == "imagenet" {
        return Ok(DataSource::Records(Arc::new(imagenet(split, dir, options, &[])?)));
    }
    if dir.join(LABELS_FILE).is_file() {
        let (files, names) = tfrecord_split(name, split, dir)?;
        let mut set = TfRecordSet::open(name, &files, names.len() as i64, options)?;
        set.labels_to_names = names;
        return Ok(DataSource::Records(Arc::new(set)));
    }
    let split_dirs: &[&str] = match split {
        Split::Train => &["train"],
        Split::Test => &["validation", "test"],
    };
    let folder = split_dirs.iter().map(|split| dir.join(split)).find(|path| path.is_dir());
    match ImageFolder::open(folder.as_deref().unwrap_or(dir), options) {
        Ok(folder) => Ok(DataSource::Folder(Arc::new(folder))),
        Err(Error::NotFound(_)) => get_dataset(name, split, Some(dir)).map(DataSource::InMemory),
        Err(error) => Err(error),
    }
}
