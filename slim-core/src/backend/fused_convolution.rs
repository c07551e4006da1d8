//! A convolution with what follows it in one call, where no gradient is recorded (inference and evaluation): an
//! eval-mode batch norm folded into its weights and biases, and its ReLU as a post-op of oneDNN's convolution.
//! Training keeps libtorch's differentiable convolution and the layers after it.

use tch::{Device, Kind, Tensor};

use super::{CpuPath, autocast_inputs};
use crate::Result;
use crate::error::TorchContext;
pub(crate) use crate::native::BatchNormFold;
use crate::native::{self, ConvGeometry, autocast_type};

/// What a convolution applies to its output within its own call: an eval-mode batch norm folded into its weights
/// and biases, then, when `relu`, a ReLU as oneDNN's post-op.
pub(crate) struct Epilogue {
    /// The batch norm to fold.
    pub(crate) norm: Option<BatchNormFold>,
    /// Whether a ReLU follows.
    pub(crate) relu: bool,
}

/// Whether a convolution of `x` may take its epilogue into its own call now: the path is on
/// ([`Config::fused_convolution`](super::Config::fused_convolution)), libtorch has the fused operator, `x` is on
/// the CPU, and no gradient is recorded (`tch::no_grad`: evaluation and inference).
pub(crate) fn applies(x: &Tensor) -> bool {
    CpuPath::FusedConvolution.enabled()
        && x.device() == Device::Cpu
        && native::fused_convolution_available()
        && !native::grad_mode_enabled()
}

/// `weights` and `biases` with `norm` folded in (`w·γ/√(σ²+ε)`, `β + (b − μ)·γ/√(σ²+ε)`), in autocast's type
/// when it is on. Where no gradient is recorded (always, on this path) the result is kept until one of the
/// variables changes ([`Config::kept_weights`](super::Config::kept_weights)): the fold is a pass over the weights
/// per call otherwise (ResNet-50: 25 M).
pub(crate) fn folded(weights: &Tensor, biases: Option<&Tensor>, norm: &BatchNormFold) -> tch::Result<(Tensor, Tensor)> {
    native::kept_fold(weights, biases, norm, autocast_type(weights.device()), CpuPath::KeptWeights.enabled())
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
    let cast = autocast_inputs(Device::Cpu);
    let (x, weights) = (cast(x).context(scope)?, cast(weights).context(scope)?);
    let biases = biases.map(&cast).transpose().context(scope)?;
    let kind = x.kind();
    let same_float = matches!(kind, Kind::Float | Kind::BFloat16)
        && weights.kind() == kind
        && biases.as_ref().is_none_or(|b| b.kind() == kind);
    if !same_float {
        return Ok(None);
    }
    native::convolution_relu(&x, &weights, biases.as_ref(), geometry).map(Some).context(scope)
}
