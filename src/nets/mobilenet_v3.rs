//! TF-Slim's `mobilenet_v3` (`nets/mobilenet/mobilenet_v3.py`, Howard et al. 2019): the large and small nets
//! (inverted residual blocks with squeeze-and-excite gates and hard swish), their minimalistic variants (relu,
//! 3×3 kernels, no gates) and the EdgeTPU net (full convs instead of depthwise ones early on).

use super::mobilenet_base::{MobilenetOp, Thinning, classification_head, mobilenet_base};
use super::mobilenet_blocks::{ExpandedConv, LayerActivation};
use crate::prelude::*;

use LayerActivation::{HardSwish, Relu};

/// Which of TF-Slim's MobileNet v3 definitions a [`MobilenetV3`] builds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MobilenetV3Version {
    /// `V3_LARGE` (`mobilenet_v3_large`), scope `MobilenetV3`.
    #[default]
    Large,
    /// `V3_SMALL` (`mobilenet_v3_small`), scope `MobilenetV3`.
    Small,
    /// `V3_LARGE_MINIMALISTIC` (`mobilenet_v3_large_minimalistic`), scope `MobilenetV3`.
    LargeMinimalistic,
    /// `V3_SMALL_MINIMALISTIC` (`mobilenet_v3_small_minimalistic`), scope `MobilenetV3`.
    SmallMinimalistic,
    /// `V3_EDGETPU` (`mobilenet_edgetpu`), scope `MobilenetEdgeTPU`.
    EdgeTpu,
}

impl MobilenetV3Version {
    /// TF-Slim's scope for the net: `MobilenetEdgeTPU` for the EdgeTPU net, else `MobilenetV3`.
    pub fn default_scope(self) -> &'static str {
        match self {
            MobilenetV3Version::EdgeTpu => "MobilenetEdgeTPU",
            _ => "MobilenetV3",
        }
    }

    /// The definition's ops.
    fn ops(self) -> &'static [MobilenetOp] {
        match self {
            MobilenetV3Version::Large => &V3_LARGE,
            MobilenetV3Version::Small => &V3_SMALL,
            MobilenetV3Version::LargeMinimalistic => &V3_LARGE_MINIMALISTIC,
            MobilenetV3Version::SmallMinimalistic => &V3_SMALL_MINIMALISTIC,
            MobilenetV3Version::EdgeTpu => &V3_EDGETPU,
        }
    }
}

/// `mbv3_op(ef, n, k, s, act)`.
const fn block(expansion: f64, depth: i64, kernel: i64, stride: i64, activation: LayerActivation) -> MobilenetOp {
    MobilenetOp::Expanded(ExpandedConv::v3(expansion, depth, kernel, stride, activation))
}

/// `mbv3_op_se(ef, n, k, s, act)`: the block with a squeeze-and-excite gate.
const fn gated(expansion: f64, depth: i64, kernel: i64, stride: i64, activation: LayerActivation) -> MobilenetOp {
    MobilenetOp::Expanded(ExpandedConv::v3(expansion, depth, kernel, stride, activation).with_squeeze_excite())
}

/// `mbv3_fused(ef, n, k, s)`: the expansion is a `k`×`k` conv at stride `s`; no depthwise conv.
const fn fused(expansion: f64, depth: i64, kernel: i64, stride: i64) -> MobilenetOp {
    MobilenetOp::Expanded(ExpandedConv { fused: true, ..ExpandedConv::v3(expansion, depth, kernel, stride, Relu) })
}

