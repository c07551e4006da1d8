//! TF-Slim's `lenet` preprocessing.

use tch::{Kind, Tensor};

/// TF-Slim's `lenet` preprocessing: `(x − 128) / 128`, bytes to floats in [−1, 1).
pub fn lenet_preprocessing(images: &Tensor) -> Tensor {
    (images.to_kind(Kind::Float) - 128.0) / 128.0
}
