//! `ExponentialMovingAverage`: TF's shadow copies of variables, updated after each training step and saved in
//! checkpoints as `<var>/ExponentialMovingAverage`, so evaluation can score the averaged weights.

use tch::Tensor;

use crate::checkpoint::VariableMap;
use crate::variables::{VarStore, Variable};
use crate::{Error, Result, TorchContext};

/// The suffix TF gives a variable's shadow.
pub const MOVING_AVERAGE_SUFFIX: &str = "ExponentialMovingAverage";

/// TF's `tf.train.ExponentialMovingAverage(decay, num_updates=global_step)` over a list of variables.
pub struct ExponentialMovingAverage {
    decay: f64,
    averaged: Vec<(Variable, Tensor)>,
}

impl ExponentialMovingAverage {
    /// Shadows for `variables` in `vs` (global, not trainable, starting at each variable's current value;
    /// one restored from a checkpoint is kept). `decay` must lie in [0, 1].
    pub fn new(vs: &VarStore, decay: f64, variables: Vec<Variable>) -> Result<Self> {
        if !(0.0..=1.0).contains(&decay) {
            return Err(Error::invalid("ExponentialMovingAverage", format!("decay must be in [0, 1], got {decay}")));
        }
        let averaged = variables
            .into_iter()
            .map(|variable| {
                let shadow = shadow_of(vs, &variable)?;
                Ok((variable, shadow))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ExponentialMovingAverage { decay, averaged })
    }

    /// The decay used after `num_updates` updates: TF's `min(decay, (1 + n) / (10 + n))`, which lets the
    /// average follow the variables quickly early in training.
    pub fn decay_at(&self, num_updates: i64) -> f64 {
        let n = num_updates.max(0) as f64;
        self.decay.min((1.0 + n) / (10.0 + n))
    }

    /// One update after `num_updates` steps: `shadow ← shadow − (1 − decay)·(shadow − variable)` (one fused lerp).
    pub fn apply(&self, num_updates: i64) -> Result<()> {
        let keep = self.decay_at(num_updates);
        tch::no_grad(|| {
            for (variable, shadow) in &self.averaged {
                let mut shadow = shadow.shallow_clone();
                shadow.f_lerp_(variable.tensor(), 1.0 - keep).context(variable.name()).map(drop)?;
            }
            Ok(())
        })
    }

    /// TF's `variables_to_restore()`: each averaged variable under its shadow's name, for an evaluation that
    /// should score the averages (`evaluation(...).variables_to_restore(ema.variables_to_restore())`).
    pub fn variables_to_restore(&self) -> VariableMap {
        average_names(self.averaged.iter().map(|(variable, _)| variable.clone()).collect())
    }
}

/// `variables` restored from their shadows `<var>/ExponentialMovingAverage`, for evaluating a checkpoint that
/// training wrote with moving averages (no [`ExponentialMovingAverage`] needed).
pub fn average_names(variables: Vec<Variable>) -> VariableMap {
    VariableMap::renamed(variables, |name| format!("{name}/{MOVING_AVERAGE_SUFFIX}"))
}

/// The shadow of `variable`: found in the store, or created as a copy of it.
fn shadow_of(vs: &VarStore, variable: &Variable) -> Result<Tensor> {
    let name = format!("{}/{MOVING_AVERAGE_SUFFIX}", variable.name());
    vs.get_or_insert_global(&name, || Ok(tch::no_grad(|| variable.tensor().detach().copy())))
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;
    use crate::variables::collections::GLOBAL_VARIABLES;

    #[test]
    fn shadows_follow_tf_formula_with_num_updates() -> Result<()> {
        // TF's moving_averages_test: decay 0.25 with num_updates; var0 = [10, 11] moved to [1, 2] after creation.
        let vs = VarStore::new(Device::Cpu);
        let variable = vs.insert(Variable::new(
            "v".into(),
            Tensor::from_slice(&[10.0f32, 11.0]),
            vec![GLOBAL_VARIABLES.to_string()],
        ))?;
        let ema = ExponentialMovingAverage::new(&vs, 0.25, vec![variable.clone()])?;
        tch::no_grad(|| variable.tensor().shallow_clone().copy_(&Tensor::from_slice(&[1.0f32, 2.0])));
        ema.apply(100)?; // min(0.25, 101/110) = 0.25
        let shadow = vs.variable("v/ExponentialMovingAverage").map(|v| Vec::<f32>::try_from(v.tensor()));
        let expected = [10.0 * 0.25 + 1.0 * 0.75, 11.0 * 0.25 + 2.0 * 0.75];
        assert_eq!(shadow.and_then(|s| s.ok()), Some(expected.to_vec()));
        assert_eq!(ema.decay_at(0), 0.1, "(1 + 0) / (10 + 0) caps the decay early on");
        assert!(ExponentialMovingAverage::new(&vs, 1.5, vec![]).is_err());
        let names = format!("{:?}", ema.variables_to_restore());
        assert!(names.contains("\"v/ExponentialMovingAverage\""), "{names}");
        Ok(())
    }
}