/// `V3_LARGE['spec']`: `layer_1` … `layer_19`.
const V3_LARGE: [MobilenetOp; 19] = [
    MobilenetOp::conv(3, 2, 16).activated(HardSwish),
    block(1.0, 16, 3, 1, Relu),
    block(4.0, 24, 3, 2, Relu),
    block(3.0, 24, 3, 1, Relu),
    gated(3.0, 40, 5, 2, Relu),
    gated(3.0, 40, 5, 1, Relu),
    gated(3.0, 40, 5, 1, Relu),
    block(6.0, 80, 3, 2, HardSwish),
    block(2.5, 80, 3, 1, HardSwish),
    block(184.0 / 80.0, 80, 3, 1, HardSwish),
    block(184.0 / 80.0, 80, 3, 1, HardSwish),
    gated(6.0, 112, 3, 1, HardSwish),
    gated(6.0, 112, 3, 1, HardSwish),
    gated(6.0, 160, 5, 2, HardSwish),
    gated(6.0, 160, 5, 1, HardSwish),
    gated(6.0, 160, 5, 1, HardSwish),
    MobilenetOp::conv(1, 1, 960).activated(HardSwish),
    MobilenetOp::ReduceTo1x1,
    MobilenetOp::conv(1, 1, 1280).activated(HardSwish).unnormalized(),
];

/// `V3_LARGE_MINIMALISTIC['spec']`: relu everywhere, 3×3 kernels, no gates.
const V3_LARGE_MINIMALISTIC: [MobilenetOp; 19] = [
    MobilenetOp::conv(3, 2, 16),
    block(1.0, 16, 3, 1, Relu),
    block(4.0, 24, 3, 2, Relu),
    block(3.0, 24, 3, 1, Relu),
    block(3.0, 40, 3, 2, Relu),
    block(3.0, 40, 3, 1, Relu),
    block(3.0, 40, 3, 1, Relu),
    block(6.0, 80, 3, 2, Relu),
    block(2.5, 80, 3, 1, Relu),
    block(184.0 / 80.0, 80, 3, 1, Relu),
    block(184.0 / 80.0, 80, 3, 1, Relu),
    block(6.0, 112, 3, 1, Relu),
    block(6.0, 112, 3, 1, Relu),
    block(6.0, 160, 3, 2, Relu),
    block(6.0, 160, 3, 1, Relu),
    block(6.0, 160, 3, 1, Relu),
    MobilenetOp::conv(1, 1, 960),
    MobilenetOp::ReduceTo1x1,
    MobilenetOp::conv(1, 1, 1280).unnormalized(),
];

/// `V3_SMALL['spec']`: `layer_1` … `layer_15`.
const V3_SMALL: [MobilenetOp; 15] = [
    MobilenetOp::conv(3, 2, 16).activated(HardSwish),
    gated(1.0, 16, 3, 2, Relu),
    block(72.0 / 16.0, 24, 3, 2, Relu),
    block(88.0 / 24.0, 24, 3, 1, Relu),
    gated(4.0, 40, 5, 2, HardSwish),
    gated(6.0, 40, 5, 1, HardSwish),
    gated(6.0, 40, 5, 1, HardSwish),
    gated(3.0, 48, 5, 1, HardSwish),
    gated(3.0, 48, 5, 1, HardSwish),
    gated(6.0, 96, 5, 2, HardSwish),
    gated(6.0, 96, 5, 1, HardSwish),
    gated(6.0, 96, 5, 1, HardSwish),
    MobilenetOp::conv(1, 1, 576).activated(HardSwish),
    MobilenetOp::ReduceTo1x1,
    MobilenetOp::conv(1, 1, 1024).activated(HardSwish).unnormalized(),
];

/// `V3_SMALL_MINIMALISTIC['spec']`.
const V3_SMALL_MINIMALISTIC: [MobilenetOp; 15] = [
    MobilenetOp::conv(3, 2, 16),
    block(1.0, 16, 3, 2, Relu),
    block(72.0 / 16.0, 24, 3, 2, Relu),
    block(88.0 / 24.0, 24, 3, 1, Relu),
    block(4.0, 40, 3, 2, Relu),
    block(6.0, 40, 3, 1, Relu),
    block(6.0, 40, 3, 1, Relu),
    block(3.0, 48, 3, 1, Relu),
    block(3.0, 48, 3, 1, Relu),
    block(6.0, 96, 3, 2, Relu),
    block(6.0, 96, 3, 1, Relu),
    block(6.0, 96, 3, 1, Relu),
    MobilenetOp::conv(1, 1, 576),
    MobilenetOp::ReduceTo1x1,
    MobilenetOp::conv(1, 1, 1024).unnormalized(),
];

