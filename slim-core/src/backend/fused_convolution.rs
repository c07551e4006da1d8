//! A convolution and its ReLU as one oneDNN call (the ReLU a post-op of the convolution), where no gradient is
//! recorded: inference and evaluation. Training keeps libtorch's differentiable convolution.

use tch::{Device, Kind, Tensor};

use super::{CpuPath, autocast_input};
use crate::Result;
use crate::error::TorchContext;
use crate::native::{self, ConvGeometry};

/// Whether `relu(conv2d(x, weights, biases))` can be one oneDNN call now: the path is on
/// ([`Config::fused_convolution`](super::Config::fused_convolution)), libtorch has the operator, the tensors are
/// on the CPU, and no gradient would be recorded through them.
pub(crate) fn applies(x: &Tensor, weights: &Tensor, biases: Option<&Tensor>) -> bool {
    let records_gradient = || {
        native::grad_mode_enabled()
            && (x.requires_grad() || weights.requires_grad() || biases.is_some_and(Tensor::requires_grad))
    };
    CpuPath::FusedConvolution.enabled()
        && x.device() == Device::Cpu
        && native::fused_convolution_available()
        && !records_gradient()
}

/// `relu(conv2d(x, weights, biases))` with `geometry` in one oneDNN call, for float32 tensors (cast to autocast's
/// type first when it is on) — `None` for other types, which take the plain path; torch errors name `scope`.
pub(crate) fn convolve_relu(
    scope: &str,
    x: &Tensor,
    weights: &Tensor,
    biases: Option<&Tensor>,
    geometry: ConvGeometry,
) -> Result<Option<Tensor>> {
    let cast = |t: &Tensor| autocast_input(Device::Cpu, t);
    let (x, weights, biases) = (cast(x), cast(weights), biases.map(cast));
    let kind = x.kind();
    let same_float = matches!(kind, Kind::Float | Kind::BFloat16)
        && weights.kind() == kind
        && biases.as_ref().is_none_or(|b| b.kind() == kind);
    if !same_float {
        return Ok(None);
    }
    native::convolution_relu(&x, &weights, biases.as_ref(), geometry).map(Some).context(scope)
}
