//! TF-Slim's `inception_v1` (`nets/inception_v1.py`: GoogLeNet with batch norm): a stem of convs and pools, nine
//! Inception modules of four concatenated branches, average pooling, dropout and 1×1-conv logits, with
//! TF-Slim's scope names (`InceptionV1/Mixed_4b/Branch_1/Conv2d_0b_3x3/…`).

use super::logits::dropout_and_logits;
use crate::prelude::*;

/// The channel depths of one module's branches: the 1×1 branch; the 1×1 reduction and 3×3 conv of branch 1;
/// the same for branch 2; the 1×1 conv after branch 3's 3×3 max pool.
type ModuleDepths = [i64; 6];

/// One Inception module named `name` (`Mixed_3b`): four branches concatenated along the channels. Convs and
/// pools take stride 1 and SAME padding from the arg scope [`InceptionV1`] sets.
fn inception_module(net: &Tensor, name: &str, depths: ModuleDepths) -> Result<Tensor> {
    let [d0, d1a, d1b, d2a, d2b, d3] = depths;
    let conv = |x: &Tensor, depth: i64, kernel: i64, scope: &str| {
        conv2d(x, depth, [kernel, kernel]).scope(format!("{name}/{scope}")).call()
    };
    let branch_0 = conv(net, d0, 1, "Branch_0/Conv2d_0a_1x1")?;
    let branch_1 = conv(&conv(net, d1a, 1, "Branch_1/Conv2d_0a_1x1")?, d1b, 3, "Branch_1/Conv2d_0b_3x3")?;
    // TF-Slim names Mixed_5b's second branch-2 conv `Conv2d_0a_3x3`, and its checkpoints carry that name.
    let second = if name == "Mixed_5b" { "Branch_2/Conv2d_0a_3x3" } else { "Branch_2/Conv2d_0b_3x3" };
    let branch_2 = conv(&conv(net, d2a, 1, "Branch_2/Conv2d_0a_1x1")?, d2b, 3, second)?;
    let pooled = max_pool2d(net, [3, 3]).scope(format!("{name}/Branch_3/MaxPool_0a_3x3")).call()?;
    let branch_3 = conv(&pooled, d3, 1, "Branch_3/Conv2d_0b_1x1")?;
    Ok(Tensor::f_cat(&[branch_0, branch_1, branch_2, branch_3], 1)?)
}

/// TF-Slim's `inception_v1` for `[N, 3, 224, 224]` images; build it in scope `InceptionV1` inside
/// [`inception_v1_arg_scope`] for TF-Slim's names and defaults.
#[crate::model]
#[derive(Clone, Debug)]
pub struct InceptionV1 {
    /// Classes of the logits (1001 for TF-Slim's ImageNet checkpoints); `None` returns the pooled features of
    /// `inception_v1_base`.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability before the logits in training (0.8).
    pub dropout_keep_prob: f64,
    /// Average over the whole last map (any input size) instead of TF-Slim's 7×7 VALID average pool.
    pub global_pool: bool,
    /// Return `[N, classes]` logits instead of `[N, classes, 1, 1]` (needs a 1×1 map).
    pub spatial_squeeze: bool,
}

#[crate::model]
impl InceptionV1 {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = arg_scope!([conv2d, fully_connected], weights_initializer = truncated_normal(0.0, 0.01) => {
            arg_scope!([conv2d, max_pool2d], stride = 1, padding = Same => { self.base(images) })
        })?;
        let net = match self.global_pool {
            true => net.f_mean_dim(&[2i64, 3][..], true, Kind::Float)?,
            false => avg_pool2d(net, [7, 7], stride = 1, scope = "Logits/AvgPool_0a_7x7"),
        };
        let Some(num_classes) = self.num_classes else { return Ok(net) };
        let scopes = ["Dropout_0b", "Conv2d_0c_1x1"];
        let head = (self.spatial_squeeze, false);
        dropout_and_logits(&net, num_classes, self.dropout_keep_prob, scopes, head, "InceptionV1")
    }
}

impl InceptionV1 {
    /// A classifier with TF-Slim's defaults (keep probability 0.8, 7×7 average pool, squeezed logits).
    pub fn classifier(num_classes: Option<i64>) -> Self {
        InceptionV1 { num_classes, dropout_keep_prob: 0.8, global_pool: false, spatial_squeeze: true }
    }

    /// TF-Slim's `inception_v1_base`: the stem and the nine modules, up to `Mixed_5c`; each module's output is
    /// an end point under its name (`InceptionV1/Mixed_3b`).
    fn base(&self, images: &Tensor) -> Result<Tensor> {
        let net = conv2d(images, 64, [7, 7]).stride(2).scope("Conv2d_1a_7x7").call()?;
        let net = max_pool2d(&net, [3, 3]).stride(2).scope("MaxPool_2a_3x3").call()?;
        let net =
            conv2d(&net, 64, [1, 1]).weights_initializer(truncated_normal(0.0, 0.1)).scope("Conv2d_2b_1x1").call()?;
        let net = conv2d(&net, 192, [3, 3]).scope("Conv2d_2c_3x3").call()?;
        let mut net = max_pool2d(&net, [3, 3]).stride(2).scope("MaxPool_3a_3x3").call()?;
        let modules: [(&str, ModuleDepths); 9] = [
            ("Mixed_3b", [64, 96, 128, 16, 32, 32]),
            ("Mixed_3c", [128, 128, 192, 32, 96, 64]),
            ("Mixed_4b", [192, 96, 208, 16, 48, 64]),
            ("Mixed_4c", [160, 112, 224, 24, 64, 64]),
            ("Mixed_4d", [128, 128, 256, 24, 64, 64]),
            ("Mixed_4e", [112, 144, 288, 32, 64, 64]),
            ("Mixed_4f", [256, 160, 320, 32, 128, 128]),
            ("Mixed_5b", [256, 160, 320, 32, 128, 128]),
            ("Mixed_5c", [384, 192, 384, 48, 128, 128]),
        ];
        for (name, depths) in modules {
            net = match name {
                "Mixed_4b" => max_pool2d(&net, [3, 3]).stride(2).scope("MaxPool_4a_3x3").call()?,
                "Mixed_5b" => max_pool2d(&net, [2, 2]).stride(2).scope("MaxPool_5a_2x2").call()?,
                _ => net,
            };
            net = end_point(&inception_module(&net, name, depths)?, name)?;
        }
        Ok(net)
    }
}

/// TF-Slim's `inception_v1_arg_scope(weight_decay=4e-5)` (its `inception_arg_scope`): l2 decay on convs and
/// fully connected layers; convs with variance-scaling initialization, relu and batch norm (decay 0.9997,
/// epsilon 0.001, no scale). Enter it around `build`.
pub fn inception_v1_arg_scope(weight_decay: f64) -> ArgScope {
    crate::arg_scope!([conv2d, fully_connected], weights_regularizer = l2_regularizer(weight_decay) => {
        crate::arg_scope!([conv2d],
                          weights_initializer = variance_scaling_initializer(2.0, FanMode::FanIn, false),
                          activation_fn = relu,
                          normalizer_fn = Normalizer::batch_norm() => {
            crate::arg_scope!([batch_norm], decay = 0.9997, epsilon = 0.001, scale = false => { ArgScope::current() })
        })
    })
}
