//! TF-Slim's `inception_v3` (`nets/inception_v3.py`): a VALID stem, three 35×35 modules, a reduction, four
//! 17×17 modules of factorized 1×7 / 7×1 convs, a reduction, two 8×8 modules with split 1×3 / 3×1 branches, an
//! auxiliary classifier on `Mixed_6e`, average pooling, dropout and 1×1-conv logits — with TF-Slim's scope names,
//! including the irregular ones its checkpoints carry (`Mixed_5c/Branch_1/Conv_1_0c_5x5`, `Mixed_6a`'s
//! `Conv2d_1a_1x1` for a 3×3 kernel).

use super::logits::{dropout_and_logits, reduced_kernel, squeeze_logits};
use super::thinning::{check_depth_multiplier, thinned};
use crate::prelude::*;

/// Builds the convs and pools of one module under its scope, with the net's depth multiplier.
struct Module<'a> {
    net: &'a InceptionV3,
    scope: &'a str,
}

impl Module<'_> {
    /// A stride-1 conv of `depth` (thinned) outputs with the enclosing arg scope's padding.
    fn conv(&self, x: &Tensor, depth: i64, kernel: [i64; 2], name: &str) -> Result<Tensor> {
        conv2d(x, self.net.depth(depth), kernel).scope(format!("{}/{name}", self.scope)).call()
    }

    /// A stride-2 VALID conv (the reductions).
    fn reduce(&self, x: &Tensor, depth: i64, kernel: [i64; 2], name: &str) -> Result<Tensor> {
        let call = conv2d(x, self.net.depth(depth), kernel).stride(2).padding(Valid);
        call.scope(format!("{}/{name}", self.scope)).call()
    }

    /// A 3×3 stride-2 VALID max pool (the reductions).
    fn max_pool(&self, x: &Tensor, name: &str) -> Result<Tensor> {
        max_pool2d(x, [3, 3]).stride(2).padding(Valid).scope(format!("{}/{name}", self.scope)).call()
    }

    /// Branch 3 of the non-reducing modules: a 3×3 average pool and a 1×1 conv.
    fn pool_branch(&self, x: &Tensor, depth: i64) -> Result<Tensor> {
        let pooled = avg_pool2d(x, [3, 3]).scope(format!("{}/Branch_3/AvgPool_0a_3x3", self.scope)).call()?;
        self.conv(&pooled, depth, [1, 1], "Branch_3/Conv2d_0b_1x1")
    }
}

/// The branches of a module, concatenated along the channels.
fn concat(branches: &[Tensor]) -> Result<Tensor> {
    Ok(Tensor::f_cat(branches, 1)?)
}

/// TF-Slim's `inception_v3` for `[N, 3, 299, 299]` images; build it in scope `InceptionV3` inside
/// [`inception_v3_arg_scope`] for TF-Slim's names and defaults. The auxiliary logits are the end point
/// `InceptionV3/AuxLogits/Conv2d_2b_1x1` (add them to the loss with weight 0.4, as train_image_classifier.py does).
#[crate::model]
#[derive(Clone, Debug)]
pub struct InceptionV3 {
    /// Classes of the logits (1001 for TF-Slim's checkpoints); `None` returns the pooled features.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability before the logits in training (0.8).
    pub dropout_keep_prob: f64,
    /// Multiplies every conv's depth, never below `min_depth`.
    pub depth_multiplier: f64,
    /// The smallest depth a conv keeps when thinned (16).
    pub min_depth: i64,
    /// Build the auxiliary classifier on `Mixed_6e` (when there are classes).
    pub create_aux_logits: bool,
    /// Average over the whole last map instead of an 8×8 (or smaller) VALID pool.
    pub global_pool: bool,
    /// Return `[N, classes]` logits instead of `[N, classes, 1, 1]` (needs a 1×1 map).
    pub spatial_squeeze: bool,
}

