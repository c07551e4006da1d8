//! TF-Slim's MobileNet builder for v2 and v3 (`nets/mobilenet/mobilenet.py`): a net's definition walked op by
//! op with the depth multiplier and the output stride applied, the global-pool classification head, and the
//! `training_scope` both versions share.

use super::logits::dropout_and_logits;
use super::mobilenet_blocks::{ExpandedConv, LayerActivation, make_divisible};
use super::thinning::check_depth_multiplier;
use crate::prelude::*;

/// One op of a MobileNet definition (`op(...)` in `V2_DEF`, `V3_LARGE`, …), before the depth multiplier.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum MobilenetOp {
    /// `op(slim.conv2d, …)`: a square conv, batch-normalized unless `normalized` is false (then with biases).
    Conv {
        /// The kernel's side.
        kernel: i64,
        /// The stride.
        stride: i64,
        /// Output channels.
        depth: i64,
        /// The activation.
        activation: LayerActivation,
        /// Whether the arg scope's normalizer applies (`normalizer_fn=None` otherwise).
        normalized: bool,
    },
    /// `op(ops.expanded_conv, …)`.
    Expanded(ExpandedConv),
    /// v3's `op(reduce_to_1x1, default_size=7, stride=1, padding='VALID')`: an average pool over a square map, or
    /// 7×7 over any other.
    ReduceTo1x1,
}

impl MobilenetOp {
    /// `op(slim.conv2d, stride, num_outputs, kernel_size)` with the arg scope's activation and batch norm.
    pub(super) const fn conv(kernel: i64, stride: i64, depth: i64) -> Self {
        MobilenetOp::Conv { kernel, stride, depth, activation: LayerActivation::Scope, normalized: true }
    }

    /// The same conv with `activation_fn` set to `activation`.
    pub(super) const fn activated(self, activation: LayerActivation) -> Self {
        match self {
            MobilenetOp::Conv { kernel, stride, depth, normalized, .. } => {
                MobilenetOp::Conv { kernel, stride, depth, activation, normalized }
            }
            other => other,
        }
    }

    /// The same conv with `normalizer_fn=None` (biases instead).
    pub(super) const fn unnormalized(self) -> Self {
        match self {
            MobilenetOp::Conv { kernel, stride, depth, activation, .. } => {
                MobilenetOp::Conv { kernel, stride, depth, activation, normalized: false }
            }
            other => other,
        }
    }

    /// The op's stride.
    fn stride(&self) -> i64 {
        match self {
            MobilenetOp::Conv { stride, .. } => *stride,
            MobilenetOp::Expanded(block) => block.stride,
            MobilenetOp::ReduceTo1x1 => 1,
        }
    }
}

/// How a net's channels are thinned: TF-Slim's `depth_multiplier(multiplier, divisible_by, min_depth)` on every
/// op's outputs, except the last op's when `keep_last_depth` (`finegrain_classification_mode`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Thinning {
    /// The depth multiplier (> 0).
    pub multiplier: f64,
    /// Every thinned depth is a multiple of this (8).
    pub divisible_by: i64,
    /// No thinned depth is below this (8).
    pub min_depth: i64,
    /// Whether the last op keeps its depth.
    pub keep_last_depth: bool,
}

impl Thinning {
    /// An error naming `net` unless the multiplier is positive and the rounding sizes at least 1.
    fn check(&self, net: &str) -> Result<()> {
        check_depth_multiplier(net, self.multiplier)?;
        match self.divisible_by >= 1 && self.min_depth >= 1 {
            true => Ok(()),
            false => Err(Error::invalid(
                net,
                format!("divisible_by and min_depth must be ≥ 1, got {} and {}", self.divisible_by, self.min_depth),
            )),
        }
    }

    /// `depth` after thinning, for the op at `index` of `count`.
    fn depth(&self, depth: i64, index: usize, count: usize) -> i64 {
        let multiplier = match self.keep_last_depth && index + 1 == count {
            true => 1.0,
            false => self.multiplier,
        };
        make_divisible(depth as f64 * multiplier, self.divisible_by, self.min_depth)
    }
}

/// Checks TF-Slim's conditions on `output_stride`: none, 1, or an even number.
fn check_output_stride(net: &str, output_stride: Option<i64>) -> Result<()> {
    match output_stride {
        Some(stride) if stride < 1 || (stride > 1 && stride % 2 == 1) => {
            Err(Error::invalid(net, format!("output_stride must be None, 1 or a multiple of 2, got {stride}")))
        }
        _ => Ok(()),
    }
}

