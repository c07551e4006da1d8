//! The `inception_v4` of `models/research/slim/nets/inception_v4.py` (Szegedy et al. 2016): a stem of VALID
//! convs and two-branch mixes, four Inception-A blocks, Reduction-A, seven Inception-B blocks (factorized 1×7 /
//! 7×1 convs), Reduction-B, three Inception-C blocks (split 1×3 / 3×1 branches), an auxiliary classifier on
//! `Mixed_6h`, global average pooling, dropout and fully connected logits — with TF-Slim's scope names.

use super::inception_blocks::{aux_classifier, chain, concat, conv, max_pool, reduce};
use super::logits::predictions_end_point;
use crate::prelude::*;

/// The scopes of the auxiliary classifier's pool, convs and logits.
const AUX_SCOPES: [&str; 4] =
    ["AuxLogits/AvgPool_1a_5x5", "AuxLogits/Conv2d_1b_1x1", "AuxLogits/Conv2d_2a", "AuxLogits/Aux_logits"];

/// TF-Slim's `inception_v4` for `[N, 3, 299, 299]` images; build it in scope `InceptionV4` inside
/// [`inception_v4_arg_scope`] for TF-Slim's names and defaults. End points as TF-Slim's (`Conv2d_1a_3x3` …
/// `Mixed_7d`, `AuxLogits`, `global_pool`, `PreLogitsFlatten`, `Logits`, `Predictions`).
#[crate::model]
#[derive(Clone, Debug)]
pub struct InceptionV4 {
    /// Classes of the logits (1001 for TF-Slim's checkpoints); `None` returns the pooled `[N, 1536, 1, 1]`
    /// features.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability before the logits in training (0.8).
    pub dropout_keep_prob: f64,
    /// Build the auxiliary classifier on `Mixed_6h` (when there are classes).
    pub create_aux_logits: bool,
}

impl InceptionV4 {
    /// A classifier with TF-Slim's defaults (keep probability 0.8, auxiliary logits).
    pub fn classifier(num_classes: Option<i64>) -> Self {
        InceptionV4 { num_classes, dropout_keep_prob: 0.8, create_aux_logits: true }
    }
}

/// Branch 3 of the A, B and C blocks: a 3×3 average pool and a 1×1 conv of `depth`.
fn pool_branch(x: &Tensor, scope: &str, depth: i64) -> Result<Tensor> {
    let pooled = avg_pool2d(x, [3, 3]).scope(format!("{scope}/Branch_3/AvgPool_0a_3x3")).call()?;
    conv(&pooled, depth, [1, 1], format!("{scope}/Branch_3/Conv2d_0b_1x1"))
}

/// Inception-A (35×35, 384 channels).
fn block_a(net: &Tensor, scope: &str) -> Result<Tensor> {
    let branch_0 = chain(net, scope, &[(96, [1, 1], "Branch_0/Conv2d_0a_1x1")])?;
    let branch_1 =
        chain(net, scope, &[(64, [1, 1], "Branch_1/Conv2d_0a_1x1"), (96, [3, 3], "Branch_1/Conv2d_0b_3x3")])?;
    let branch_2 = chain(
        net,
        scope,
        &[
            (64, [1, 1], "Branch_2/Conv2d_0a_1x1"),
            (96, [3, 3], "Branch_2/Conv2d_0b_3x3"),
            (96, [3, 3], "Branch_2/Conv2d_0c_3x3"),
        ],
    )?;
    concat(&[branch_0, branch_1, branch_2, pool_branch(net, scope, 96)?])
}

/// Reduction-A (35×35 → 17×17, 1024 channels).
fn reduction_a(net: &Tensor, scope: &str) -> Result<Tensor> {
    let branch_0 = reduce(net, 384, format!("{scope}/Branch_0/Conv2d_1a_3x3"))?;
    let branch_1 =
        chain(net, scope, &[(192, [1, 1], "Branch_1/Conv2d_0a_1x1"), (224, [3, 3], "Branch_1/Conv2d_0b_3x3")])?;
    let branch_1 = reduce(&branch_1, 256, format!("{scope}/Branch_1/Conv2d_1a_3x3"))?;
    concat(&[branch_0, branch_1, max_pool(net, format!("{scope}/Branch_2/MaxPool_1a_3x3"))?])
}

