//! The peers' networks written with slim, beside their definitions in `shared/bench` (PyTorch, TF-Slim).

use slim::prelude::*;

/// The peers' w2: ResNet-32 v2 with bias-free convs, batch norm with scale (decay 0.9, epsilon 1e-5) and ReLU,
/// l2 weight decay 2e-4 on the conv and logits weights.
#[slim::model]
pub struct PeerResNet32 {
    /// The l2 weight decay of the conv and logits weights.
    pub weight_decay: f64,
}

#[slim::model]
impl PeerResNet32 {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        arg_scope!([conv2d], activation_fn = None, biases_initializer = None,
                   weights_regularizer = l2_regularizer(self.weight_decay) => {
            arg_scope!([batch_norm], scale = true, decay = 0.9, epsilon = 1e-5, activation_fn = relu => {
                let mut net = conv2d(images, 16, [3, 3], scope = "conv0");
                let mut channels = 16;
                for (stage, filters) in [16, 32, 64].into_iter().enumerate() {
                    for block in 0..5 {
                        let stride = if stage > 0 && block == 0 { 2 } else { 1 };
                        let name = format!("stage{}_block{}", stage + 1, block + 1);
                        let preact = batch_norm(net, scope = format!("{name}/preact"));
                        let shortcut = match stride != 1 || channels != filters {
                            true => conv2d(&preact, filters, [1, 1], stride = stride, scope = format!("{name}/shortcut")),
                            false => net.shallow_clone(),
                        };
                        let residual = conv2d(&preact, filters, [3, 3], stride = stride, scope = format!("{name}/conv1"));
                        let residual = batch_norm(residual, scope = format!("{name}/bn2"));
                        let residual = conv2d(residual, filters, [3, 3], scope = format!("{name}/conv2"));
                        net = shortcut + residual;
                        channels = filters;
                    }
                }
                let net = batch_norm(net, scope = "postnorm");
                let net = net.mean_dim(&[2i64, 3][..], false, Kind::Float);
                fully_connected(net, 10, activation_fn = None,
                                weights_regularizer = l2_regularizer(self.weight_decay), scope = "logits")
            })
        })
    }
}