/// TF-Slim's `mobilenet_base`: `ops` applied to `images` one after another, each an end point `layer_<i>` (from 1).
/// Convs are scoped `Conv`, `Conv_1`, …, blocks `expanded_conv`, `expanded_conv_1`, …, the pool `AvgPool2D`.
/// Once the product of the strides reaches `output_stride`, later strides become dilation (atrous) rates.
pub(super) fn mobilenet_base(
    images: &Tensor,
    ops: &[MobilenetOp],
    thinning: Thinning,
    output_stride: Option<i64>,
    net: &str,
) -> Result<Tensor> {
    thinning.check(net)?;
    check_output_stride(net, output_stride)?;
    let (mut current_stride, mut rate) = (1, 1);
    let (mut convs, mut blocks) = (0, 0);
    let mut x = images.shallow_clone();
    for (index, op) in ops.iter().enumerate() {
        let stride = op.stride();
        let (layer_stride, layer_rate) = match output_stride == Some(current_stride) {
            true => {
                let layer_rate = rate;
                rate *= stride;
                (1, layer_rate)
            }
            false => {
                current_stride *= stride;
                (stride, 1)
            }
        };
        let layer = format!("layer_{}", index + 1);
        x = match op {
            MobilenetOp::Conv { kernel, depth, activation, normalized, .. } => {
                let depth = thinning.depth(*depth, index, ops.len());
                let call = conv2d(&x, depth, [*kernel, *kernel]).stride(layer_stride).rate(layer_rate);
                let call = match activation.explicit() {
                    Some(activation) => call.activation_fn(activation),
                    None => call,
                };
                let call = if *normalized { call } else { call.normalizer_fn(None) };
                convs += 1;
                call.scope(numbered("Conv", convs)).call()?
            }
            MobilenetOp::Expanded(block) => {
                let depth = thinning.depth(block.depth, index, ops.len());
                blocks += 1;
                block.apply(&x, depth, (layer_stride, layer_rate), &numbered("expanded_conv", blocks), &layer)?
            }
            MobilenetOp::ReduceTo1x1 => reduce_to_1x1(&x, layer_rate, net)?,
        };
        x = end_point(&x, &layer)?;
    }
    Ok(x)
}

/// TF's name for the `count`-th scope made unique from `name`: `name`, then `name_1`, `name_2`, …
fn numbered(name: &str, count: usize) -> String {
    match count {
        1 => name.to_string(),
        _ => format!("{name}_{}", count - 1),
    }
}

/// v3's `reduce_to_1x1`: a VALID stride-1 average pool over the whole map when it is square, else 7×7. A dilated
/// pool does not exist: with `rate` above 1 (an output stride reached before it) the net is refused, as
/// TF-Slim's `avg_pool2d` refuses a `rate`.
fn reduce_to_1x1(x: &Tensor, rate: i64, net: &str) -> Result<Tensor> {
    if rate > 1 {
        return Err(Error::invalid(net, "reduce_to_1x1 cannot pool at a dilation rate; choose a larger output_stride"));
    }
    let size = x.size();
    let side = match size[2] == size[3] {
        true => size[2],
        false => 7,
    };
    avg_pool2d(x, [side, side]).stride(1).padding(Valid).scope("AvgPool2D").call()
}

/// TF-Slim's MobileNet head: the map averaged to 1×1 (end point `global_pool`), then, with `num_classes`,
/// dropout at `keep_prob` (`Logits/Dropout`) and 1×1-conv logits (`Logits/Conv2d_1c_1x1`, biases, no activation
/// or normalizer) squeezed to `[N, classes]`, with end points `Logits` and `Predictions`.
pub(super) fn classification_head(x: &Tensor, num_classes: Option<i64>, keep_prob: f64, net: &str) -> Result<Tensor> {
    let pooled = end_point(&x.f_mean_dim(&[2i64, 3][..], true, x.kind())?, "global_pool")?;
    match num_classes {
        None => Ok(pooled),
        Some(num_classes) => {
            dropout_and_logits(&pooled, num_classes, keep_prob, ["Dropout", "Conv2d_1c_1x1"], (true, false), net)
        }
    }
}

/// TF-Slim's MobileNet `training_scope(weight_decay, stddev, bn_decay)` (v2 and v3; the factory passes
/// `weight_decay` and keeps `stddev=0.09`, `bn_decay=0.997`): truncated normal (σ `stddev`; xavier when
/// `stddev` < 0) weights and batch norm for conv2d, fully_connected and separable_conv2d; batch-norm decay
/// `bn_decay`; l2 decay on conv2d only (depthwise weights are not regularized). Its dropout keep probability
/// (0.8) is the nets' `dropout_keep_prob`.
pub fn mobilenet_training_scope(weight_decay: f64, stddev: f64, bn_decay: f64) -> ArgScope {
    let initializer = match stddev < 0.0 {
        true => xavier_initializer(true),
        false => truncated_normal(0.0, stddev),
    };
    crate::arg_scope!([conv2d, fully_connected, separable_conv2d],
                      weights_initializer = initializer.clone(),
                      normalizer_fn = Normalizer::batch_norm() => {
        crate::arg_scope!([batch_norm], decay = bn_decay => {
            crate::arg_scope!([conv2d], weights_regularizer = l2_regularizer(weight_decay) => {
                crate::arg_scope!([separable_conv2d], weights_regularizer = None => { ArgScope::current() })
            })
        })
    })
}