/// Inception-B (17×17, 1024 channels).
fn block_b(net: &Tensor, scope: &str) -> Result<Tensor> {
    let branch_0 = chain(net, scope, &[(384, [1, 1], "Branch_0/Conv2d_0a_1x1")])?;
    let branch_1 = chain(
        net,
        scope,
        &[
            (192, [1, 1], "Branch_1/Conv2d_0a_1x1"),
            (224, [1, 7], "Branch_1/Conv2d_0b_1x7"),
            (256, [7, 1], "Branch_1/Conv2d_0c_7x1"),
        ],
    )?;
    let branch_2 = chain(
        net,
        scope,
        &[
            (192, [1, 1], "Branch_2/Conv2d_0a_1x1"),
            (192, [7, 1], "Branch_2/Conv2d_0b_7x1"),
            (224, [1, 7], "Branch_2/Conv2d_0c_1x7"),
            (224, [7, 1], "Branch_2/Conv2d_0d_7x1"),
            (256, [1, 7], "Branch_2/Conv2d_0e_1x7"),
        ],
    )?;
    concat(&[branch_0, branch_1, branch_2, pool_branch(net, scope, 128)?])
}

/// Reduction-B (17×17 → 8×8, 1536 channels).
fn reduction_b(net: &Tensor, scope: &str) -> Result<Tensor> {
    let branch_0 = chain(net, scope, &[(192, [1, 1], "Branch_0/Conv2d_0a_1x1")])?;
    let branch_0 = reduce(&branch_0, 192, format!("{scope}/Branch_0/Conv2d_1a_3x3"))?;
    let branch_1 = chain(
        net,
        scope,
        &[
            (256, [1, 1], "Branch_1/Conv2d_0a_1x1"),
            (256, [1, 7], "Branch_1/Conv2d_0b_1x7"),
            (320, [7, 1], "Branch_1/Conv2d_0c_7x1"),
        ],
    )?;
    let branch_1 = reduce(&branch_1, 320, format!("{scope}/Branch_1/Conv2d_1a_3x3"))?;
    concat(&[branch_0, branch_1, max_pool(net, format!("{scope}/Branch_2/MaxPool_1a_3x3"))?])
}

/// Inception-C (8×8, 1536 channels): branches 1 and 2 end in parallel 1×3 and 3×1 convs.
fn block_c(net: &Tensor, scope: &str) -> Result<Tensor> {
    let split = |x: &Tensor, names: [&str; 2]| -> Result<Tensor> {
        concat(&[chain(x, scope, &[(256, [1, 3], names[0])])?, chain(x, scope, &[(256, [3, 1], names[1])])?])
    };
    let branch_0 = chain(net, scope, &[(256, [1, 1], "Branch_0/Conv2d_0a_1x1")])?;
    let branch_1 = chain(net, scope, &[(384, [1, 1], "Branch_1/Conv2d_0a_1x1")])?;
    let branch_1 = split(&branch_1, ["Branch_1/Conv2d_0b_1x3", "Branch_1/Conv2d_0c_3x1"])?;
    let branch_2 = chain(
        net,
        scope,
        &[
            (384, [1, 1], "Branch_2/Conv2d_0a_1x1"),
            (448, [3, 1], "Branch_2/Conv2d_0b_3x1"),
            (512, [1, 3], "Branch_2/Conv2d_0c_1x3"),
        ],
    )?;
    let branch_2 = split(&branch_2, ["Branch_2/Conv2d_0d_1x3", "Branch_2/Conv2d_0e_3x1"])?;
    concat(&[branch_0, branch_1, branch_2, pool_branch(net, scope, 256)?])
}

