//! In-memory image datasets: images as `[N, C, H, W]` unsigned bytes, labels as `[N]` int64.

use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::idx::read_idx;
use super::rng::SplitMix64;
use crate::{Error, Result};

/// Which part of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The training images.
    Train,
    /// The test images.
    Test,
}

/// A dataset held in memory.
#[derive(Debug)]
pub struct Dataset {
    /// Its name (`fashion_mnist`).
    pub name: String,
    /// `[N, C, H, W]` unsigned bytes.
    pub images: Tensor,
    /// `[N]` class indices.
    pub labels: Tensor,
    /// How many classes.
    pub num_classes: i64,
    /// A name per class, when known.
    pub labels_to_names: Vec<String>,
}

impl Dataset {
    /// The number of examples.
    pub fn len(&self) -> i64 {
        self.labels.size()[0]
    }

    /// Whether it holds no example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

const FASHION_NAMES: [&str; 10] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/// The first of `names` (with or without `.gz`) that exists in `dir`.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    [dir.join(format!("{name}.gz")), dir.join(name)]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| Error::NotFound(format!("{} holds neither {name} nor {name}.gz", dir.display())))
}

/// An MNIST-layout dataset (`train-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, …, raw or gzipped) in `dir`.
fn idx_dataset(name: &str, dir: &Path, split: Split, names: Vec<String>) -> Result<Dataset> {
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let (image_path, label_path) =
        (find(dir, &format!("{prefix}-images-idx3-ubyte"))?, find(dir, &format!("{prefix}-labels-idx1-ubyte"))?);
    let (images, labels) = (read_idx(&image_path)?, read_idx(&label_path)?);
    let [count, height, width] = images.dims[..] else {
        return Err(Error::Io {
            path: image_path.display().to_string(),
            message: format!("images must be [N, H, W], got {:?}", images.dims),
        });
    };
    if labels.dims != [count] {
        return Err(Error::Io {
            path: label_path.display().to_string(),
            message: format!("{} labels for {count} images", labels.dims.first().copied().unwrap_or(0)),
        });
    }
    if let Some(bad) = labels.data.iter().position(|l| *l >= 10) {
        return Err(Error::Io {
            path: label_path.display().to_string(),
            message: format!("label {bad} is {}, not in 0..10", labels.data[bad]),
        });
    }
    let images = Tensor::from_slice(&images.data).view([count as i64, 1, height as i64, width as i64]);
    let labels = Tensor::from_slice(&labels.data).to_kind(Kind::Int64);
    Ok(Dataset { name: name.to_string(), images, labels, num_classes: 10, labels_to_names: names })
}

/// Fashion-MNIST from `dir`, or else `$SLIM_FASHION_MNIST`, or else Debian's `/usr/share/datasets/fashion-mnist`.
/// When none has the files, the error says how to get them.
pub fn fashion_mnist(dir: Option<&Path>, split: Split) -> Result<Dataset> {
    let (dir, chosen) = match (dir, std::env::var_os("SLIM_FASHION_MNIST")) {
        (Some(dir), _) => (dir.to_path_buf(), true),
        (None, Some(from_env)) => (PathBuf::from(from_env), true),
        (None, None) => (PathBuf::from(DEBIAN_FASHION_MNIST), false),
    };
    let names = FASHION_NAMES.iter().map(|n| n.to_string()).collect();
    idx_dataset("fashion_mnist", &dir, split, names).map_err(|error| match (error, chosen) {
        (Error::NotFound(message), false) => Error::NotFound(format!(
            "{message}: Fashion-MNIST is not installed; run scripts/provision-fashion-mnist.sh (it fetches Debian's \
             dataset-fashion-mnist) and pass the folder it prints, or set SLIM_FASHION_MNIST"
        )),
        (error, _) => error,
    })
}

/// Where Debian's `dataset-fashion-mnist` package puts the files.
pub const DEBIAN_FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";

/// MNIST from `dir`.
pub fn mnist(dir: &Path, split: Split) -> Result<Dataset> {
    idx_dataset("mnist", dir, split, (0..10).map(|d| d.to_string()).collect())
}

/// A generated dataset for tests and demos: `count` single-channel `side`×`side` images whose class decides
/// where a bright square sits, with noise; the same `seed` gives the same data (its generator is its own, not
/// libtorch's).
pub fn synthetic(count: i64, num_classes: i64, side: i64, seed: u64) -> Dataset {
    let mut random = SplitMix64::new(seed, 0);
    let classes = num_classes.max(1);
    let cells = (classes as f64).sqrt().ceil() as i64;
    let cell = (side / cells).max(1);
    let mut labels = Vec::with_capacity(count as usize);
    let mut pixels = Vec::with_capacity((count * side * side) as usize);
    for _ in 0..count {
        let label = random.below(classes as u64) as i64;
        labels.push(label);
        let (row, column) = (label / cells, label % cells);
        for y in 0..side {
            for x in 0..side {
                let lit = y / cell == row && x / cell == column;
                pixels.push(random.below(64) as u8 + if lit { 180 } else { 0 });
            }
        }
    }
    Dataset {
        name: "synthetic".into(),
        images: Tensor::from_slice(&pixels).view([count, 1, side, side]),
        labels: Tensor::from_slice(&labels),
        num_classes: classes,
        labels_to_names: (0..classes).map(|c| c.to_string()).collect(),
    }
}