/// `V3_EDGETPU['spec']`: `layer_1` … `layer_24`, no pool in the body; the last conv is batch-normalized.
const V3_EDGETPU: [MobilenetOp; 24] = [
    MobilenetOp::conv(3, 2, 32),
    fused(1.0, 16, 3, 1),
    fused(8.0, 32, 3, 2),
    fused(4.0, 32, 3, 1),
    fused(4.0, 32, 3, 1),
    fused(4.0, 32, 3, 1),
    fused(8.0, 48, 3, 2),
    fused(4.0, 48, 3, 1),
    fused(4.0, 48, 3, 1),
    fused(4.0, 48, 3, 1),
    block(8.0, 96, 3, 2, Relu),
    block(4.0, 96, 3, 1, Relu),
    block(4.0, 96, 3, 1, Relu),
    block(4.0, 96, 3, 1, Relu),
    MobilenetOp::Expanded(ExpandedConv { residual: false, ..ExpandedConv::v3(8.0, 96, 3, 1, Relu) }),
    block(4.0, 96, 3, 1, Relu),
    block(4.0, 96, 3, 1, Relu),
    block(4.0, 96, 3, 1, Relu),
    block(8.0, 160, 5, 2, Relu),
    block(4.0, 160, 5, 1, Relu),
    block(4.0, 160, 5, 1, Relu),
    block(4.0, 160, 5, 1, Relu),
    block(8.0, 192, 3, 1, Relu),
    MobilenetOp::conv(1, 1, 1280),
];

/// TF-Slim's `mobilenet_v3.mobilenet` for `[N, 3, 224, 224]` images: `version` picks the definition. Build it in
/// [`MobilenetV3Version::default_scope`] inside [`mobilenet_training_scope`](super::mobilenet_training_scope) for
/// TF-Slim's names and defaults. Variables `Conv`, `expanded_conv{,_1,…}/{expand,depthwise,squeeze_excite/Conv{,_1},
/// project}`, `Conv_1`, `Conv_2` (biases, no batch norm), `Logits/Conv2d_1c_1x1`; end points `layer_<i>`,
/// `layer_<i>/{expansion,depthwise}_output`, `layer_<i>/output`, `global_pool`, `Logits`, `Predictions`. The pool
/// before the last conv averages the whole map when it is square, else 7×7 (`reduce_to_1x1`).
#[crate::model]
#[derive(Clone, Debug)]
pub struct MobilenetV3 {
    /// The definition.
    pub version: MobilenetV3Version,
    /// Classes of the logits (1001 for TF-Slim's checkpoints); `None` returns the pooled features.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability before the logits in training (TF-Slim's training scope: 0.8).
    pub dropout_keep_prob: f64,
    /// Multiplies every layer's depth, rounded to multiples of 8 (never below 8).
    pub depth_multiplier: f64,
    /// Keep the last conv's depth whatever the multiplier (`mobilenet_edgetpu_075` does).
    pub finegrain_classification_mode: bool,
}

#[crate::model]
impl MobilenetV3 {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = arg_scope!([conv2d, fully_connected, separable_conv2d],
                             normalizer_fn = Normalizer::batch_norm(), activation_fn = relu => {
            arg_scope!([batch_norm], center = true, scale = true => { self.base(images) })
        })?;
        classification_head(&net, self.num_classes, self.dropout_keep_prob, self.version.default_scope())
    }
}

impl MobilenetV3 {
    /// `version` as a classifier with TF-Slim's defaults at `depth_multiplier`.
    pub fn classifier(version: MobilenetV3Version, num_classes: Option<i64>, depth_multiplier: f64) -> Self {
        MobilenetV3 {
            version,
            num_classes,
            dropout_keep_prob: 0.8,
            depth_multiplier,
            finegrain_classification_mode: false,
        }
    }

    /// TF-Slim's `mobilenet_base` over the version's definition.
    fn base(&self, images: &Tensor) -> Result<Tensor> {
        let thinning = Thinning {
            multiplier: self.depth_multiplier,
            divisible_by: 8,
            min_depth: 8,
            keep_last_depth: self.finegrain_classification_mode,
        };
        mobilenet_base(images, self.version.ops(), thinning, None, self.version.default_scope())
    }
}
