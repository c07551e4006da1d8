//! TFRecord files of `tf.train.Example`s, as TF-Slim's `download_and_convert_*` scripts wrote them:
//! `image/encoded` (PNG, JPEG, or raw bytes with `image/height`, `image/width`, `image/channels`),
//! `image/format`, `image/class/label`. Every record's checksums are verified.

use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::dataset::Dataset;
use super::example::decode_example;
use crate::io::read_records;
use crate::{Error, Result};

/// A dataset from TFRecord files of `tf.train.Example` images (all of one size) with labels in
/// `0..num_classes`. A bad checksum, an undecodable image, a size that differs or a label out of range is an
/// error naming the file and the record.
pub fn tfrecord_dataset(name: &str, files: &[PathBuf], num_classes: i64) -> Result<Dataset> {
    let (mut pixels, mut labels, mut shape) = (Vec::new(), Vec::new(), None);
    for path in files {
        let bad = |message: String| Error::Io { path: path.display().to_string(), message };
        let contents = std::fs::read(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        let records = read_records(&contents).map_err(|error| match error {
            Error::Io { message, .. } => bad(message),
            other => other,
        })?;
        for (index, record) in records.iter().enumerate() {
            let (image, label) = decode_example(record).map_err(|m| bad(format!("record {index}: {m}")))?;
            if !(0..num_classes).contains(&label) {
                return Err(bad(format!("record {index}: label {label} is not in 0..{num_classes}")));
            }
            let this = (image.channels, image.height, image.width);
            if *shape.get_or_insert(this) != this {
                return Err(bad(format!("record {index}: image {this:?} differs from the first, {shape:?}")));
            }
            // Channels last in the file; channels first in the dataset.
            let (c, h, w) = this;
            pixels
                .extend((0..c).flat_map(|ch| (0..h * w).map(move |p| (ch, p))).map(|(ch, p)| image.pixels[p * c + ch]));
            labels.push(label);
        }
    }
    let (c, h, w) = shape.ok_or_else(|| {
        let listed: Vec<String> = files.iter().map(|path| path.display().to_string()).collect();
        Error::NotFound(format!("the TFRecord files of {name} hold no record ({})", listed.join(", ")))
    })?;
    Ok(Dataset {
        name: name.to_string(),
        images: Tensor::from_slice(&pixels).view([labels.len() as i64, c as i64, h as i64, w as i64]),
        labels: Tensor::from_slice(&labels).to_kind(Kind::Int64),
        num_classes,
        labels_to_names: (0..num_classes).map(|c| c.to_string()).collect(),
    })
}

/// The TFRecord files in `dir` whose names start with `prefix` (`mnist_train`), sorted.
pub fn tfrecord_files(dir: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Io { path: dir.display().to_string(), message: format!("cannot list: {e}") })?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.file_name().is_some_and(|name| name.to_string_lossy().starts_with(prefix)))
        .collect();
    files.sort();
    Ok(files)
}
