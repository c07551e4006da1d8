//! The `inception_resnet_v2` of `models/research/slim/nets/inception_resnet_v2.py` (Szegedy et al. 2016): a VALID
//! stem, `Mixed_5b`, ten 35×35 residual Inception blocks, `Mixed_6a`, twenty 17×17 blocks, an auxiliary classifier,
//! `Mixed_7a`, ten 8×8 blocks (the last without its ReLU), a 1×1 conv to 1536, global average pooling, dropout and
//! fully connected logits — with TF-Slim's scope names (`Repeat/block35_1`, `Repeat_1/block17_20`, `Block8`, …).

use super::inception_blocks::{aux_classifier, chain, concat, conv, max_pool, reduce};
use super::logits::predictions_end_point;
use crate::prelude::*;

/// The scopes of the auxiliary classifier's pool, convs and logits.
const AUX_SCOPES: [&str; 4] =
    ["AuxLogits/Conv2d_1a_3x3", "AuxLogits/Conv2d_1b_1x1", "AuxLogits/Conv2d_2a_5x5", "AuxLogits/Logits"];

/// TF-Slim's `inception_resnet_v2` for `[N, 3, 299, 299]` images; build it in scope `InceptionResnetV2` inside
/// [`inception_resnet_v2_arg_scope`] for TF-Slim's names and defaults. End points as TF-Slim's (`Conv2d_1a_3x3` …
/// `Conv2d_7b_1x1`, `PreAuxLogits`, `AuxLogits`, `PreLogitsFlatten`, `Logits`, `Predictions`).
#[crate::model]
#[derive(Clone, Debug)]
pub struct InceptionResnetV2 {
    /// Classes of the logits (1001 for TF-Slim's checkpoints); `None` returns the pooled `[N, 1536, 1, 1]`
    /// features.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability before the logits in training (0.8).
    pub dropout_keep_prob: f64,
    /// Build the auxiliary classifier on `PreAuxLogits` (when there are classes).
    pub create_aux_logits: bool,
}

impl InceptionResnetV2 {
    /// A classifier with TF-Slim's defaults (keep probability 0.8, auxiliary logits).
    pub fn classifier(num_classes: Option<i64>) -> Self {
        InceptionResnetV2 { num_classes, dropout_keep_prob: 0.8, create_aux_logits: true }
    }
}

/// A residual block's end: the branches concatenated, a linear 1×1 conv back to `net`'s channels (with biases:
/// no normalizer), scaled by `scale` and added to `net`, then the ReLU unless `activate` is false.
fn residual(net: &Tensor, branches: &[Tensor], scope: &str, scale: f64, activate: bool) -> Result<Tensor> {
    let mixed = concat(branches)?;
    let up = conv2d(&mixed, net.size()[1], [1, 1])
        .normalizer_fn(None)
        .activation_fn(None)
        .scope(format!("{scope}/Conv2d_1x1"))
        .call()?;
    let sum = net.f_add(&(up * scale))?;
    Ok(if activate { sum.f_relu()? } else { sum })
}

/// `block35`: the 35×35 residual block (320 channels).
fn block35(net: &Tensor, scope: &str) -> Result<Tensor> {
    let branch_0 = chain(net, scope, &[(32, [1, 1], "Branch_0/Conv2d_1x1")])?;
    let branch_1 =
        chain(net, scope, &[(32, [1, 1], "Branch_1/Conv2d_0a_1x1"), (32, [3, 3], "Branch_1/Conv2d_0b_3x3")])?;
    let branch_2 = chain(
        net,
        scope,
        &[
            (32, [1, 1], "Branch_2/Conv2d_0a_1x1"),
            (48, [3, 3], "Branch_2/Conv2d_0b_3x3"),
            (64, [3, 3], "Branch_2/Conv2d_0c_3x3"),
        ],
    )?;
    residual(net, &[branch_0, branch_1, branch_2], scope, 0.17, true)
}

/// `block17`: the 17×17 residual block (1088 channels).
fn block17(net: &Tensor, scope: &str) -> Result<Tensor> {
    let branch_0 = chain(net, scope, &[(192, [1, 1], "Branch_0/Conv2d_1x1")])?;
    let branch_1 = chain(
        net,
        scope,
        &[
            (128, [1, 1], "Branch_1/Conv2d_0a_1x1"),
            (160, [1, 7], "Branch_1/Conv2d_0b_1x7"),
            (192, [7, 1], "Branch_1/Conv2d_0c_7x1"),
        ],
    )?;
    residual(net, &[branch_0, branch_1], scope, 0.10, true)
}