#[crate::model]
impl InceptionV3 {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let (net, mixed_6e) = self.base(images)?;
        if self.create_aux_logits && self.num_classes.is_some() {
            // Reached through the end point `AuxLogits` (squeezed as the logits are), as in TF-Slim.
            let aux_logits = arg_scope!([conv2d, max_pool2d, avg_pool2d], stride = 1, padding = Same => {
                self.aux_logits(&mixed_6e)
            })?;
            let _aux_logits =
                end_point(squeeze_logits(aux_logits, self.spatial_squeeze, "InceptionV3/AuxLogits")?, "AuxLogits");
        }
        let net = match self.global_pool {
            true => net.f_mean_dim(&[2i64, 3][..], true, Kind::Float)?,
            false => {
                let kernel = reduced_kernel(&net, 8);
                let scope = format!("Logits/AvgPool_1a_{}x{}", kernel[0], kernel[1]);
                avg_pool2d(&net, kernel).stride(2).padding(Valid).scope(scope).call()?
            }
        };
        let Some(num_classes) = self.num_classes else { return Ok(net) };
        let scopes = ["Dropout_1b", "Conv2d_1c_1x1"];
        let head = (self.spatial_squeeze, true);
        dropout_and_logits(&net, num_classes, self.dropout_keep_prob, scopes, head, "InceptionV3")
    }
}

impl InceptionV3 {
    /// A classifier with TF-Slim's defaults (keep probability 0.8, auxiliary logits, 8×8 average pool).
    pub fn classifier(num_classes: Option<i64>) -> Self {
        InceptionV3 {
            num_classes,
            dropout_keep_prob: 0.8,
            depth_multiplier: 1.0,
            min_depth: 16,
            create_aux_logits: true,
            global_pool: false,
            spatial_squeeze: true,
        }
    }

    /// A depth after thinning.
    fn depth(&self, depth: i64) -> i64 {
        thinned(depth, self.depth_multiplier, self.min_depth)
    }

    fn module<'a>(&'a self, scope: &'a str) -> Module<'a> {
        Module { net: self, scope }
    }

    /// TF-Slim's `inception_v3_base` up to `Mixed_7c`, each module's output an end point under its name
    /// (`InceptionV3/Mixed_5b`); also returns `Mixed_6e` for the auxiliary logits.
    fn base(&self, images: &Tensor) -> Result<(Tensor, Tensor)> {
        check_depth_multiplier("InceptionV3", self.depth_multiplier)?;
        // The stem: VALID stride-1 convs unless stated.
        let conv = |x: &Tensor, depth: i64, kernel: i64, stride: i64, padding: Padding, name: &str| {
            conv2d(x, self.depth(depth), [kernel, kernel]).stride(stride).padding(padding).scope(name).call()
        };
        let pool = |x: &Tensor, name: &str| max_pool2d(x, [3, 3]).stride(2).padding(Valid).scope(name).call();
        let net = conv(images, 32, 3, 2, Valid, "Conv2d_1a_3x3")?;
        let net = conv(&net, 32, 3, 1, Valid, "Conv2d_2a_3x3")?;
        let net = conv(&net, 64, 3, 1, Same, "Conv2d_2b_3x3")?;
        let net = pool(&net, "MaxPool_3a_3x3")?;
        let net = conv(&net, 80, 1, 1, Valid, "Conv2d_3b_1x1")?;
        let net = conv(&net, 192, 3, 1, Valid, "Conv2d_4a_3x3")?;
        let net = pool(&net, "MaxPool_5a_3x3")?;
        let named = |net: Result<Tensor>, name: &str| net.and_then(|net| end_point(&net, name));
        arg_scope!([conv2d, max_pool2d, avg_pool2d], stride = 1, padding = Same => {
            let net = named(self.mixed_35x35(&net, "Mixed_5b", 32), "Mixed_5b")?;
            let net = named(self.mixed_35x35(&net, "Mixed_5c", 64), "Mixed_5c")?;
            let net = named(self.mixed_35x35(&net, "Mixed_5d", 64), "Mixed_5d")?;
            let net = named(self.mixed_6a(&net), "Mixed_6a")?;
            let net = named(self.mixed_17x17(&net, "Mixed_6b", 128), "Mixed_6b")?;
            let net = named(self.mixed_17x17(&net, "Mixed_6c", 160), "Mixed_6c")?;
            let net = named(self.mixed_17x17(&net, "Mixed_6d", 160), "Mixed_6d")?;
            let mixed_6e = named(self.mixed_17x17(&net, "Mixed_6e", 192), "Mixed_6e")?;
            let net = named(self.mixed_7a(&mixed_6e), "Mixed_7a")?;
            let net = named(self.mixed_8x8(&net, "Mixed_7b"), "Mixed_7b")?;
            Ok((named(self.mixed_8x8(&net, "Mixed_7c"), "Mixed_7c")?, mixed_6e))
        })
    }

