//! TF-Slim's `overfeat` (`nets/overfeat.py`, Sermanet et al. 2014): five convs and three pools, then the fully
//! connected layers as convolutions (`fc6` a 6×6 VALID conv, `fc7` and `fc8` 1×1); for 231×231 images.

use super::logits::squeeze_logits;
use crate::prelude::*;

/// OverFeat; build it in scope `overfeat` for TF-Slim's names.
#[crate::model]
#[derive(Clone, Debug)]
pub struct Overfeat {
    /// Classes of the logits; `None` returns `fc7`'s 4096 features (before dropout), as TF-Slim's published
    /// `overfeat` does.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability in training (0.5).
    pub dropout_keep_prob: f64,
    /// Squeeze the 1×1 spatial dimensions of the logits (an error for a larger map: feed 231×231 images).
    pub spatial_squeeze: bool,
}

#[crate::model]
impl Overfeat {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = conv2d(inputs, 64, [11, 11], stride = 4, padding = Valid, scope = "conv1");
        let net = max_pool2d(net, [2, 2], scope = "pool1");
        let net = conv2d(net, 256, [5, 5], padding = Valid, scope = "conv2");
        let net = max_pool2d(net, [2, 2], scope = "pool2");
        let net = conv2d(net, 512, [3, 3], scope = "conv3");
        let net = conv2d(net, 1024, [3, 3], scope = "conv4");
        let net = conv2d(net, 1024, [3, 3], scope = "conv5");
        let net = max_pool2d(net, [2, 2], scope = "pool5");
        arg_scope!([conv2d],
                   weights_initializer = truncated_normal(0.0, 0.005),
                   biases_initializer = constant_initializer(0.1) => {
            let net = conv2d(net, 3072, [6, 6], padding = Valid, scope = "fc6");
            let net = dropout(net, self.dropout_keep_prob, scope = "dropout6");
            let net = conv2d(net, 4096, [1, 1], scope = "fc7");
            let Some(num_classes) = self.num_classes else { return Ok(net) };
            let net = dropout(net, self.dropout_keep_prob, scope = "dropout7");
            let logits = conv2d(net, num_classes, [1, 1],
                                activation_fn = None, normalizer_fn = None,
                                biases_initializer = zeros_initializer(), scope = "fc8");
            squeeze_logits(logits, self.spatial_squeeze, "overfeat")
        })
    }
}

/// TF-Slim's `overfeat_arg_scope(weight_decay)`: relu, zero biases and l2 decay for convs and fully connected
/// layers, SAME convs, VALID pools. Enter it around `build`.
pub fn overfeat_arg_scope(weight_decay: f64) -> ArgScope {
    crate::arg_scope!([conv2d, fully_connected],
                      activation_fn = relu,
                      biases_initializer = zeros_initializer(),
                      weights_regularizer = l2_regularizer(weight_decay) => {
        crate::arg_scope!([conv2d], padding = Same => {
            crate::arg_scope!([max_pool2d], padding = Valid => { ArgScope::current() })
        })
    })
}
