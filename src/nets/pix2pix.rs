//! The image-to-image translation nets of `models/research/slim/nets/pix2pix.py` (Isola et al. 2017): a U-Net
//! generator whose decoder concatenates each encoder activation and keeps dropout at test time, and a patch
//! discriminator of reflection-padded VALID convolutions.

use crate::prelude::*;

/// How the generator's decoder doubles its resolution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pix2pixUpsample {
    /// Nearest-neighbour resize to twice the size, then a 4×4 convolution (TF-Slim's default).
    #[default]
    NearestNeighborConv,
    /// A 4×4 transposed convolution at stride 2.
    Conv2dTranspose,
}

/// One encoder/decoder level of the generator: the encoder's filters and the decoder's dropout keep probability
/// (0: no dropout).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pix2pixBlock {
    /// Filters of the encoder convolution and of the decoder stage that mirrors it.
    pub num_filters: i64,
    /// The keep probability of the dropout after the decoder stage; 0 for none.
    pub decoder_keep_prob: f64,
}

/// TF-Slim's seven default levels: 64, 128, 256 filters with dropout 0.5 in the decoder, then four of 512.
pub fn pix2pix_default_blocks() -> Vec<Pix2pixBlock> {
    [(64, 0.5), (128, 0.5), (256, 0.5), (512, 0.0), (512, 0.0), (512, 0.0), (512, 0.0)]
        .into_iter()
        .map(|(num_filters, decoder_keep_prob)| Pix2pixBlock { num_filters, decoder_keep_prob })
        .collect()
}

/// The pix2pix U-Net generator: square images `[batch, channels, s, s]` (s divisible by 2 per block) to logits
/// `[batch, num_outputs, s, s]`. Variables `encoder/Conv…`, `decoder/Conv…` (or `Conv2d_transpose…`) and
/// `output/Conv` under the scope it is built in; enter [`pix2pix_arg_scope`] around `build`. End points
/// `encoder<i>`, `decoder<i>`, `logits`, `predictions` (tanh). The decoder's dropout runs in eval mode too, as
/// the paper prescribes.
#[crate::model]
#[derive(Clone, Debug)]
pub struct Pix2pixGenerator {
    /// Per-pixel outputs of the logits.
    pub num_outputs: i64,
    /// The levels, first (finest) to last.
    pub blocks: Vec<Pix2pixBlock>,
    /// How the decoder upsamples.
    pub upsample: Pix2pixUpsample,
}

#[crate::model]
impl Pix2pixGenerator {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let shape = images.size();
        let levels = self.blocks.len() as u32;
        let fits = match shape[..] {
            [_, _, height, width] => height == width && levels > 0 && height % (1i64 << levels.min(62)) == 0,
            _ => false,
        };
        if !fits {
            return Err(Error::invalid(
                "pix2pix generator",
                format!("images must be square with a side divisible by 2^{levels}, got shape {shape:?}"),
            ));
        }
        let mut encoded = Vec::with_capacity(self.blocks.len());
        let mut net = images.shallow_clone();
        {
            let _scope = VariableScope::new("encoder").enter()?;
            arg_scope!([conv2d], stride = 2, activation_fn = leaky_relu => {
                for (i, block) in self.blocks.iter().enumerate() {
                    net = match i {
                        0 => conv2d(net, block.num_filters, [4, 4], normalizer_fn = None),
                        _ if i + 1 < self.blocks.len() => conv2d(net, block.num_filters, [4, 4]),
                        _ => conv2d(net, block.num_filters, [4, 4], activation_fn = None, normalizer_fn = None),
                    };
                    encoded.push(net.shallow_clone());
                }
            });
        }
        for (i, activation) in encoded.iter().enumerate() {
            let _ = end_point(activation, &format!("encoder{i}"));
        }
        let mut decoded = Vec::with_capacity(self.blocks.len());
        {
            let _scope = VariableScope::new("decoder").enter()?;
            for (i, block) in self.blocks.iter().rev().enumerate() {
                if i > 0 {
                    net = Tensor::f_cat(&[&net, &encoded[encoded.len() - 1 - i]], 1)?;
                }
                let rectified = net.f_relu()?;
                net = match self.upsample {
                    Pix2pixUpsample::NearestNeighborConv => {
                        let (height, width) = (rectified.size()[2], rectified.size()[3]);
                        let resized = rectified.f_upsample_nearest2d([2 * height, 2 * width], None, None)?;
                        conv2d(resized, block.num_filters, [4, 4], activation_fn = None)
                    }
                    Pix2pixUpsample::Conv2dTranspose => {
                        conv2d_transpose(rectified, block.num_filters, [4, 4], stride = 2, activation_fn = None)
                    }
                };
                if block.decoder_keep_prob > 0.0 {
                    net = dropout(net, block.decoder_keep_prob, is_training = true);
                }
                decoded.push(net.shallow_clone());
            }
        }
        for (i, activation) in decoded.iter().enumerate() {
            let _ = end_point(activation, &format!("decoder{i}"));
        }
        let logits = {
            let _scope = VariableScope::new("output").enter()?;
            conv2d(net, self.num_outputs, [4, 4], activation_fn = None, normalizer_fn = None)
        };
        let logits = end_point(&logits, "logits");
        let predictions = logits.f_tanh()?;
        let _ = end_point(&predictions, "predictions");
        Ok(logits)
    }
}

