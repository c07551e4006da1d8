//! TF-Slim's `nets/resnet_utils.py`: `conv2d_same` (explicit, input-size-independent padding before a strided
//! conv), `subsample`, and `resnet_arg_scope`.

use crate::prelude::*;

/// TF-Slim's `conv2d_same`: a `kernel`×`kernel` conv with `num_outputs` outputs whose padding does not depend
/// on the input size. At stride 1 it is a SAME conv; at a larger stride the input is padded by
/// `(k_eff − 1) / 2` before and the rest after (`k_eff` the kernel size widened by `rate`), then convolved
/// VALID. (TF's own SAME puts the extra pixel after, so the two differ on even sizes.) Takes NCHW inputs.
pub fn conv2d_same(
    inputs: &Tensor,
    num_outputs: i64,
    kernel: i64,
    stride: i64,
    rate: i64,
    scope: &str,
) -> Result<Tensor> {
    if stride == 1 {
        return conv2d(inputs, num_outputs, [kernel, kernel]).rate(rate).padding(Same).scope(scope).call();
    }
    let effective = kernel + (kernel - 1) * (rate - 1);
    let before = (effective - 1) / 2;
    let after = effective - 1 - before;
    let padded = inputs.f_constant_pad_nd([before, after, before, after])?;
    conv2d(&padded, num_outputs, [kernel, kernel]).stride(stride).rate(rate).padding(Valid).scope(scope).call()
}

/// TF-Slim's `subsample`: the input itself at factor 1, else every `factor`-th pixel (a 1×1 max pool).
pub fn subsample(inputs: &Tensor, factor: i64, scope: &str) -> Result<Tensor> {
    match factor {
        1 => Ok(inputs.shallow_clone()),
        _ => max_pool2d(inputs, [1, 1]).stride(factor).scope(scope).call(),
    }
}

/// TF-Slim's `resnet_arg_scope(weight_decay=1e-4, batch_norm_decay=0.997, batch_norm_epsilon=1e-5,
/// batch_norm_scale=True)`: convs with l2 decay, He (variance scaling, fan in, factor 2) initialization, relu
/// and batch norm; SAME max pools. Enter it around `build`.
pub fn resnet_arg_scope(weight_decay: f64) -> ArgScope {
    crate::arg_scope!([conv2d],
                      weights_regularizer = l2_regularizer(weight_decay),
                      weights_initializer = variance_scaling_initializer(2.0, FanMode::FanIn, false),
                      activation_fn = relu,
                      normalizer_fn = Normalizer::batch_norm() => {
        crate::arg_scope!([batch_norm], decay = 0.997, epsilon = 1e-5, scale = true => {
            crate::arg_scope!([max_pool2d], padding = Same => { ArgScope::current() })
        })
    })
}
