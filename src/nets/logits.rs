//! The end of TF-Slim's ImageNet nets: dropout, 1×1-conv logits without activation or normalizer, and the
//! optional spatial squeeze.

use crate::prelude::*;

/// `[N, classes, 1, 1]` logits as `[N, classes]` when `squeeze`, else unchanged. A larger map cannot be
/// squeezed (TF's `squeeze` refuses it too): an error naming `net` that says what to change.
pub(crate) fn squeeze_logits(logits: Tensor, squeeze: bool, net: &str) -> Result<Tensor> {
    match (squeeze, &logits.size()[2..]) {
        (false, _) => Ok(logits),
        (true, [1, 1]) => Ok(logits.f_flatten(1, -1)?),
        (true, spatial) => Err(Error::invalid(
            net,
            format!("spatial_squeeze needs 1×1 logits, got {spatial:?}; use global_pool or spatial_squeeze = false"),
        )),
    }
}

/// Dropout at `keep_prob` in scope `Logits/<dropout>` (end point `PreLogits` when `pre_logits`), then
/// `num_classes` 1×1-conv logits in scope `Logits/<conv>`, squeezed when `squeeze`, with TF-Slim's end points
/// `Logits` and `Predictions`.
pub(crate) fn dropout_and_logits(
    net: &Tensor,
    num_classes: i64,
    keep_prob: f64,
    [dropout_scope, conv_scope]: [&str; 2],
    (squeeze, pre_logits): (bool, bool),
    name: &str,
) -> Result<Tensor> {
    let net = dropout(net, keep_prob).scope(format!("Logits/{dropout_scope}")).call()?;
    if pre_logits {
        let _pre_logits = end_point(&net, "PreLogits")?;
    }
    let logits = conv2d(&net, num_classes, [1, 1])
        .activation_fn(None)
        .normalizer_fn(None)
        .scope(format!("Logits/{conv_scope}"))
        .call()?;
    let logits = end_point(&squeeze_logits(logits, squeeze, name)?, "Logits")?;
    predictions_end_point(&logits, "Predictions")?;
    Ok(logits)
}

/// Records TF-Slim's predictions end point `name` (`Predictions`; resnet's `predictions`): the softmax of
/// `logits` over their classes axis (`[N, classes]`, or `[N, classes, H, W]` unsqueezed).
pub(crate) fn predictions_end_point(logits: &Tensor, name: &str) -> Result<()> {
    end_point(&logits.f_softmax(1, logits.kind())?, name).map(drop)
}

/// TF-Slim's `_reduced_kernel_size_for_small_input`: `side`×`side`, or the map's size when it is smaller.
pub(crate) fn reduced_kernel(net: &Tensor, side: i64) -> [i64; 2] {
    let size = net.size();
    [size[2].min(side), size[3].min(side)]
}
