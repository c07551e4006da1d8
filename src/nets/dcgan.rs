//! The DCGAN generator and discriminator of `models/research/slim/nets/dcgan.py` (Radford et al. 2015): strided
//! 4×4 transposed convolutions up from a code vector, strided 4×4 convolutions with leaky ReLUs down to one
//! logit; batch norm (with a zero-debiased moving mean) after every layer but the first of the discriminator and
//! the last two of the generator.

use crate::prelude::*;

/// The batch norm the DCGAN layers are normalized with: TF-Slim's defaults and a zero-debiased moving mean.
fn dcgan_batch_norm() -> Normalizer {
    Normalizer::BatchNorm(batch_norm::Args::default().zero_debias_moving_mean(true))
}

/// `log2(size)` when `size` is a power of two.
fn exact_log2(size: i64) -> Option<u32> {
    (size > 0 && size & (size - 1) == 0).then(|| size.trailing_zeros())
}

/// The DCGAN generator: a code `[batch, n]` to images `[batch, num_outputs, final_size, final_size]`. Build it in
/// scope `Generator` for TF-Slim's names (`Generator/deconv1/weights`, …, `Generator/logits/biases`).
#[crate::model]
#[derive(Clone, Debug)]
pub struct DcganGenerator {
    /// Channels of the last transposed convolution (64); each one before it has twice its successor's.
    pub depth: i64,
    /// The side of the generated images: a power of two, at least 8 (32).
    pub final_size: i64,
    /// Channels of the generated images (3).
    pub num_outputs: i64,
}

impl Default for DcganGenerator {
    fn default() -> Self {
        DcganGenerator { depth: 64, final_size: 32, num_outputs: 3 }
    }
}

#[crate::model]
impl DcganGenerator {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let layers = match exact_log2(self.final_size) {
            Some(log2) if self.final_size >= 8 => log2 as i64 - 1,
            _ => {
                return Err(Error::invalid(
                    "dcgan generator",
                    format!("final_size must be a power of 2 and at least 8, got {}", self.final_size),
                ));
            }
        };
        if inputs.dim() != 2 {
            return Err(Error::invalid(
                "dcgan generator",
                format!("inputs must be codes [batch, n], got shape {:?}", inputs.size()),
            ));
        }
        arg_scope!([conv2d_transpose], normalizer_fn = dcgan_batch_norm(), stride = 2 => {
            let code = inputs.unsqueeze(-1).unsqueeze(-1);
            let mut net = conv2d_transpose(code, self.depth << (layers - 1), [4, 4], stride = 1, padding = Valid,
                                           scope = "deconv1");
            for i in 2..layers {
                net = conv2d_transpose(net, self.depth << (layers - i), [4, 4], scope = format!("deconv{i}"));
            }
            let net = conv2d_transpose(net, self.depth, [4, 4], normalizer_fn = None, activation_fn = None,
                                       scope = format!("deconv{layers}"));
            conv2d(net, self.num_outputs, [1, 1], padding = Valid, normalizer_fn = None, activation_fn = None,
                   scope = "logits")
        })
    }
}

/// The DCGAN discriminator: square images whose side is a power of two, `[batch, channels, side, side]`, to one
/// logit each, `[batch, 1]`. Build it in scope `Discriminator` for TF-Slim's names (`Discriminator/conv1/weights`,
/// …, `Discriminator/Conv/biases`: the logits layer has no scope of its own there).
#[crate::model]
#[derive(Clone, Debug)]
pub struct DcganDiscriminator {
    /// Channels of the first convolution (64); each one after it has twice its predecessor's.
    pub depth: i64,
}

impl Default for DcganDiscriminator {
    fn default() -> Self {
        DcganDiscriminator { depth: 64 }
    }
}

#[crate::model]
impl DcganDiscriminator {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let size = inputs.size();
        let layers = match size.as_slice() {
            [_, _, height, width] if height == width => exact_log2(*height),
            _ => None,
        };
        let Some(layers) = layers else {
            return Err(Error::invalid(
                "dcgan discriminator",
                format!("inputs must be square images whose side is a power of 2, got shape {size:?}"),
            ));
        };
        arg_scope!([conv2d], stride = 2, activation_fn = leaky_relu => {
            let mut net = inputs.shallow_clone();
            for i in 0..layers {
                let normalizer = if i == 0 { None } else { Some(dcgan_batch_norm()) };
                net = conv2d(net, self.depth << i, [4, 4], normalizer_fn = normalizer,
                             scope = format!("conv{}", i + 1));
            }
            let logits = conv2d(net, 1, [1, 1], stride = 1, padding = Valid, normalizer_fn = None,
                                activation_fn = None);
            logits.f_reshape([-1, 1]).map_err(Error::from)
        })
    }
}
