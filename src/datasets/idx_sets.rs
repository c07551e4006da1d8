//! MNIST and Fashion-MNIST from their IDX files (`train-images-idx3-ubyte`, …, raw or gzipped).

use std::path::{Path, PathBuf};

use slim_core::data::{Dataset, Split, read_idx};
use slim_core::{Error, Result};
use tch::{Kind, Tensor};

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