    /// `Mixed_5b`, `Mixed_5c`, `Mixed_5d`: 1×1; 1×1 → 5×5; 1×1 → 3×3 → 3×3; pool → 1×1 of `pool_depth`.
    fn mixed_35x35(&self, net: &Tensor, scope: &str, pool_depth: i64) -> Result<Tensor> {
        let m = self.module(scope);
        let branch_0 = m.conv(net, 64, [1, 1], "Branch_0/Conv2d_0a_1x1")?;
        // Mixed_5c's branch 1 carries other names in TF-Slim's checkpoints.
        let (first, second) = match scope {
            "Mixed_5c" => ("Branch_1/Conv2d_0b_1x1", "Branch_1/Conv_1_0c_5x5"),
            _ => ("Branch_1/Conv2d_0a_1x1", "Branch_1/Conv2d_0b_5x5"),
        };
        let branch_1 = m.conv(&m.conv(net, 48, [1, 1], first)?, 64, [5, 5], second)?;
        let branch_2 = m.conv(net, 64, [1, 1], "Branch_2/Conv2d_0a_1x1")?;
        let branch_2 = m.conv(&branch_2, 96, [3, 3], "Branch_2/Conv2d_0b_3x3")?;
        let branch_2 = m.conv(&branch_2, 96, [3, 3], "Branch_2/Conv2d_0c_3x3")?;
        concat(&[branch_0, branch_1, branch_2, m.pool_branch(net, pool_depth)?])
    }

    /// `Mixed_6a`: 35×35 → 17×17.
    fn mixed_6a(&self, net: &Tensor) -> Result<Tensor> {
        let m = self.module("Mixed_6a");
        let branch_0 = m.reduce(net, 384, [3, 3], "Branch_0/Conv2d_1a_1x1")?;
        let branch_1 = m.conv(net, 64, [1, 1], "Branch_1/Conv2d_0a_1x1")?;
        let branch_1 = m.conv(&branch_1, 96, [3, 3], "Branch_1/Conv2d_0b_3x3")?;
        let branch_1 = m.reduce(&branch_1, 96, [3, 3], "Branch_1/Conv2d_1a_1x1")?;
        concat(&[branch_0, branch_1, m.max_pool(net, "Branch_2/MaxPool_1a_3x3")?])
    }

    /// `Mixed_6b` … `Mixed_6e`: factorized 7×7 convs of `width` channels inside.
    fn mixed_17x17(&self, net: &Tensor, scope: &str, width: i64) -> Result<Tensor> {
        let m = self.module(scope);
        let branch_0 = m.conv(net, 192, [1, 1], "Branch_0/Conv2d_0a_1x1")?;
        let branch_1 = m.conv(net, width, [1, 1], "Branch_1/Conv2d_0a_1x1")?;
        let branch_1 = m.conv(&branch_1, width, [1, 7], "Branch_1/Conv2d_0b_1x7")?;
        let branch_1 = m.conv(&branch_1, 192, [7, 1], "Branch_1/Conv2d_0c_7x1")?;
        let mut branch_2 = m.conv(net, width, [1, 1], "Branch_2/Conv2d_0a_1x1")?;
        for (depth, kernel, name) in [
            (width, [7, 1], "Branch_2/Conv2d_0b_7x1"),
            (width, [1, 7], "Branch_2/Conv2d_0c_1x7"),
            (width, [7, 1], "Branch_2/Conv2d_0d_7x1"),
            (192, [1, 7], "Branch_2/Conv2d_0e_1x7"),
        ] {
            branch_2 = m.conv(&branch_2, depth, kernel, name)?;
        }
        concat(&[branch_0, branch_1, branch_2, m.pool_branch(net, 192)?])
    }

