//! The CycleGAN generator of `models/research/slim/nets/cyclegan.py` (`cyclegan_generator_resnet`, after Zhu
//! et al. 2017): a reflection-padded 7×7 input stage, two strided encoder convolutions, residual blocks, two
//! upsampling decoder stages and a 7×7 output stage, every convolution instance-normalized.

use crate::prelude::*;

/// The CycleGAN ResNet generator: images `[batch, channels, h, w]` (h and w multiples of 4) to images of the same
/// shape, `tanh(logits) + logits · tanh_linear_slope`. Its variables have TF-Slim's names under the scope it is
/// built in (`input/Conv/weights`, `encoder/Conv_1/InstanceNorm/gamma`, `residual_blocks/block_5/Conv_1/weights`,
/// `decoder/decoder2/upconv/Conv2d_transpose/biases`, `output/Conv/biases`); enter
/// [`cyclegan_arg_scope`] around `build`. End points `encoder_0`–`encoder_2`, `resnet_block_<i>`, `decoder1`,
/// `decoder2`, `logits` and `predictions`.
#[crate::model]
#[derive(Clone, Debug)]
pub struct CycleganGenerator {
    /// Residual blocks between encoder and decoder (6).
    pub num_resnet_blocks: usize,
    /// Filters of the input stage (64); the encoder doubles them twice.
    pub num_filters: i64,
    /// Side of the inner convolutions' kernels (3).
    pub kernel_size: i64,
    /// Slope of the linear term added to the output's tanh (0).
    pub tanh_linear_slope: f64,
}

impl Default for CycleganGenerator {
    fn default() -> Self {
        CycleganGenerator { num_resnet_blocks: 6, num_filters: 64, kernel_size: 3, tanh_linear_slope: 0.0 }
    }
}

/// `x` padded by reflection: `before` rows and columns at the top and left, `after` at the bottom and right.
fn reflect(x: &Tensor, before: i64, after: i64) -> Result<Tensor> {
    Ok(x.f_reflection_pad2d([before, after, before, after])?)
}

/// TF's upsampling by 2 with a transposed convolution: a 3×3 VALID transposed convolution at stride 2 (output
/// `2h + 1`) without its first row and column, in scope `upconv`.
fn upsample(net: &Tensor, num_outputs: i64) -> Result<Tensor> {
    let _scope = VariableScope::new("upconv").enter()?;
    let up = conv2d_transpose(net, num_outputs, [3, 3]).stride(2).padding(Valid).call()?;
    let (height, width) = (up.size()[2], up.size()[3]);
    Ok(up.f_narrow(2, 1, height - 1)?.f_narrow(3, 1, width - 1)?)
}

#[crate::model]
impl CycleganGenerator {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let shape = images.size();
        let [_, channels, height, width] = shape[..] else {
            return Err(Error::invalid("cyclegan", format!("images must be [batch, channels, h, w], got {shape:?}")));
        };
        if height % 4 != 0 || width % 4 != 0 {
            return Err(Error::invalid(
                "cyclegan",
                format!("the image height and width must be multiples of 4, got {height}×{width}"),
            ));
        }
        if self.kernel_size < 1 {
            return Err(Error::invalid("cyclegan", format!("kernel_size must be positive, got {}", self.kernel_size)));
        }
        let (pad_before, pad_after) = ((self.kernel_size - 1) / 2, self.kernel_size / 2);
        let kernel = [self.kernel_size, self.kernel_size];
        let filters = self.num_filters;
        let mut net = {
            let _scope = VariableScope::new("input").enter()?;
            conv2d(reflect(images, 3, 3)?, filters, [7, 7], padding = Valid)
        };
        let _ = end_point(&net, "encoder_0");
        let encoded = {
            let _scope = VariableScope::new("encoder").enter()?;
            arg_scope!([conv2d], stride = 2, activation_fn = relu, padding = Valid => {
                let half = conv2d(reflect(&net, pad_before, pad_after)?, filters * 2, kernel);
                let quarter = conv2d(reflect(&half, pad_before, pad_after)?, filters * 4, kernel);
                [half, quarter]
            })
        };
        for (i, encoded) in encoded.into_iter().enumerate() {
            net = end_point(&encoded, &format!("encoder_{}", i + 1));
        }
        for block in 0..self.num_resnet_blocks {
            let residual = {
                let _scope = VariableScope::new(format!("residual_blocks/block_{block}")).enter()?;
                arg_scope!([conv2d], stride = 1, activation_fn = relu, padding = Valid => {
                    let residual = conv2d(reflect(&net, pad_before, pad_after)?, filters * 4, kernel);
                    conv2d(reflect(&residual, pad_before, pad_after)?, filters * 4, kernel, activation_fn = None)
                })
            };
            net = net.f_add(&residual)?;
            let _ = end_point(&net, &format!("resnet_block_{block}"));
        }
        for (stage, outputs) in [(1, filters * 2), (2, filters)] {
            let _scope = VariableScope::new(format!("decoder/decoder{stage}")).enter()?;
            net = upsample(&net, outputs)?;
            drop(_scope);
            let _ = end_point(&net, &format!("decoder{stage}"));
        }
        let logits = {
            let _scope = VariableScope::new("output").enter()?;
            let padded = reflect(&net, 3, 3)?;
            conv2d(padded, channels, [7, 7], padding = Valid, activation_fn = None, normalizer_fn = None)
        };
        let _ = end_point(&logits, "logits");
        let predictions = logits.f_tanh()? + &logits * self.tanh_linear_slope;
        end_point(&predictions, "predictions")
    }
}

/// TF-Slim's `cyclegan_arg_scope(weight_decay)` with its other defaults: convolutions instance-normalized (center,
/// scale, epsilon 0.001), weights drawn from N(0, 0.02), l2 decay when `weight_decay` is positive. Enter it
/// around `build`.
pub fn cyclegan_arg_scope(weight_decay: f64) -> ArgScope {
    let normalizer = Normalizer::InstanceNorm(instance_norm::Args::default().center(true).scale(true).epsilon(0.001));
    let regularizer = (weight_decay > 0.0).then(|| l2_regularizer(weight_decay));
    crate::arg_scope!([conv2d],
                      normalizer_fn = normalizer,
                      weights_initializer = random_normal(0.0, 0.02),
                      weights_regularizer = regularizer => {
        ArgScope::current()
    })
}
