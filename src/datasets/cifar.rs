//! CIFAR-10 and CIFAR-100 in their binary format: records of one label byte (CIFAR-100: coarse then fine) and
//! 3×32×32 pixel bytes (all red, then green, then blue).

use std::path::{Path, PathBuf};

use slim_core::data::{Dataset, Split};
use slim_core::{Error, Result};
use tch::{Kind, Tensor};

const PIXELS: usize = 3 * 32 * 32;

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::Io { path: path.display().to_string(), message: message.into() }
}

/// The records of the given files: each label (the byte at `label_at` of `label_bytes`) and its pixels.
fn read_records(files: &[PathBuf], label_bytes: usize, label_at: usize, classes: u8) -> Result<(Vec<u8>, Vec<i64>)> {
    let record = label_bytes + PIXELS;
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for path in files {
        let bytes = std::fs::read(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        if bytes.is_empty() || bytes.len() % record != 0 {
            return Err(bad(
                path,
                format!("{} bytes is not a whole number of {record}-byte records (truncated?)", bytes.len()),
            ));
        }
        for (index, chunk) in bytes.chunks(record).enumerate() {
            let label = chunk[label_at];
            if label >= classes {
                return Err(bad(path, format!("record {index} has label {label}, not in 0..{classes}")));
            }
            labels.push(i64::from(label));
            pixels.extend_from_slice(&chunk[label_bytes..]);
        }
    }
    Ok((pixels, labels))
}

fn dataset(name: &str, files: &[PathBuf], label_bytes: usize, label_at: usize, classes: u8) -> Result<Dataset> {
    let (pixels, labels) = read_records(files, label_bytes, label_at, classes)?;
    let count = labels.len() as i64;
    Ok(Dataset {
        name: name.to_string(),
        images: Tensor::from_slice(&pixels).view([count, 3, 32, 32]),
        labels: Tensor::from_slice(&labels).to_kind(Kind::Int64),
        num_classes: i64::from(classes),
        labels_to_names: (0..classes).map(|c| c.to_string()).collect(),
    })
}

/// CIFAR-10 from `dir` (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`).
pub fn cifar10(dir: &Path, split: Split) -> Result<Dataset> {
    let files: Vec<PathBuf> = match split {
        Split::Train => (1..=5).map(|i| dir.join(format!("data_batch_{i}.bin"))).collect(),
        Split::Test => vec![dir.join("test_batch.bin")],
    };
    let mut data = dataset("cifar10", &files, 1, 0, 10)?;
    data.labels_to_names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        .map(String::from)
        .to_vec();
    Ok(data)
}

/// CIFAR-100 from `dir` (`train.bin`, `test.bin`), with the 100 fine labels or the 20 coarse ones.
pub fn cifar100(dir: &Path, split: Split, fine: bool) -> Result<Dataset> {
    let file = dir.join(match split {
        Split::Train => "train.bin",
        Split::Test => "test.bin",
    });
    match fine {
        true => dataset("cifar100", &[file], 2, 1, 100),
        false => dataset("cifar100", &[file], 2, 0, 20),
    }
}
