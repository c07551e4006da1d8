//! Convolutions with a bias on the CPU: libtorch's forward (oneDNN's convolution with the bias fused in) and a
//! backward pass of slim's own (C++ in `csrc/biased_convolution.cpp`) that sums the output gradient for the
//! bias gradient, where oneDNN's bias-gradient routine is slow for many output pixels over few channels. Under
//! autocast its inputs are cast as autocast casts a convolution's.

use tch::{Device, Tensor};

use super::{CpuPath, autocast_inputs};
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
            let cast = autocast_inputs(Device::Cpu);
            let (x, weights, biases) = (cast(x), cast(weights), cast(biases));
            native::biased_convolution(&x.context(scope)?, &weights.context(scope)?, &biases.context(scope)?, geometry)
                .context(scope)
        }
        _ => x.f_conv2d(weights, biases, stride, padding, dilation, groups).context(scope),
    }
}
