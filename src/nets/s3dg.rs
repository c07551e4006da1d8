//! TF-Slim's video classifiers `i3d` (`nets/i3d.py`, Carreira and Zisserman 2017: Inception v1 inflated to 3-D)
//! and `s3dg` (`nets/s3dg.py`, Xie et al. 2017: separable 3-D convs with self-gating), one net with the switches
//! that tell them apart. Clips are `[N, C, T, H, W]`; TF-Slim names the scopes as Inception v1's, so an image
//! checkpoint's names line up.

use super::i3d_blocks::{BlockDepths, Spatiotemporal, inception_block_3d, self_gating};
use super::logits::{predictions_end_point, squeeze_logits};
use super::thinning::{check_depth_multiplier, thinned};
use crate::prelude::*;

/// One stage of the base after the stem: a max pool (kernel, stride as `[t, h, w]`) or a 3-D Inception block.
enum Stage {
    Pool(&'static str, [i64; 3], [i64; 3]),
    Block(&'static str, BlockDepths),
}

/// The stages after `Conv2d_2c_3x3`, as `s3dg_base` builds them.
const STAGES: [Stage; 12] = [
    Stage::Pool("MaxPool_3a_3x3", [1, 3, 3], [1, 2, 2]),
    Stage::Block("Mixed_3b", [64, 96, 128, 16, 32, 32]),
    Stage::Block("Mixed_3c", [128, 128, 192, 32, 96, 64]),
    Stage::Pool("MaxPool_4a_3x3", [3, 3, 3], [2, 2, 2]),
    Stage::Block("Mixed_4b", [192, 96, 208, 16, 48, 64]),
    Stage::Block("Mixed_4c", [160, 112, 224, 24, 64, 64]),
    Stage::Block("Mixed_4d", [128, 128, 256, 24, 64, 64]),
    Stage::Block("Mixed_4e", [112, 144, 288, 32, 64, 64]),
    Stage::Block("Mixed_4f", [256, 160, 320, 32, 128, 128]),
    Stage::Pool("MaxPool_5a_2x2", [2, 2, 2], [2, 2, 2]),
    Stage::Block("Mixed_5b", [256, 160, 320, 32, 128, 128]),
    Stage::Block("Mixed_5c", [384, 192, 384, 48, 128, 128]),
];

/// The end points where temporal convs or gating may start (`temporal_conv_startat`, `gating_startat`).
const STARTS: [&str; 10] = [
    "Conv2d_2c_3x3",
    "Mixed_3b",
    "Mixed_3c",
    "Mixed_4b",
    "Mixed_4c",
    "Mixed_4d",
    "Mixed_4e",
    "Mixed_4f",
    "Mixed_5b",
    "Mixed_5c",
];

/// TF-Slim's `s3dg` (and, by [`S3dg::i3d`], its `i3d`) for `[N, 3, T, 224, 224]` clips; build it in scope
/// `InceptionV1` inside [`s3dg_arg_scope`] (or [`i3d_arg_scope`]) for TF-Slim's names and defaults. End points
/// `Conv2d_1a_7x7` … `Mixed_5c` (each block's convs by scope), `Logits`, `Predictions`. The logits are averaged
/// over the frames the head leaves.
#[crate::model]
#[derive(Clone, Debug)]
pub struct S3dg {
    /// Classes of the logits (400 for Kinetics); `None` returns the pooled features `[N, 1024, T', 1, 1]`.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability before the logits in training (0.8).
    pub dropout_keep_prob: f64,
    /// Frames the first conv spans: 1, 3, 5 or 7 (s3dg 3, i3d 7).
    pub first_temporal_kernel_size: i64,
    /// The first end point whose convs span 3 frames (`Conv2d_2c_3x3`); before it they are 2-D. `None`: never.
    pub temporal_conv_startat: Option<String>,
    /// The first end point with self-gating (s3dg `Conv2d_2c_3x3`, i3d none).
    pub gating_startat: Option<String>,
    /// Split each `[3, k, k]` conv into a spatial and a temporal one (s3dg true, i3d false; TF-Slim's arg-scope
    /// switch `separable` of `conv3d_spatiotemporal`).
    pub separable_conv3d: bool,
    /// The smallest depth a conv keeps when thinned (16).
    pub min_depth: i64,
    /// Multiplies every conv's depth.
    pub depth_multiplier: f64,
    /// Return `[N, classes]` logits instead of `[N, classes, 1, 1]`.
    pub spatial_squeeze: bool,
}

#[crate::model]
impl S3dg {
    fn forward(&self, clips: &Tensor) -> Result<Tensor> {
        let net = arg_scope!([conv3d], weights_initializer = truncated_normal(0.0, 0.01) => {
            arg_scope!([conv3d, max_pool3d], stride = 1, padding = Same => { self.base(clips) })
        })?;
        self.head(&net)
    }
}

impl S3dg {
    /// TF-Slim's `s3dg` with its defaults: 3-frame first conv, separable temporal convs and gating from
    /// `Conv2d_2c_3x3` on.
    pub fn classifier(num_classes: Option<i64>) -> Self {
        S3dg {
            num_classes,
            dropout_keep_prob: 0.8,
            first_temporal_kernel_size: 3,
            temporal_conv_startat: Some("Conv2d_2c_3x3".into()),
            gating_startat: Some("Conv2d_2c_3x3".into()),
            separable_conv3d: true,
            min_depth: 16,
            depth_multiplier: 1.0,
            spatial_squeeze: true,
        }
    }

    /// TF-Slim's `i3d`: a 7-frame first conv, full 3-D convs from `Conv2d_2c_3x3` on, no gating.
    pub fn i3d(num_classes: Option<i64>) -> Self {
        S3dg {
            first_temporal_kernel_size: 7,
            gating_startat: None,
            separable_conv3d: false,
            ..S3dg::classifier(num_classes)
        }
    }

    /// A conv's depth after thinning.
    fn depth(&self, depth: i64) -> i64 {
        thinned(depth, self.depth_multiplier, self.min_depth)
    }

    /// Checks the switches: the first kernel's frames and the start points.
    fn check(&self) -> Result<()> {
        check_depth_multiplier("InceptionV1", self.depth_multiplier)?;
        if ![1, 3, 5, 7].contains(&self.first_temporal_kernel_size) {
            let got = self.first_temporal_kernel_size;
            return Err(Error::invalid(
                "InceptionV1",
                format!("first_temporal_kernel_size must be 1, 3, 5 or 7, got {got}"),
            ));
        }
        for start in [&self.temporal_conv_startat, &self.gating_startat].into_iter().flatten() {
            if !STARTS.contains(&start.as_str()) {
                let known = STARTS.join(", ");
                return Err(Error::invalid(
                    "InceptionV1",
                    format!("no end point {start:?} to start at; one of {known}"),
                ));
            }
        }
        Ok(())
    }

    /// TF-Slim's `s3dg_base`, up to `Mixed_5c`.
    fn base(&self, clips: &Tensor) -> Result<Tensor> {
        self.check()?;
        let stem = Spatiotemporal { frames: self.first_temporal_kernel_size, separable: false };
        let net = stem.conv(clips, self.depth(64), 7, 2, "Conv2d_1a_7x7")?;
        let net = max_pool3d(&net, [1, 3, 3]).stride([1, 2, 2]).scope("MaxPool_2a_3x3").call()?;
        let net = conv3d(&net, self.depth(64), 1).scope("Conv2d_2b_1x1").call()?;
        let (mut temporal, mut gating) = (false, false);
        let mut convs = |end_point: &str| {
            temporal |= self.temporal_conv_startat.as_deref() == Some(end_point);
            gating |= self.gating_startat.as_deref() == Some(end_point);
            let frames = if temporal { 3 } else { 1 };
            (Spatiotemporal { frames, separable: self.separable_conv3d }, gating)
        };
        let (stage_convs, gate) = convs("Conv2d_2c_3x3");
        let mut net = stage_convs.conv(&net, self.depth(192), 3, 1, "Conv2d_2c_3x3")?;
        if gate {
            net = self_gating(&net, "Conv2d_2c_3x3")?;
        }
        net = end_point(&net, "Conv2d_2c_3x3")?;
        for stage in &STAGES {
            net = match stage {
                Stage::Pool(scope, kernel, stride) => max_pool3d(&net, *kernel).stride(*stride).scope(*scope).call()?,
                Stage::Block(scope, depths) => {
                    let (stage_convs, gate) = convs(scope);
                    let depths = depths.map(|depth| self.depth(depth));
                    end_point(&inception_block_3d(&net, depths, stage_convs, gate, scope)?, scope)?
                }
            };
        }
        Ok(net)
    }

    /// TF-Slim's head: `Logits/AvgPool_0a_7x7` (VALID, `[2, 7, 7]` or the map when smaller), `Logits/Dropout_0b`,
    /// 1×1×1 logits `Logits/Conv2d_0c_1x1` (biases, no activation or normalizer), averaged over the frames.
    fn head(&self, net: &Tensor) -> Result<Tensor> {
        let size = net.size();
        let kernel = [size[2].min(2), size[3].min(7), size[4].min(7)];
        let pooled = avg_pool3d(net, kernel).stride(1).padding(Valid).scope("Logits/AvgPool_0a_7x7").call()?;
        let Some(num_classes) = self.num_classes else { return Ok(pooled) };
        let net = dropout(&pooled, self.dropout_keep_prob).scope("Logits/Dropout_0b").call()?;
        let logits = conv3d(&net, num_classes, 1).activation_fn(None).normalizer_fn(None);
        let logits = logits.scope("Logits/Conv2d_0c_1x1").call()?.f_mean_dim(&[2i64][..], false, None)?;
        let logits = end_point(&squeeze_logits(logits, self.spatial_squeeze, "InceptionV1")?, "Logits")?;
        predictions_end_point(&logits, "Predictions")?;
        Ok(logits)
    }
}

/// TF-Slim's `i3d_arg_scope(weight_decay=1e-7, batch_norm_decay=0.999, batch_norm_epsilon=0.001, use_renorm)`:
/// l2-decayed conv3d weights, relu, batch norm (no gamma) with those settings and its moving statistics also in
/// the `moving_vars` collection. Its `separable_conv3d` switch is [`S3dg::separable_conv3d`].
pub fn i3d_arg_scope(weight_decay: f64, batch_norm_decay: f64, batch_norm_epsilon: f64, use_renorm: bool) -> ArgScope {
    let moving = BatchNormParams {
        moving_mean: Some(Collections::from("moving_vars")),
        moving_variance: Some(Collections::from("moving_vars")),
        ..BatchNormParams::default()
    };
    crate::arg_scope!([batch_norm],
                      decay = batch_norm_decay,
                      epsilon = batch_norm_epsilon,
                      renorm = use_renorm,
                      param_collections = moving.clone() => {
        crate::arg_scope!([conv3d],
                          weights_regularizer = l2_regularizer(weight_decay),
                          activation_fn = relu,
                          normalizer_fn = Normalizer::batch_norm() => { ArgScope::current() })
    })
}

/// TF-Slim's `s3dg_arg_scope(weight_decay=1e-7, batch_norm_decay=0.999, batch_norm_epsilon=0.001)`: as
/// [`i3d_arg_scope`] without renorm.
pub fn s3dg_arg_scope(weight_decay: f64, batch_norm_decay: f64, batch_norm_epsilon: f64) -> ArgScope {
    i3d_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon, false)
}
