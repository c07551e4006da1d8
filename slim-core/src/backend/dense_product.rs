//! The fully connected product `x·Wᵀ + b`. libtorch sends float32 `linear` to MKL's GEMM, which on AMD CPUs
//! runs its generic code path well below oneDNN's speed; for large products on such CPUs slim computes the same
//! product as a oneDNN 1×1 convolution with the roles swapped (the weight matrix is the image, the inputs are the
//! filters), which copies neither the weights nor, for 2-D inputs, the inputs. Its backward pass is slim's own
//! (C++ in `csrc/dense_product.cpp`): the input gradient as a forward convolution, which oneDNN runs about three
//! times as fast as the weight-gradient convolution ATen's backward would use. Where no gradient is recorded
//! (inference) the same products take oneDNN's matrix product instead, which was faster there.

use std::sync::OnceLock;

use tch::{Device, Kind, Tensor};

use super::{CpuPath, reduced_precision_cast};
use crate::Result;
use crate::error::TorchContext;
use crate::native;

/// Multiply-adds (`rows · in · out`) from which the convolution pays for its fixed cost. On the project's Zen 4
/// cores a training step of 32×784→128 (3.2 M) took 1.16× as long through the convolution, 1×4096→4096 (16.8 M)
/// 0.76×, and 64×3136→1024 (205 M) 0.64×.
const MIN_MULTIPLY_ADDS: i64 = 8 << 20;

/// Whether large float32 CPU products go through oneDNN: as [`Config::onednn_dense`](super::Config::onednn_dense)
/// asks (on AMD CPUs by default, where MKL runs its generic code path), and never without oneDNN (said once when
/// it was asked for explicitly).
pub(crate) fn onednn_dense_enabled() -> bool {
    static HAS_ONEDNN: OnceLock<bool> = OnceLock::new();
    let wanted = CpuPath::OnednnDense.enabled();
    let has_onednn = *HAS_ONEDNN.get_or_init(tch::utils::has_mkldnn);
    if wanted && !has_onednn {
        CpuPath::OnednnDense
            .switch()
            .decline(|| "this libtorch has no oneDNN; fully connected products stay on `linear` (same results)".into());
    }
    wanted && has_onednn
}

/// `x·Wᵀ + b` for `x` of shape `[…, in]` and `weights` `[out, in]`, as `linear` computes it; torch errors name
/// `scope`.
pub(crate) fn dense(scope: &str, x: &Tensor, weights: &Tensor, biases: Option<&Tensor>) -> Result<Tensor> {
    if let Some(cast) = reduced_precision_cast(x.device()) {
        // autocast's reduced-precision `linear`, with the weights' casts kept between inference calls
        let (weights, biases) = (cast(weights).context(scope)?, biases.map(&cast).transpose().context(scope)?);
        return x.f_linear(&weights, biases.as_ref()).context(scope);
    }
    if !takes_convolution_route(x, weights) {
        return x.f_linear(weights, biases).context(scope);
    }
    let shape = x.size();
    let (inputs, outputs) = (weights.size()[1], weights.size()[0]);
    let rows = x.numel() as i64 / inputs;
    let rows_2d = x.f_reshape([rows, inputs]).context(scope)?;
    let product = native::dense_product(&rows_2d, weights).context(scope)?;
    let product = match biases {
        Some(biases) => product.f_add(biases).context(scope)?,
        None => product,
    };
    let mut out_shape = shape;
    if let Some(last) = out_shape.last_mut() {
        *last = outputs;
    }
    product.f_reshape(out_shape.as_slice()).context(scope)
}

/// Whether the product is large enough, the route is on, and it is float32 on the CPU with contiguous 2-D
/// weights (so the image is a view). When the user asked for the route and a large product cannot take it,
/// slim says so once.
fn takes_convolution_route(x: &Tensor, weights: &Tensor) -> bool {
    if x.dim() < 2 || weights.dim() != 2 {
        return false;
    }
    let (outputs, inputs) = (weights.size()[0], weights.size()[1]);
    let large = x.size().last() == Some(&inputs) && x.numel() as i64 * outputs >= MIN_MULTIPLY_ADDS;
    if !large || !onednn_dense_enabled() {
        return false;
    }
    let on_cpu_f32 = |t: &Tensor| t.device() == Device::Cpu && t.kind() == Kind::Float;
    let supported = on_cpu_f32(x) && on_cpu_f32(weights) && weights.is_contiguous();
    if !supported {
        CpuPath::OnednnDense.switch().decline(|| {
            "the oneDNN route covers contiguous float32 CPU weights and inputs only; others stay on `linear` (same \
             results)"
                .into()
        });
    }
    supported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_foreign_products_stay_on_linear() {
        let weights = Tensor::zeros([10, 20], (Kind::Float, Device::Cpu));
        assert!(!takes_convolution_route(&Tensor::zeros([4, 20], (Kind::Float, Device::Cpu)), &weights));
        let big = Tensor::zeros([2048, 2048], (Kind::Double, Device::Cpu));
        assert!(!takes_convolution_route(&Tensor::zeros([64, 2048], (Kind::Double, Device::Cpu)), &big));
        let transposed = Tensor::zeros([2048, 2048], (Kind::Float, Device::Cpu)).tr();
        assert!(!takes_convolution_route(&Tensor::zeros([64, 2048], (Kind::Float, Device::Cpu)), &transposed));
    }
}