/// `block8`: the 8×8 residual block (2080 channels), scaled by `scale`, with or without its ReLU.
fn block8(net: &Tensor, scope: &str, scale: f64, activate: bool) -> Result<Tensor> {
    let branch_0 = chain(net, scope, &[(192, [1, 1], "Branch_0/Conv2d_1x1")])?;
    let branch_1 = chain(
        net,
        scope,
        &[
            (192, [1, 1], "Branch_1/Conv2d_0a_1x1"),
            (224, [1, 3], "Branch_1/Conv2d_0b_1x3"),
            (256, [3, 1], "Branch_1/Conv2d_0c_3x1"),
        ],
    )?;
    residual(net, &[branch_0, branch_1], scope, scale, activate)
}

/// The stem up to `MaxPool_5a_3x3`, each step an end point.
fn stem(images: &Tensor) -> Result<Tensor> {
    let valid = |x: &Tensor, depth: i64, side: i64, name: &str| -> Result<Tensor> {
        end_point(&conv2d(x, depth, [side, side]).padding(Valid).scope(name).call()?, name)
    };
    let net = end_point(&reduce(images, 32, "Conv2d_1a_3x3".into())?, "Conv2d_1a_3x3")?;
    let net = valid(&net, 32, 3, "Conv2d_2a_3x3")?;
    let net = end_point(&conv(&net, 64, [3, 3], "Conv2d_2b_3x3".into())?, "Conv2d_2b_3x3")?;
    let net = end_point(&max_pool(&net, "MaxPool_3a_3x3".into())?, "MaxPool_3a_3x3")?;
    let net = valid(&net, 80, 1, "Conv2d_3b_1x1")?;
    let net = valid(&net, 192, 3, "Conv2d_4a_3x3")?;
    end_point(&max_pool(&net, "MaxPool_5a_3x3".into())?, "MaxPool_5a_3x3")
}

/// `Mixed_5b` (35×35, 320 channels).
fn mixed_5b(net: &Tensor) -> Result<Tensor> {
    let scope = "Mixed_5b";
    let branch_0 = chain(net, scope, &[(96, [1, 1], "Branch_0/Conv2d_1x1")])?;
    let branch_1 =
        chain(net, scope, &[(48, [1, 1], "Branch_1/Conv2d_0a_1x1"), (64, [5, 5], "Branch_1/Conv2d_0b_5x5")])?;
    let branch_2 = chain(
        net,
        scope,
        &[
            (64, [1, 1], "Branch_2/Conv2d_0a_1x1"),
            (96, [3, 3], "Branch_2/Conv2d_0b_3x3"),
            (96, [3, 3], "Branch_2/Conv2d_0c_3x3"),
        ],
    )?;
    let pooled = avg_pool2d(net, [3, 3]).scope("Mixed_5b/Branch_3/AvgPool_0a_3x3").call()?;
    let branch_3 = conv(&pooled, 64, [1, 1], "Mixed_5b/Branch_3/Conv2d_0b_1x1".into())?;
    concat(&[branch_0, branch_1, branch_2, branch_3])
}

/// `Mixed_6a` (35×35 → 17×17, 1088 channels).
fn mixed_6a(net: &Tensor) -> Result<Tensor> {
    let branch_0 = reduce(net, 384, "Mixed_6a/Branch_0/Conv2d_1a_3x3".into())?;
    let branch_1 =
        chain(net, "Mixed_6a", &[(256, [1, 1], "Branch_1/Conv2d_0a_1x1"), (256, [3, 3], "Branch_1/Conv2d_0b_3x3")])?;
    let branch_1 = reduce(&branch_1, 384, "Mixed_6a/Branch_1/Conv2d_1a_3x3".into())?;
    concat(&[branch_0, branch_1, max_pool(net, "Mixed_6a/Branch_2/MaxPool_1a_3x3".into())?])
}

