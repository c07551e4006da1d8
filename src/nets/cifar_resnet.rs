//! The CIFAR ResNet of the seed tutorial (He et al.'s 6n+2-layer family): a 3×3 conv, three stages of n residual
//! blocks with 16, 32 and 64 filters (times `filters / 16`), a projection shortcut where a stage halves the
//! size, global average pooling and the logits. Version 1 blocks post-activate; version 2 pre-activate.

use crate::prelude::*;

/// One residual block. v1: conv-bn-relu, conv-bn, add the shortcut, relu. v2: bn-relu (pre-activation),
/// conv-bn-relu, conv, add the shortcut. The shortcut is a strided 1×1 projection when `projection` is set.
#[crate::add_arg_scope]
pub fn resnet_block(
    inputs: &Tensor,
    filters: i64,
    #[default(1)] stride: i64,
    #[default(false)] projection: bool,
    #[default(1)] version: i64,
) -> Result<Tensor> {
    if version == 1 {
        let net = conv2d(inputs, filters, [3, 3], stride = stride, scope = "conv1");
        let net = conv2d(net, filters, [3, 3], activation_fn = None, scope = "conv2");
        let shortcut = match projection {
            true => conv2d(inputs, filters, [1, 1], stride = stride, activation_fn = None, scope = "shortcut"),
            false => inputs.shallow_clone(),
        };
        return Ok((net + shortcut).relu());
    }
    let preact = batch_norm(inputs, activation_fn = relu, scope = "preact");
    let shortcut = match projection {
        true => conv2d(
            &preact,
            filters,
            [1, 1],
            stride = stride,
            normalizer_fn = None,
            activation_fn = None,
            scope = "shortcut",
        ),
        false => inputs.shallow_clone(),
    };
    let net = conv2d(&preact, filters, [3, 3], stride = stride, scope = "conv1");
    let net = conv2d(net, filters, [3, 3], normalizer_fn = None, activation_fn = None, scope = "conv2");
    Ok(net + shortcut)
}

/// The CIFAR ResNet: `6·n + 2` layers.
#[crate::model]
#[derive(Clone, Debug)]
pub struct CifarResNet {
    /// Residual blocks per stage (5 gives ResNet-32).
    pub n: usize,
    /// Filters of the first stage (16 in the paper); later stages double it.
    pub filters: i64,
    /// 1 for post-activation blocks, 2 for pre-activation.
    pub version: i64,
    /// Classes of the logits.
    pub num_classes: i64,
    /// The l2 weight decay of the conv and logits weights (the seed uses 2e-4).
    pub weight_decay: f64,
}

#[crate::model]
impl CifarResNet {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        arg_scope!([conv2d, fully_connected], weights_regularizer = l2_regularizer(self.weight_decay) => {
            arg_scope!([conv2d], normalizer_fn = Normalizer::batch_norm() => {
                arg_scope!([batch_norm], scale = true, decay = 0.9 => {
                    let mut net = match self.version {
                        1 => conv2d(images, self.filters, [3, 3], scope = "conv1"),
                        _ => conv2d(images, self.filters, [3, 3], normalizer_fn = None, activation_fn = None, scope = "conv1"),
                    };
                    for stage in 0..3 {
                        let filters = self.filters << stage;
                        for i in 0..self.n {
                            let first = i == 0 && stage > 0;
                            net = resnet_block(net, filters,
                                               stride = if first { 2 } else { 1 },
                                               projection = first,
                                               version = self.version,
                                               scope = format!("stage{}/block{i}", stage + 1));
                        }
                    }
                    if self.version == 2 {
                        net = batch_norm(net, activation_fn = relu, scope = "postnorm");
                    }
                    let net = net.mean_dim(&[2i64, 3][..], false, Kind::Float);
                    fully_connected(net, self.num_classes, activation_fn = None, scope = "logits")
                })
            })
        })
    }
}
