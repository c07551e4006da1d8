//! TF-Slim's `inception_v2` (`nets/inception_v2.py`, Inception with batch normalization, Ioffe & Szegedy 2015): a
//! stem opened by a separable 7×7 conv, ten modules (two of them stride-2 reductions), average pooling, dropout
//! and 1×1-conv logits, with TF-Slim's scope names (`InceptionV2/Mixed_4b/Branch_2/Conv2d_0c_3x3/…`).

use super::logits::{dropout_and_logits, reduced_kernel};
use super::thinning::{check_depth_multiplier, thinned};
use crate::prelude::*;

/// The depths of a module of four branches: the 1×1 branch; branch 1's 1×1 reduction and 3×3 conv; branch 2's
/// 1×1 reduction and two 3×3 convs; the 1×1 conv after branch 3's pool.
type ModuleDepths = [i64; 6];

/// The depths of a reduction module: branch 0's 1×1 and strided 3×3; branch 1's 1×1, 3×3 and strided 3×3.
type ReductionDepths = [i64; 5];

/// One of TF-Slim's modules, in order.
enum Module {
    /// Four branches, branch 3 pooled by an average (or, with `max_pool`, a max) 3×3 pool.
    Mixed { depths: ModuleDepths, max_pool: bool },
    /// Two strided conv branches and a strided 3×3 max pool.
    Reduction(ReductionDepths),
}

/// `inception_v2_base`'s modules after the stem, with their depths at depth multiplier 1.
const MODULES: [(&str, Module); 10] = [
    ("Mixed_3b", Module::Mixed { depths: [64, 64, 64, 64, 96, 32], max_pool: false }),
    ("Mixed_3c", Module::Mixed { depths: [64, 64, 96, 64, 96, 64], max_pool: false }),
    ("Mixed_4a", Module::Reduction([128, 160, 64, 96, 96])),
    ("Mixed_4b", Module::Mixed { depths: [224, 64, 96, 96, 128, 128], max_pool: false }),
    ("Mixed_4c", Module::Mixed { depths: [192, 96, 128, 96, 128, 128], max_pool: false }),
    ("Mixed_4d", Module::Mixed { depths: [160, 128, 160, 128, 160, 96], max_pool: false }),
    ("Mixed_4e", Module::Mixed { depths: [96, 128, 192, 160, 192, 96], max_pool: false }),
    ("Mixed_5a", Module::Reduction([128, 192, 192, 256, 256])),
    ("Mixed_5b", Module::Mixed { depths: [352, 192, 320, 160, 224, 128], max_pool: false }),
    ("Mixed_5c", Module::Mixed { depths: [352, 192, 320, 192, 224, 128], max_pool: true }),
];

/// TF-Slim's `inception_v2` for `[N, 3, 224, 224]` images; build it in scope `InceptionV2` inside
/// [`inception_v2_arg_scope`] for TF-Slim's names and defaults.
#[crate::model]
#[derive(Clone, Debug)]
pub struct InceptionV2 {
    /// Classes of the logits (1001 for TF-Slim's ImageNet checkpoints); `None` returns the pooled features of
    /// `inception_v2_base`.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability before the logits in training (0.8).
    pub dropout_keep_prob: f64,
    /// Multiplies every conv's depth, never below `min_depth` (1.0).
    pub depth_multiplier: f64,
    /// The smallest depth a conv keeps when thinned (16).
    pub min_depth: i64,
    /// Average over the whole last map instead of a 7×7 (or smaller) VALID pool.
    pub global_pool: bool,
    /// Return `[N, classes]` logits instead of `[N, classes, 1, 1]` (needs a 1×1 map).
    pub spatial_squeeze: bool,
}

#[crate::model]
impl InceptionV2 {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = arg_scope!([conv2d, max_pool2d, avg_pool2d, separable_conv2d], stride = 1, padding = Same => {
            self.base(images)
        })?;
        let net = match self.global_pool {
            true => net.f_mean_dim(&[2i64, 3][..], true, Kind::Float)?,
            false => {
                let kernel = reduced_kernel(&net, 7);
                let scope = format!("Logits/AvgPool_1a_{}x{}", kernel[0], kernel[1]);
                avg_pool2d(&net, kernel).padding(Valid).scope(scope).call()?
            }
        };
        let Some(num_classes) = self.num_classes else { return Ok(net) };
        let (scopes, head) = (["Dropout_1b", "Conv2d_1c_1x1"], (self.spatial_squeeze, false));
        dropout_and_logits(&net, num_classes, self.dropout_keep_prob, scopes, head, "InceptionV2")
    }
}

impl InceptionV2 {
    /// A classifier with TF-Slim's defaults (keep probability 0.8, 7×7 average pool, squeezed logits).
    pub fn classifier(num_classes: Option<i64>) -> Self {
        InceptionV2 {
            num_classes,
            dropout_keep_prob: 0.8,
            depth_multiplier: 1.0,
            min_depth: 16,
            global_pool: false,
            spatial_squeeze: true,
        }
    }

    /// A depth after thinning.
    fn depth(&self, depth: i64) -> i64 {
        thinned(depth, self.depth_multiplier, self.min_depth)
    }

