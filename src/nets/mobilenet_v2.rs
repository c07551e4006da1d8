//! TF-Slim's `mobilenet_v2` (`nets/mobilenet/mobilenet_v2.py`, Sandler et al. 2018): a 3×3 conv, 17 inverted
//! residual blocks (expansion 6, relu6, linear bottlenecks), a 1×1 conv of 1280, global average pooling and
//! 1×1-conv logits.

use super::mobilenet_base::{MobilenetOp, Thinning, classification_head, mobilenet_base};
use super::mobilenet_blocks::ExpandedConv;
use crate::prelude::*;

/// TF-Slim's `V2_DEF['spec']`: the ops of `layer_1` … `layer_19`.
const V2_DEF: [MobilenetOp; 19] = [
    MobilenetOp::conv(3, 2, 32),
    MobilenetOp::Expanded(ExpandedConv { expansion: 1.0, expansion_divisor: 1, ..ExpandedConv::v2(16, 1) }),
    MobilenetOp::Expanded(ExpandedConv::v2(24, 2)),
    MobilenetOp::Expanded(ExpandedConv::v2(24, 1)),
    MobilenetOp::Expanded(ExpandedConv::v2(32, 2)),
    MobilenetOp::Expanded(ExpandedConv::v2(32, 1)),
    MobilenetOp::Expanded(ExpandedConv::v2(32, 1)),
    MobilenetOp::Expanded(ExpandedConv::v2(64, 2)),
    MobilenetOp::Expanded(ExpandedConv::v2(64, 1)),
    MobilenetOp::Expanded(ExpandedConv::v2(64, 1)),
    MobilenetOp::Expanded(ExpandedConv::v2(64, 1)),
    MobilenetOp::Expanded(ExpandedConv::v2(96, 1)),
    MobilenetOp::Expanded(ExpandedConv::v2(96, 1)),
    MobilenetOp::Expanded(ExpandedConv::v2(96, 1)),
    MobilenetOp::Expanded(ExpandedConv::v2(160, 2)),
    MobilenetOp::Expanded(ExpandedConv::v2(160, 1)),
    MobilenetOp::Expanded(ExpandedConv::v2(160, 1)),
    MobilenetOp::Expanded(ExpandedConv::v2(320, 1)),
    MobilenetOp::conv(1, 1, 1280),
];

/// TF-Slim's `mobilenet_v2.mobilenet` for `[N, 3, 224, 224]` images (any size); build it in scope `MobilenetV2`
/// inside [`mobilenet_training_scope`](super::mobilenet_training_scope) for TF-Slim's names and defaults. Variables
/// `Conv`, `expanded_conv{,_1…_16}/{expand,depthwise,project}`, `Conv_1`, `Logits/Conv2d_1c_1x1`; end points
/// `layer_1` … `layer_19`, `layer_<i>/{expansion,depthwise}_output`, `layer_<i>/output`, `global_pool`, `Logits`
/// and `Predictions`. (TF-Slim's `use_explicit_padding` is not offered.)
#[crate::model]
#[derive(Clone, Debug)]
pub struct MobilenetV2 {
    /// Classes of the logits (1001 for TF-Slim's checkpoints); `None` returns the pooled features
    /// `[N, 1280, 1, 1]`.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability before the logits in training (TF-Slim's training scope: 0.8).
    pub dropout_keep_prob: f64,
    /// Multiplies every layer's depth (1.0, 1.4, 0.35, …), rounded to `divisible_by`.
    pub depth_multiplier: f64,
    /// The smallest depth a layer keeps when thinned (8).
    pub min_depth: i64,
    /// Every thinned depth is a multiple of this (8).
    pub divisible_by: i64,
    /// Keep the last conv at 1280 when `depth_multiplier` < 1 (`mobilenet_v2_035` does).
    pub finegrain_classification_mode: bool,
    /// The ratio of input to output resolution the base stops at (`None`: 32); later strides become dilation.
    pub output_stride: Option<i64>,
}

#[crate::model]
impl MobilenetV2 {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = arg_scope!([conv2d, fully_connected, separable_conv2d],
                             normalizer_fn = Normalizer::batch_norm(), activation_fn = relu6 => {
            arg_scope!([conv2d, separable_conv2d], padding = Same => {
                arg_scope!([batch_norm], center = true, scale = true => { self.base(images) })
            })
        })?;
        classification_head(&net, self.num_classes, self.dropout_keep_prob, "MobilenetV2")
    }
}

impl MobilenetV2 {
    /// A classifier with TF-Slim's defaults at `depth_multiplier` (`mobilenet_v2`: 1.0, `mobilenet_v2_140`: 1.4).
    pub fn classifier(num_classes: Option<i64>, depth_multiplier: f64) -> Self {
        MobilenetV2 {
            num_classes,
            dropout_keep_prob: 0.8,
            depth_multiplier,
            min_depth: 8,
            divisible_by: 8,
            finegrain_classification_mode: false,
            output_stride: None,
        }
    }

    /// TF-Slim's `mobilenet_base`, up to `layer_19` (`Conv_1`).
    fn base(&self, images: &Tensor) -> Result<Tensor> {
        let thinning = Thinning {
            multiplier: self.depth_multiplier,
            divisible_by: self.divisible_by,
            min_depth: self.min_depth,
            keep_last_depth: self.finegrain_classification_mode && self.depth_multiplier < 1.0,
        };
        mobilenet_base(images, &V2_DEF, thinning, self.output_stride, "MobilenetV2")
    }
}
