//! A convolution with what follows it in one call, where no gradient is recorded (inference and evaluation): an
//! eval-mode batch norm folded into its weights and biases, and its ReLU as a post-op of oneDNN's convolution.
//! Training keeps libtorch's differentiable convolution and the layers after it.

use tch::{Device, Kind, Tensor};

use super::{CpuPath, autocast_inputs};
use crate::Result;
use crate::error::TorchContext;
use crate::native::{self, ConvGeometry};

/// What a convolution applies to its output within its own call: a per-channel affine map `y·scale + shift`
/// folded into its weights and biases (an eval-mode batch norm), then, when `relu`, a ReLU as oneDNN's post-op.
pub(crate) struct Epilogue {
    /// `(scale, shift)`, one value per output channel.
    pub(crate) affine: Option<(Tensor, Tensor)>,
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

/// The weights and biases of `conv(x)·scale + shift`: each output channel's filter times its scale, and
/// `shift + biases·scale`.
pub(crate) fn folded(
    weights: &Tensor,
    biases: Option<&Tensor>,
    scale: &Tensor,
    shift: &Tensor,
) -> tch::Result<(Tensor, Tensor)> {
    let per_filter = scale.f_view([-1, 1, 1, 1])?;
    let weights = weights.f_mul(&per_filter)?;
    let biases = match biases {
        Some(biases) => shift.f_add(&biases.f_mul(scale)?)?,
        None => shift.shallow_clone(),
    };
    Ok((weights, biases))
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