    /// `Mixed_7a`: 17×17 → 8×8.
    fn mixed_7a(&self, net: &Tensor) -> Result<Tensor> {
        let m = self.module("Mixed_7a");
        let branch_0 = m.conv(net, 192, [1, 1], "Branch_0/Conv2d_0a_1x1")?;
        let branch_0 = m.reduce(&branch_0, 320, [3, 3], "Branch_0/Conv2d_1a_3x3")?;
        let branch_1 = m.conv(net, 192, [1, 1], "Branch_1/Conv2d_0a_1x1")?;
        let branch_1 = m.conv(&branch_1, 192, [1, 7], "Branch_1/Conv2d_0b_1x7")?;
        let branch_1 = m.conv(&branch_1, 192, [7, 1], "Branch_1/Conv2d_0c_7x1")?;
        let branch_1 = m.reduce(&branch_1, 192, [3, 3], "Branch_1/Conv2d_1a_3x3")?;
        concat(&[branch_0, branch_1, m.max_pool(net, "Branch_2/MaxPool_1a_3x3")?])
    }

    /// `Mixed_7b`, `Mixed_7c`: branches that split into parallel 1×3 and 3×1 convs.
    fn mixed_8x8(&self, net: &Tensor, scope: &str) -> Result<Tensor> {
        let m = self.module(scope);
        let branch_0 = m.conv(net, 320, [1, 1], "Branch_0/Conv2d_0a_1x1")?;
        let split = |x: &Tensor, names: [&str; 2]| -> Result<Tensor> {
            concat(&[m.conv(x, 384, [1, 3], names[0])?, m.conv(x, 384, [3, 1], names[1])?])
        };
        let branch_1 = m.conv(net, 384, [1, 1], "Branch_1/Conv2d_0a_1x1")?;
        let second = if scope == "Mixed_7b" { "Branch_1/Conv2d_0b_3x1" } else { "Branch_1/Conv2d_0c_3x1" };
        let branch_1 = split(&branch_1, ["Branch_1/Conv2d_0b_1x3", second])?;
        let branch_2 = m.conv(net, 448, [1, 1], "Branch_2/Conv2d_0a_1x1")?;
        let branch_2 = m.conv(&branch_2, 384, [3, 3], "Branch_2/Conv2d_0b_3x3")?;
        let branch_2 = split(&branch_2, ["Branch_2/Conv2d_0c_1x3", "Branch_2/Conv2d_0d_3x1"])?;
        concat(&[branch_0, branch_1, branch_2, m.pool_branch(net, 192)?])
    }

    /// The auxiliary classifier on `Mixed_6e` (scope `AuxLogits`).
    fn aux_logits(&self, mixed_6e: &Tensor) -> Result<Tensor> {
        let num_classes = self.num_classes.unwrap_or(0);
        let net = avg_pool2d(mixed_6e, [5, 5]).stride(3).padding(Valid).scope("AuxLogits/AvgPool_1a_5x5").call()?;
        let net = conv2d(&net, self.depth(128), [1, 1]).scope("AuxLogits/Conv2d_1b_1x1").call()?;
        let kernel = reduced_kernel(&net, 5);
        let scope = format!("AuxLogits/Conv2d_2a_{}x{}", kernel[0], kernel[1]);
        let net = conv2d(&net, self.depth(768), kernel)
            .weights_initializer(truncated_normal(0.0, 0.01))
            .padding(Valid)
            .scope(scope)
            .call()?;
        conv2d(&net, num_classes, [1, 1])
            .activation_fn(None)
            .normalizer_fn(None)
            .weights_initializer(truncated_normal(0.0, 0.001))
            .scope("AuxLogits/Conv2d_2b_1x1")
            .call()
    }
}

/// TF-Slim's `inception_v3_arg_scope(weight_decay=4e-5)`: the same `inception_arg_scope` as
/// [`inception_v1_arg_scope`](super::inception_v1_arg_scope).
pub fn inception_v3_arg_scope(weight_decay: f64) -> ArgScope {
    super::inception_v1_arg_scope(weight_decay)
}
