//! TF-Slim's `cifarnet` (`nets/cifarnet.py`): two 5×5 convs with pools and local response normalization, two
//! fully connected layers, dropout, the logits; for 32×32 images.

use super::logits::predictions_end_point;
use crate::prelude::*;

/// CifarNet; build it in scope `CifarNet` for TF-Slim's names.
#[crate::model]
#[derive(Clone, Debug)]
pub struct CifarNet {
    /// Classes of the logits; `None` returns `fc4`'s 192 features, as TF-Slim does.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability in training (0.5).
    pub dropout_keep_prob: f64,
}

#[crate::model]
impl CifarNet {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let lrn = |x: &Tensor| local_response_normalization(x, 4, 1.0, 0.001 / 9.0, 0.75);
        let net = conv2d(images, 64, [5, 5], scope = "conv1");
        let net = max_pool2d(net, [2, 2], scope = "pool1");
        let net = lrn(&net)?;
        let net = conv2d(net, 64, [5, 5], scope = "conv2");
        let net = lrn(&net)?;
        let net = max_pool2d(net, [2, 2], scope = "pool2");
        let net = fully_connected(flatten(net), 384, scope = "fc3");
        let net = dropout(net, self.dropout_keep_prob, scope = "dropout3");
        let net = fully_connected(net, 192, scope = "fc4");
        let Some(num_classes) = self.num_classes else { return Ok(net) };
        let logits = fully_connected(
            net,
            num_classes,
            biases_initializer = zeros_initializer(),
            weights_initializer = truncated_normal(0.0, 1.0 / 192.0),
            weights_regularizer = None,
            activation_fn = None,
            scope = "logits",
        );
        let logits = end_point(logits, "Logits");
        predictions_end_point(&logits, "Predictions")?;
        logits
    }
}

/// TF-Slim's `cifarnet_arg_scope(weight_decay)`: convs with truncated-normal (σ 0.05) weights and relu; fully
/// connected layers with 0.1 biases, truncated-normal (σ 0.04) weights, l2 decay and relu. Enter it around
/// `build`.
pub fn cifarnet_arg_scope(weight_decay: f64) -> ArgScope {
    crate::arg_scope!([conv2d], weights_initializer = truncated_normal(0.0, 5e-2), activation_fn = relu => {
        crate::arg_scope!([fully_connected],
                          biases_initializer = constant_initializer(0.1),
                          weights_initializer = truncated_normal(0.0, 0.04),
                          weights_regularizer = l2_regularizer(weight_decay),
                          activation_fn = relu => {
            ArgScope::current()
        })
    })
}
