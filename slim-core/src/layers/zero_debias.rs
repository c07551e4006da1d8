//! Zero-debiased moving means (TF's `assign_moving_average(…, zero_debias=True)`, batch norm's
//! `zero_debias_moving_mean`): a biased average started at zero, divided by the weight its steps have given it.

use tch::{Kind, Tensor};

use crate::Result;
use crate::error::TorchContext;
use crate::initializers::Initializer;
use crate::variables::{VariableOptions, current_scope_name, get_or_create};

/// The `moving_mean/biased` and `moving_mean/local_step` variables of one batch norm.
#[derive(Debug)]
pub(crate) struct ZeroDebias {
    biased: Tensor,
    local_step: Tensor,
}

/// Gets or creates the non-trainable model variable `name` (in the current scope) of zeros.
fn debias_variable(name: &str, shape: &[i64]) -> Result<Tensor> {
    let options = VariableOptions {
        kind: Kind::Float,
        initializer: Initializer::Zeros,
        regularizer: None,
        trainable: false,
        collections: Vec::new(),
    };
    Ok(get_or_create(name, shape, &options, true, None)?.tensor().shallow_clone())
}

/// The next values of a zero-debiased average: the biased average, the step count, and the debiased value.
pub(crate) struct Debiased {
    pub(crate) biased: Tensor,
    pub(crate) local_step: Tensor,
    pub(crate) value: Tensor,
}

impl ZeroDebias {
    /// Gets or creates `biased` (`[channels]`) and `local_step` (a scalar) as TF names them: under the layer's
    /// scope repeated (`BatchNorm/BatchNorm/moving_mean/biased`, TF's `_zero_debias` opens a scope of the moving
    /// mean's full name inside the layer's), zeros, not trainable, model variables (TF-Slim's test counts six).
    pub(crate) fn create(channels: i64) -> Result<Self> {
        let prefix = format!("{}/moving_mean", current_scope_name());
        Ok(ZeroDebias {
            biased: debias_variable(&format!("{prefix}/biased"), &[channels])?,
            local_step: debias_variable(&format!("{prefix}/local_step"), &[])?,
        })
    }

    /// The variables' next values after averaging in `batch` with weight `fraction` (1 − decay):
    /// `biased − (biased − batch)·fraction`, `local_step + 1`, and `biased / (1 − (1 − fraction)^local_step)`.
    pub(crate) fn next(&self, batch: &Tensor, fraction: f64, scope: &str) -> Result<Debiased> {
        let step = || -> tch::Result<Debiased> {
            let biased = self.biased.f_sub(&self.biased.f_sub(batch)?.f_mul_scalar(fraction)?)?;
            let local_step = self.local_step.f_add_scalar(1.0)?;
            let steps = local_step.f_double_value(&[])?;
            let value = biased.f_div_scalar(1.0 - (1.0 - fraction).powf(steps))?;
            Ok(Debiased { biased, local_step, value })
        };
        tch::no_grad(step).context(scope)
    }

    /// The `biased` and `local_step` variables, in that order.
    pub(crate) fn variables(&self) -> (&Tensor, &Tensor) {
        (&self.biased, &self.local_step)
    }
}