/// `Mixed_7a` (17×17 → 8×8, 2080 channels).
fn mixed_7a(net: &Tensor) -> Result<Tensor> {
    let scope = "Mixed_7a";
    let branch_0 = reduce(
        &chain(net, scope, &[(256, [1, 1], "Branch_0/Conv2d_0a_1x1")])?,
        384,
        format!("{scope}/Branch_0/Conv2d_1a_3x3"),
    )?;
    let branch_1 = reduce(
        &chain(net, scope, &[(256, [1, 1], "Branch_1/Conv2d_0a_1x1")])?,
        288,
        format!("{scope}/Branch_1/Conv2d_1a_3x3"),
    )?;
    let branch_2 =
        chain(net, scope, &[(256, [1, 1], "Branch_2/Conv2d_0a_1x1"), (288, [3, 3], "Branch_2/Conv2d_0b_3x3")])?;
    let branch_2 = reduce(&branch_2, 320, format!("{scope}/Branch_2/Conv2d_1a_3x3"))?;
    concat(&[branch_0, branch_1, branch_2, max_pool(net, format!("{scope}/Branch_3/MaxPool_1a_3x3"))?])
}

/// TF-Slim's `inception_resnet_v2_base` up to `Conv2d_7b_1x1`; also returns `PreAuxLogits`.
fn base(images: &Tensor) -> Result<(Tensor, Tensor)> {
    let mut net = end_point(&mixed_5b(&stem(images)?)?, "Mixed_5b")?;
    for i in 1..=10 {
        net = block35(&net, &format!("Repeat/block35_{i}"))?;
    }
    net = end_point(&mixed_6a(&net)?, "Mixed_6a")?;
    for i in 1..=20 {
        net = block17(&net, &format!("Repeat_1/block17_{i}"))?;
    }
    let pre_aux_logits = end_point(&net, "PreAuxLogits")?;
    net = end_point(&mixed_7a(&net)?, "Mixed_7a")?;
    for i in 1..=9 {
        net = block8(&net, &format!("Repeat_2/block8_{i}"), 0.20, true)?;
    }
    net = block8(&net, "Block8", 1.0, false)?;
    let net = end_point(&conv(&net, 1536, [1, 1], "Conv2d_7b_1x1".into())?, "Conv2d_7b_1x1")?;
    Ok((net, pre_aux_logits))
}

#[crate::model]
impl InceptionResnetV2 {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        arg_scope!([conv2d, max_pool2d, avg_pool2d], stride = 1, padding = Same => { self.classify(images) })
    }
}

impl InceptionResnetV2 {
    /// The base, the auxiliary classifier, global pooling, dropout and the logits.
    fn classify(&self, images: &Tensor) -> Result<Tensor> {
        let (net, pre_aux_logits) = base(images)?;
        if let (true, Some(num_classes)) = (self.create_aux_logits, self.num_classes) {
            let _aux_logits = end_point(&aux_classifier(&pre_aux_logits, num_classes, AUX_SCOPES)?, "AuxLogits")?;
        }
        let whole = [net.size()[2], net.size()[3]];
        let pooled = avg_pool2d(&net, whole).padding(Valid).scope("Logits/AvgPool_1a_8x8").call()?;
        let Some(num_classes) = self.num_classes else { return Ok(pooled) };
        let flat = flatten(&pooled)?;
        let dropped = dropout(&flat, self.dropout_keep_prob).scope("Logits/Dropout").call()?;
        let dropped = end_point(&dropped, "PreLogitsFlatten")?;
        let logits = fully_connected(&dropped, num_classes).activation_fn(None).scope("Logits/Logits").call()?;
        let logits = end_point(&logits, "Logits")?;
        predictions_end_point(&logits, "Predictions")?;
        Ok(logits)
    }
}

/// TF-Slim's `inception_resnet_v2_arg_scope(weight_decay=4e-5)`: l2 decay on the weights and biases of convs and
/// fully connected layers; convs with ReLU and batch norm (decay 0.9997, epsilon 0.001).
pub fn inception_resnet_v2_arg_scope(weight_decay: f64) -> ArgScope {
    crate::arg_scope!([conv2d, fully_connected],
                      weights_regularizer = l2_regularizer(weight_decay),
                      biases_regularizer = l2_regularizer(weight_decay) => {
        crate::arg_scope!([conv2d], activation_fn = relu, normalizer_fn = Normalizer::batch_norm() => {
            crate::arg_scope!([batch_norm], decay = 0.9997, epsilon = 0.001 => { ArgScope::current() })
        })
    })
}
