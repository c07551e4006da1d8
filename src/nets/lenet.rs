//! TF-Slim's `lenet` (`nets/lenet.py`): two 5×5 convs with 2×2 pools, a 1024-unit layer, dropout, the logits
//! (`fc4`); for 28×28 images.

use super::logits::predictions_end_point;
use crate::prelude::*;

/// LeNet; build it in scope `LeNet` for TF-Slim's names.
#[crate::model]
#[derive(Clone, Debug)]
pub struct Lenet {
    /// Classes of the logits; `None` returns `fc3`'s 1024 features (before dropout), as TF-Slim does.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability in training (0.5).
    pub dropout_keep_prob: f64,
}

#[crate::model]
impl Lenet {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = conv2d(images, 32, [5, 5], scope = "conv1");
        let net = max_pool2d(net, [2, 2], scope = "pool1");
        let net = conv2d(net, 64, [5, 5], scope = "conv2");
        let net = max_pool2d(net, [2, 2], scope = "pool2");
        let net = fully_connected(flatten(net), 1024, scope = "fc3");
        let Some(num_classes) = self.num_classes else { return Ok(net) };
        let net = dropout(net, self.dropout_keep_prob, scope = "dropout3");
        let logits = fully_connected(net, num_classes, activation_fn = None, scope = "fc4");
        let logits = end_point(logits, "Logits");
        predictions_end_point(&logits, "Predictions")?;
        logits
    }
}

/// TF-Slim's `lenet_arg_scope(weight_decay)`: relu, truncated-normal (σ 0.1) weights with l2 decay, for convs
/// and fully connected layers. Enter it around `build`.
pub fn lenet_arg_scope(weight_decay: f64) -> ArgScope {
    crate::arg_scope!([conv2d, fully_connected],
                      activation_fn = relu,
                      weights_initializer = truncated_normal(0.0, 0.1),
                      weights_regularizer = l2_regularizer(weight_decay) => {
        ArgScope::current()
    })
}
