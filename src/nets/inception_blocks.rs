//! Building blocks the Inception v4 and Inception-ResNet v2 nets share: convs and pools under explicit scopes,
//! chains of convs, the concatenation of branches, and the auxiliary classifier.

use crate::prelude::*;

/// A conv of `depth` outputs under `scope` with the enclosing arg scope's stride and padding.
pub(super) fn conv(x: &Tensor, depth: i64, kernel: [i64; 2], scope: String) -> Result<Tensor> {
    conv2d(x, depth, kernel).scope(scope).call()
}

/// A 3×3 stride-2 VALID conv (the reductions and the stem).
pub(super) fn reduce(x: &Tensor, depth: i64, scope: String) -> Result<Tensor> {
    conv2d(x, depth, [3, 3]).stride(2).padding(Valid).scope(scope).call()
}

/// A 3×3 stride-2 VALID max pool.
pub(super) fn max_pool(x: &Tensor, scope: String) -> Result<Tensor> {
    max_pool2d(x, [3, 3]).stride(2).padding(Valid).scope(scope).call()
}

/// `x` through `layers` (depth, kernel, name) one after another, each under `scope/name`.
pub(super) fn chain(x: &Tensor, scope: &str, layers: &[(i64, [i64; 2], &str)]) -> Result<Tensor> {
    layers.iter().try_fold(x.shallow_clone(), |net, (depth, kernel, name)| {
        conv(&net, *depth, *kernel, format!("{scope}/{name}"))
    })
}

/// The branches of a block, concatenated along the channels.
pub(super) fn concat(branches: &[Tensor]) -> Result<Tensor> {
    Ok(Tensor::f_cat(branches, 1)?)
}

/// The auxiliary classifier of Inception v4 and Inception-ResNet v2 on `x`: a 5×5 stride-3 VALID average pool, a
/// 1×1 conv of 128, a VALID conv of 768 over the whole map, then fully connected logits; `scopes` names the pool,
/// the two convs and the logits (each net names them its own way).
pub(super) fn aux_classifier(x: &Tensor, num_classes: i64, scopes: [&str; 4]) -> Result<Tensor> {
    let [pool, reduce_depth, whole_map, logits] = scopes;
    let net = avg_pool2d(x, [5, 5]).stride(3).padding(Valid).scope(pool).call()?;
    let net = conv(&net, 128, [1, 1], reduce_depth.into())?;
    let whole = [net.size()[2], net.size()[3]];
    let net = conv2d(&net, 768, whole).padding(Valid).scope(whole_map).call()?;
    fully_connected(&flatten(&net)?, num_classes).activation_fn(None).scope(logits).call()
}
