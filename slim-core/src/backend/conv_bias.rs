//! Convolutions with a bias on the CPU: libtorch's forward (oneDNN's convolution with the bias fused in) and a
//! backward pass of slim's own (C++ in `csrc/biased_convolution.cpp`) that sums the output gradient for the
//! bias gradient, where oneDNN's bias-gradient routine is slow for many output pixels over few channels.

use tch::{Device, Tensor};

use super::CpuPath;
use crate::Result;
use crate::error::TorchContext;
use crate::native::{self, ConvGeometry};

/// `conv2d(x, weights, biases)` with `geometry`; torch errors name `scope`.
pub(crate) fn convolve(
    scope: &str,
    x: &Tensor,
    weights: &Tensor,
    biases: Option<&Tensor>,
    geometry: ConvGeometry,
) -> Result<Tensor> {
    let ConvGeometry { stride, padding, dilation, groups } = geometry;
    match biases {
        Some(biases) if x.device() == Device::Cpu && CpuPath::SummedBiasGradient.enabled() => {
            native::biased_convolution(x, weights, biases, geometry).context(scope)
        }
        _ => x.f_conv2d(weights, biases, stride, padding, dilation, groups).context(scope),
    }
}
