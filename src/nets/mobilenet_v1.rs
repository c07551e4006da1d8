//! TF-Slim's `mobilenet_v1` (`nets/mobilenet_v1.py`): a 3×3 conv, then 13 depthwise-separable layers (a 3×3
//! depthwise conv and a 1×1 pointwise conv, each with batch norm and relu6), average pooling, dropout and
//! 1×1-conv logits. `depth_multiplier` thins every layer (MobileNet 0.75, 0.5, 0.25).

use super::logits::dropout_and_logits;
use super::thinning::{check_depth_multiplier, thinned};
use crate::prelude::*;

/// One layer of the body: a full conv or a depthwise-separable pair, with its stride and output depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LayerDef {
    /// `Conv(kernel=[3, 3], stride, depth)`.
    Conv(i64, i64),
    /// `DepthSepConv(kernel=[3, 3], stride, depth)`.
    DepthSepConv(i64, i64),
}

/// TF-Slim's `MOBILENETV1_CONV_DEFS`: (stride, depth) of `Conv2d_0` … `Conv2d_13`.
const CONV_DEFS: [LayerDef; 14] = [
    LayerDef::Conv(2, 32),
    LayerDef::DepthSepConv(1, 64),
    LayerDef::DepthSepConv(2, 128),
    LayerDef::DepthSepConv(1, 128),
    LayerDef::DepthSepConv(2, 256),
    LayerDef::DepthSepConv(1, 256),
    LayerDef::DepthSepConv(2, 512),
    LayerDef::DepthSepConv(1, 512),
    LayerDef::DepthSepConv(1, 512),
    LayerDef::DepthSepConv(1, 512),
    LayerDef::DepthSepConv(1, 512),
    LayerDef::DepthSepConv(1, 512),
    LayerDef::DepthSepConv(2, 1024),
    LayerDef::DepthSepConv(1, 1024),
];

/// TF-Slim's `mobilenet_v1` for `[N, 3, 224, 224]` images (any size); build it in scope `MobilenetV1` inside
/// [`mobilenet_v1_arg_scope`] for TF-Slim's names and defaults.
#[crate::model]
#[derive(Clone, Debug)]
pub struct MobilenetV1 {
    /// Classes of the logits (1001 for TF-Slim's checkpoints); `None` returns the pooled features.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability before the logits in training (TF-Slim: 0.999).
    pub dropout_keep_prob: f64,
    /// Multiplies every layer's depth (1.0, 0.75, 0.5, 0.25), never below `min_depth`.
    pub depth_multiplier: f64,
    /// The smallest depth a layer keeps when thinned (8).
    pub min_depth: i64,
    /// Average over the whole last map instead of a 7×7 (or smaller, for small inputs) VALID pool.
    pub global_pool: bool,
    /// Return `[N, classes]` logits instead of `[N, classes, 1, 1]` (needs a 1×1 map).
    pub spatial_squeeze: bool,
}

#[crate::model]
impl MobilenetV1 {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = arg_scope!([conv2d, separable_conv2d], padding = Same => { self.base(images) })?;
        let net = match self.global_pool {
            true => net.f_mean_dim(&[2i64, 3][..], true, Kind::Float)?,
            false => {
                let size = net.size();
                let kernel = [size[2].min(7), size[3].min(7)];
                avg_pool2d(net, kernel, padding = Valid, scope = "Logits/AvgPool_1a")
            }
        };
        let Some(num_classes) = self.num_classes else { return Ok(net) };
        let scopes = ["Dropout_1b", "Conv2d_1c_1x1"];
        let head = (self.spatial_squeeze, false);
        dropout_and_logits(&net, num_classes, self.dropout_keep_prob, scopes, head, "MobilenetV1")
    }
}

impl MobilenetV1 {
    /// A classifier with TF-Slim's defaults at `depth_multiplier`.
    pub fn classifier(num_classes: Option<i64>, depth_multiplier: f64) -> Self {
        MobilenetV1 {
            num_classes,
            dropout_keep_prob: 0.999,
            depth_multiplier,
            min_depth: 8,
            global_pool: false,
            spatial_squeeze: true,
        }
    }

    /// A layer's depth after thinning.
    fn depth(&self, depth: i64) -> i64 {
        thinned(depth, self.depth_multiplier, self.min_depth)
    }

    /// TF-Slim's `mobilenet_v1_base`, up to `Conv2d_13_pointwise`.
    fn base(&self, images: &Tensor) -> Result<Tensor> {
        check_depth_multiplier("MobilenetV1", self.depth_multiplier)?;
        let mut net = images.shallow_clone();
        for (i, layer) in CONV_DEFS.into_iter().enumerate() {
            net = match layer {
                LayerDef::Conv(stride, depth) => {
                    conv2d(&net, self.depth(depth), [3, 3]).stride(stride).scope(format!("Conv2d_{i}")).call()?
                }
                LayerDef::DepthSepConv(stride, depth) => {
                    let depthwise = separable_conv2d(&net, None, [3, 3]).stride(stride);
                    let net = depthwise.scope(format!("Conv2d_{i}_depthwise")).call()?;
                    conv2d(&net, self.depth(depth), [1, 1]).scope(format!("Conv2d_{i}_pointwise")).call()?
                }
            };
        }
        Ok(net)
    }
}

/// TF-Slim's `mobilenet_v1_arg_scope(weight_decay=4e-5, stddev=0.09, regularize_depthwise=False)`: truncated
/// normal (σ `stddev`) weights, relu6 and batch norm (decay 0.9997, epsilon 0.001, with scale) for convs and
/// separable convs; l2 decay on the convs only (the depthwise weights are not regularized).
pub fn mobilenet_v1_arg_scope(weight_decay: f64, stddev: f64) -> ArgScope {
    crate::arg_scope!([conv2d, separable_conv2d],
                      weights_initializer = truncated_normal(0.0, stddev),
                      activation_fn = relu6,
                      normalizer_fn = Normalizer::batch_norm() => {
        crate::arg_scope!([batch_norm], decay = 0.9997, epsilon = 0.001, scale = true => {
            crate::arg_scope!([conv2d], weights_regularizer = l2_regularizer(weight_decay) => { ArgScope::current() })
        })
    })
}
