//! The starter's model and data, shared by its two binaries: `train` (trains and checkpoints into
//! [`LOGDIR`]; run it again and it resumes) and `eval` (scores the newest checkpoint with streaming metrics).
//! Replace [`batch`] with your data and [`Net`] with your network.

use slim::prelude::*;

/// Where `train` writes checkpoints and TensorBoard events, and where `eval` finds them.
pub const LOGDIR: &str = "logs/starter";

/// The side of the square, single-channel images.
pub const SIDE: i64 = 12;

/// A batch of `size` images with a bright patch in the top-left (label 0) or the bottom-right (label 1) corner,
/// plus noise; and their labels.
pub fn batch(size: i64) -> Result<(Tensor, Tensor)> {
    let labels = Tensor::randint(2, [size], (Kind::Int64, Device::Cpu));
    let images = Tensor::randn([size, 1, SIDE, SIDE], (Kind::Float, Device::Cpu)) * 0.3;
    let label_values = Vec::<i64>::try_from(&labels)?;
    for (i, label) in (0..size).zip(label_values) {
        let corner = if label == 0 { 1 } else { SIDE - 5 };
        let _ = images.get(i).narrow(1, corner, 4).narrow(2, corner, 4).fill_(1.0);
    }
    Ok((images, labels))
}

/// A small conv net: conv 3×3×8, max pool, logits; L2 regularization on both weight layers.
#[slim::model]
pub struct Net {
    /// How many classes the logits score.
    pub num_classes: i64,
}

#[slim::model]
impl Net {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        arg_scope!([conv2d, fully_connected], weights_regularizer = l2_regularizer(1e-4) => {
            let net = conv2d(images, 8, [3, 3], scope = "conv1");
            let net = max_pool2d(net, [2, 2], scope = "pool1");
            let net = flatten(net);
            fully_connected(net, self.num_classes, activation_fn = None, scope = "logits")
        })
    }
}