/// The pix2pix patch discriminator: images `[batch, channels, h, w]` to a map of patch logits `[batch, 1, n, m]`.
/// Each convolution is 4×4 VALID after reflection padding by `padding` (stride 2, the last two at stride 1);
/// variables `conv0` … `conv<len>` under the scope it is built in; enter [`pix2pix_arg_scope`] around `build`.
/// End points `conv<i>`, `logits`, `predictions` (sigmoid).
#[crate::model]
#[derive(Clone, Debug)]
pub struct Pix2pixDiscriminator {
    /// Filters of each layer before the logits (TF-Slim's tests use `[64, 128, 256, 512]`); at least one.
    pub num_filters: Vec<i64>,
    /// Reflection padding before each convolution (2).
    pub padding: i64,
}

#[crate::model]
impl Pix2pixDiscriminator {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let layers = self.num_filters.len();
        if layers == 0 || self.padding < 0 {
            return Err(Error::invalid(
                "pix2pix discriminator",
                format!("needs at least one layer and padding ≥ 0, got {:?} and {}", self.num_filters, self.padding),
            ));
        }
        let pad = |x: &Tensor| -> Result<Tensor> {
            let p = self.padding;
            Ok(if p > 0 { x.f_reflection_pad2d([p, p, p, p])? } else { x.shallow_clone() })
        };
        arg_scope!([conv2d], stride = 2, padding = Valid, activation_fn = leaky_relu => {
            let mut net = conv2d(pad(images)?, self.num_filters[0], [4, 4], normalizer_fn = None, scope = "conv0");
            for (i, filters) in self.num_filters.iter().enumerate().skip(1) {
                let stride = if i + 1 < layers { 2 } else { 1 };
                net = conv2d(pad(&net)?, *filters, [4, 4], stride = stride, scope = format!("conv{i}"));
            }
            let logits = conv2d(pad(&net)?, 1, [4, 4], stride = 1, activation_fn = None, normalizer_fn = None,
                                scope = format!("conv{layers}"));
            let logits = end_point(&logits, "logits");
            let _ = end_point(&logits.f_sigmoid()?, "predictions");
            Ok(logits)
        })
    }
}

/// TF-Slim's `pix2pix_arg_scope()`: convolutions and transposed convolutions instance-normalized (center, scale,
/// epsilon 1e-5), weights drawn from N(0, 0.02). Enter it around `build`.
pub fn pix2pix_arg_scope() -> ArgScope {
    let normalizer = || Normalizer::InstanceNorm(instance_norm::Args::default().center(true).scale(true).epsilon(1e-5));
    crate::arg_scope!([conv2d, conv2d_transpose],
                      normalizer_fn = normalizer(),
                      weights_initializer = random_normal(0.0, 0.02) => {
        ArgScope::current()
    })
}
