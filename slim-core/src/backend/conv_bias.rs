//! Convolutions with a bias on the CPU: libtorch's forward (oneDNN's convolution with the bias fused in) and a
//! backward pass of slim's own (C++ in `csrc/biased_convolution.cpp`) that sums the output gradient for the
//! bias gradient, where oneDNN's bias-gradient routine is slow for many output pixels over few channels.

use tch::{Device, Tensor};

use crate::Result;
use crate::error::TorchContext;
use crate::native::{self, ConvGeometry};
use crate::switch::Switch;

/// The environment variable that turns the summed bias gradient off (`0`, `false`, `off`) or on (`1`, `true`,
/// `on`).
pub const SUMMED_BIAS_GRADIENT_ENV: &str = "SLIM_SUMMED_BIAS_GRADIENT";

static SWITCH: Switch = Switch::new(SUMMED_BIAS_GRADIENT_ENV);

/// Computes CPU convolution bias gradients as sums (`true`, the default) or leaves them to libtorch (`false`),
/// from the next convolution on. Overrides `SLIM_SUMMED_BIAS_GRADIENT`. Results are the same either way, to
/// float rounding.
pub fn set_summed_bias_gradient(enabled: bool) {
    SWITCH.set(enabled);
}

/// Whether CPU convolution bias gradients are computed as sums: [`set_summed_bias_gradient`] if called, else
/// `SLIM_SUMMED_BIAS_GRADIENT` (read once), else on.
pub fn summed_bias_gradient_enabled() -> bool {
    SWITCH.requested().unwrap_or(true)
}

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
        Some(biases) if x.device() == Device::Cpu && summed_bias_gradient_enabled() => {
            native::biased_convolution(x, weights, biases, geometry).context(scope)
        }
        _ => x.f_conv2d(weights, biases, stride, padding, dilation, groups).context(scope),
    }
}
