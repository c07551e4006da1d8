//! In-memory image datasets: images as `[N, C, H, W]` unsigned bytes, labels as `[N]` int64. The data sets
//! themselves (MNIST, CIFAR, …) are application code: `slim::datasets`.

use tch::Tensor;

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

    /// A copy sharing the image and label tensors.
    pub fn shallow_clone(&self) -> Dataset {
        Dataset {
            name: self.name.clone(),
            images: self.images.shallow_clone(),
            labels: self.labels.shallow_clone(),
            num_classes: self.num_classes,
            labels_to_names: self.labels_to_names.clone(),
        }
    }
}
