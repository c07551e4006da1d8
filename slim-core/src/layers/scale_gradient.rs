//! `scale_gradient`: the identity forward, its gradient scaled backward (TF-Slim's `scale_gradient`).

use tch::Tensor;

use crate::Result;
use crate::error::TorchContext;

/// TF-Slim's `scale_gradient(inputs, gradient_multiplier)`: returns `inputs` unchanged, and the gradient that
/// flows back through it is multiplied by `gradient_multiplier` (0 stops it, −1 reverses it, as domain-adversarial
/// training does).
pub fn scale_gradient(inputs: &Tensor, gradient_multiplier: f64) -> Result<Tensor> {
    if gradient_multiplier == 1.0 {
        return Ok(inputs.shallow_clone());
    }
    // m·x + (1 − m)·x held constant: the value of x, the gradient m.
    let scaled = inputs.f_mul_scalar(gradient_multiplier).context("ScaleGradient")?;
    let rest = inputs.detach().f_mul_scalar(1.0 - gradient_multiplier).context("ScaleGradient")?;
    scaled.f_add(&rest).context("ScaleGradient")
}