    /// TF-Slim's `inception_v2_base` up to `Mixed_5c`, each module's output an end point under its name.
    fn base(&self, images: &Tensor) -> Result<Tensor> {
        check_depth_multiplier("InceptionV2", self.depth_multiplier)?;
        let depthwise_multiplier = (self.depth(64) / 3).min(8);
        let net = separable_conv2d(images, self.depth(64), [7, 7])
            .depth_multiplier(depthwise_multiplier)
            .stride(2)
            .weights_initializer(truncated_normal(0.0, 1.0))
            .scope("Conv2d_1a_7x7")
            .call()?;
        let net = max_pool2d(&net, [3, 3]).stride(2).scope("MaxPool_2a_3x3").call()?;
        let net = conv2d(&net, self.depth(64), [1, 1])
            .weights_initializer(truncated_normal(0.0, 0.1))
            .scope("Conv2d_2b_1x1")
            .call()?;
        let net = conv2d(&net, self.depth(192), [3, 3]).scope("Conv2d_2c_3x3").call()?;
        let mut net = max_pool2d(&net, [3, 3]).stride(2).scope("MaxPool_3a_3x3").call()?;
        for (name, module) in &MODULES {
            let out = match module {
                Module::Mixed { depths, max_pool } => self.mixed(&net, name, *depths, *max_pool)?,
                Module::Reduction(depths) => self.reduction(&net, name, *depths)?,
            };
            net = end_point(&out, name)?;
        }
        Ok(net)
    }

    /// A conv of `depth` (thinned) and `kernel` in scope `<module>/<scope>`, with `stddev`'s truncated normal
    /// weights when given (TF-Slim's 0.09 for reductions, 0.1 for pooled branches), and `stride`.
    fn conv(
        &self,
        x: &Tensor,
        scope: String,
        (depth, kernel, stride): (i64, i64, i64),
        stddev: Option<f64>,
    ) -> Result<Tensor> {
        let call = conv2d(x, self.depth(depth), [kernel, kernel]).stride(stride).scope(scope);
        match stddev {
            Some(stddev) => call.weights_initializer(truncated_normal(0.0, stddev)).call(),
            None => call.call(),
        }
    }

    /// A module of four branches concatenated along the channels.
    fn mixed(&self, net: &Tensor, name: &str, depths: ModuleDepths, max_pool: bool) -> Result<Tensor> {
        let [d0, d1a, d1b, d2a, d2b, d3] = depths;
        let at = |scope: &str| format!("{name}/{scope}");
        let branch_0 = self.conv(net, at("Branch_0/Conv2d_0a_1x1"), (d0, 1, 1), None)?;
        let branch_1 = self.conv(net, at("Branch_1/Conv2d_0a_1x1"), (d1a, 1, 1), Some(0.09))?;
        let branch_1 = self.conv(&branch_1, at("Branch_1/Conv2d_0b_3x3"), (d1b, 3, 1), None)?;
        let branch_2 = self.conv(net, at("Branch_2/Conv2d_0a_1x1"), (d2a, 1, 1), Some(0.09))?;
        let branch_2 = self.conv(&branch_2, at("Branch_2/Conv2d_0b_3x3"), (d2b, 3, 1), None)?;
        let branch_2 = self.conv(&branch_2, at("Branch_2/Conv2d_0c_3x3"), (d2b, 3, 1), None)?;
        let pooled = match max_pool {
            true => max_pool2d(net, [3, 3]).scope(at("Branch_3/MaxPool_0a_3x3")).call()?,
            false => avg_pool2d(net, [3, 3]).scope(at("Branch_3/AvgPool_0a_3x3")).call()?,
        };
        let branch_3 = self.conv(&pooled, at("Branch_3/Conv2d_0b_1x1"), (d3, 1, 1), Some(0.1))?;
        Ok(Tensor::f_cat(&[branch_0, branch_1, branch_2, branch_3], 1)?)
    }

    /// A stride-2 reduction module: two conv branches and a max pool, concatenated along the channels.
    fn reduction(&self, net: &Tensor, name: &str, depths: ReductionDepths) -> Result<Tensor> {
        let [d0a, d0b, d1a, d1b, d1c] = depths;
        let at = |scope: &str| format!("{name}/{scope}");
        let branch_0 = self.conv(net, at("Branch_0/Conv2d_0a_1x1"), (d0a, 1, 1), Some(0.09))?;
        let branch_0 = self.conv(&branch_0, at("Branch_0/Conv2d_1a_3x3"), (d0b, 3, 2), None)?;
        let branch_1 = self.conv(net, at("Branch_1/Conv2d_0a_1x1"), (d1a, 1, 1), Some(0.09))?;
        let branch_1 = self.conv(&branch_1, at("Branch_1/Conv2d_0b_3x3"), (d1b, 3, 1), None)?;
        let branch_1 = self.conv(&branch_1, at("Branch_1/Conv2d_1a_3x3"), (d1c, 3, 2), None)?;
        let branch_2 = max_pool2d(net, [3, 3]).stride(2).scope(at("Branch_2/MaxPool_1a_3x3")).call()?;
        Ok(Tensor::f_cat(&[branch_0, branch_1, branch_2], 1)?)
    }
}

/// TF-Slim's `inception_v2_arg_scope(weight_decay=4e-5)`: l2 decay on convs and fully connected layers; convs with
/// variance-scaling initialization, relu and batch norm (decay 0.9997, epsilon 0.001, no scale, the moving
/// statistics also in the `moving_vars` collection). Enter it around `build`.
pub fn inception_v2_arg_scope(weight_decay: f64) -> ArgScope {
    let moving_vars = BatchNormParams {
        moving_mean: Some(Collections::from("moving_vars")),
        moving_variance: Some(Collections::from("moving_vars")),
        ..BatchNormParams::default()
    };
    crate::arg_scope!([conv2d, fully_connected], weights_regularizer = l2_regularizer(weight_decay) => {
        crate::arg_scope!([conv2d],
                          weights_initializer = variance_scaling_initializer(2.0, FanMode::FanIn, false),
                          activation_fn = relu,
                          normalizer_fn = Normalizer::batch_norm() => {
            crate::arg_scope!([batch_norm],
                              decay = 0.9997,
                              epsilon = 0.001,
                              scale = false,
                              param_collections = moving_vars => { ArgScope::current() })
        })
    })
}