/// The stem up to `Mixed_5a`, each step an end point.
fn stem(images: &Tensor) -> Result<Tensor> {
    let net = end_point(&reduce(images, 32, "Conv2d_1a_3x3".into())?, "Conv2d_1a_3x3")?;
    let net = conv2d(&net, 32, [3, 3]).padding(Valid).scope("Conv2d_2a_3x3").call()?;
    let net = end_point(&net, "Conv2d_2a_3x3")?;
    let net = end_point(&conv(&net, 64, [3, 3], "Conv2d_2b_3x3".into())?, "Conv2d_2b_3x3")?;
    let mixed_3a = concat(&[
        max_pool(&net, "Mixed_3a/Branch_0/MaxPool_0a_3x3".into())?,
        reduce(&net, 96, "Mixed_3a/Branch_1/Conv2d_0a_3x3".into())?,
    ])?;
    let net = end_point(&mixed_3a, "Mixed_3a")?;
    let valid_3x3 =
        |x: &Tensor, name: &str| conv2d(x, 96, [3, 3]).padding(Valid).scope(format!("Mixed_4a/{name}")).call();
    let branch_0 =
        valid_3x3(&chain(&net, "Mixed_4a", &[(64, [1, 1], "Branch_0/Conv2d_0a_1x1")])?, "Branch_0/Conv2d_1a_3x3")?;
    let branch_1 = chain(
        &net,
        "Mixed_4a",
        &[
            (64, [1, 1], "Branch_1/Conv2d_0a_1x1"),
            (64, [1, 7], "Branch_1/Conv2d_0b_1x7"),
            (64, [7, 1], "Branch_1/Conv2d_0c_7x1"),
        ],
    )?;
    let branch_1 = valid_3x3(&branch_1, "Branch_1/Conv2d_1a_3x3")?;
    let net = end_point(&concat(&[branch_0, branch_1])?, "Mixed_4a")?;
    let mixed_5a = concat(&[
        reduce(&net, 192, "Mixed_5a/Branch_0/Conv2d_1a_3x3".into())?,
        max_pool(&net, "Mixed_5a/Branch_1/MaxPool_1a_3x3".into())?,
    ])?;
    end_point(&mixed_5a, "Mixed_5a")
}

/// TF-Slim's `inception_v4_base` up to `Mixed_7d`; also returns `Mixed_6h` for the auxiliary logits.
fn base(images: &Tensor) -> Result<(Tensor, Tensor)> {
    let mut net = stem(images)?;
    for block in ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_5e"] {
        net = end_point(&block_a(&net, block)?, block)?;
    }
    net = end_point(&reduction_a(&net, "Mixed_6a")?, "Mixed_6a")?;
    for block in ["Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_6f", "Mixed_6g", "Mixed_6h"] {
        net = end_point(&block_b(&net, block)?, block)?;
    }
    let mixed_6h = net.shallow_clone();
    net = end_point(&reduction_b(&net, "Mixed_7a")?, "Mixed_7a")?;
    for block in ["Mixed_7b", "Mixed_7c", "Mixed_7d"] {
        net = end_point(&block_c(&net, block)?, block)?;
    }
    Ok((net, mixed_6h))
}

#[crate::model]
impl InceptionV4 {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        arg_scope!([conv2d, max_pool2d, avg_pool2d], stride = 1, padding = Same => { self.classify(images) })
    }
}

impl InceptionV4 {
    /// The base, the auxiliary classifier, global pooling, dropout and the logits.
    fn classify(&self, images: &Tensor) -> Result<Tensor> {
        let (net, mixed_6h) = base(images)?;
        if let (true, Some(num_classes)) = (self.create_aux_logits, self.num_classes) {
            let _aux_logits = end_point(&aux_classifier(&mixed_6h, num_classes, AUX_SCOPES)?, "AuxLogits")?;
        }
        let whole = [net.size()[2], net.size()[3]];
        let pooled = avg_pool2d(&net, whole).padding(Valid).scope("Logits/AvgPool_1a").call()?;
        let pooled = end_point(&pooled, "global_pool")?;
        let Some(num_classes) = self.num_classes else { return Ok(pooled) };
        let dropped = dropout(&pooled, self.dropout_keep_prob).scope("Logits/Dropout_1b").call()?;
        let flat = end_point(&flatten(&dropped)?, "PreLogitsFlatten")?;
        let logits = fully_connected(&flat, num_classes).activation_fn(None).scope("Logits/Logits").call()?;
        let logits = end_point(&logits, "Logits")?;
        predictions_end_point(&logits, "Predictions")?;
        Ok(logits)
    }
}

/// TF-Slim's `inception_v4_arg_scope(weight_decay=4e-5)`: `inception_utils.inception_arg_scope`, as
/// [`inception_v1_arg_scope`](super::inception_v1_arg_scope).
pub fn inception_v4_arg_scope(weight_decay: f64) -> ArgScope {
    super::inception_v1_arg_scope(weight_decay)
}
