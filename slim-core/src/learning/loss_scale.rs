//! Dynamic loss scaling (TF's `DynamicLossScale`, PyTorch's `GradScaler`): float16's gradients below about 6e-8
//! flush to zero, so a float16 step multiplies its loss by a large factor before the backward pass and divides
//! the gradients by it before the update. A step whose gradients overflow is skipped and the factor divided;
//! after enough good steps in a row it is multiplied again.

use tch::{Kind, Tensor};

use crate::variables::collections::GLOBAL_VARIABLES;
use crate::variables::{VarStore, Variable};
use crate::{Error, Result, TorchContext};

/// The name of the variable holding the current factor (TF's).
pub const CURRENT_LOSS_SCALE: &str = "current_loss_scale";
/// The name of the variable counting the finite steps since the factor last changed (TF's).
pub const GOOD_STEPS: &str = "good_steps";

/// How a train op scales its loss ([`TrainOpBuilder::loss_scale`](super::TrainOpBuilder::loss_scale); on by
/// default for [`Precision::F16`](crate::backend::Precision::F16)). TF's `DynamicLossScale` rules: a step whose
/// gradients hold a NaN or an infinity is skipped (the variables, optimizer slots and moving averages stay as
/// they are; the global step still counts it) and the factor is divided by `multiplier`, but not below 1; after
/// `increment_period` finite steps in a row it is multiplied by `multiplier` (unless that overflows).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DynamicLossScale {
    initial_loss_scale: f64,
    increment_period: i64,
    multiplier: f64,
}

impl Default for DynamicLossScale {
    /// TF's defaults: 2¹⁵, doubled after 2,000 good steps, halved after a bad one.
    fn default() -> Self {
        DynamicLossScale { initial_loss_scale: 32768.0, increment_period: 2000, multiplier: 2.0 }
    }
}

impl DynamicLossScale {
    /// A factor starting at `initial_loss_scale` (finite, at least 1), multiplied by `multiplier` (finite, above
    /// 1) after `increment_period` (at least 1) good steps and divided by it after a bad one.
    pub fn new(initial_loss_scale: f64, increment_period: i64, multiplier: f64) -> Result<Self> {
        let bad = |message: String| Err(Error::invalid("loss_scale", message));
        if !(initial_loss_scale >= 1.0 && initial_loss_scale.is_finite()) {
            return bad(format!("the initial loss scale must be finite and at least 1, got {initial_loss_scale}"));
        }
        if increment_period < 1 {
            return bad(format!("the increment period must be at least 1 step, got {increment_period}"));
        }
        if !(multiplier > 1.0 && multiplier.is_finite()) {
            return bad(format!("the multiplier must be finite and above 1, got {multiplier}"));
        }
        Ok(DynamicLossScale { initial_loss_scale, increment_period, multiplier })
    }
}

/// A train op's loss scale and its state, kept as global variables (`current_loss_scale`, float32, and
/// `good_steps`, int64, as TF names them), so checkpoints carry them and data-parallel ranks start from rank 0's.
pub(super) struct LossScaler {
    config: DynamicLossScale,
    scale: Variable,
    good_steps: Variable,
}

impl LossScaler {
    /// The scaler over `store`'s loss-scale variables, created (at `config`'s initial factor) when missing.
    pub(super) fn new(store: &VarStore, config: DynamicLossScale) -> Result<Self> {
        let device = store.device();
        let scale = get_or_create(store, CURRENT_LOSS_SCALE, || {
            Tensor::from(config.initial_loss_scale as f32).to_device(device)
        })?;
        let good_steps = get_or_create(store, GOOD_STEPS, || Tensor::from(0i64).to_device(device))?;
        Ok(LossScaler { config, scale, good_steps })
    }

    /// The factor now.
    pub(super) fn current(&self) -> f64 {
        self.scale.tensor().double_value(&[])
    }

    /// `loss` times the factor, for the backward pass.
    pub(super) fn scale(&self, loss: &Tensor) -> Result<Tensor> {
        loss.f_mul_scalar(self.current()).context(CURRENT_LOSS_SCALE)
    }

    /// Divides each defined gradient by `factor` (the [`LossScaler::current`] the loss was scaled by), in place
    /// (the gradients are the step's own).
    pub(super) fn unscale(&self, gradients: &[Tensor], factor: f64) -> Result<()> {
        let inverse = 1.0 / factor;
        tch::no_grad(|| {
            for gradient in gradients.iter().filter(|g| g.defined()) {
                gradient.shallow_clone().f_mul_scalar_(inverse).context(CURRENT_LOSS_SCALE).map(drop)?;
            }
            Ok(())
        })
    }

    /// After a step scaled by `before` (the factor now) whose gradients were `finite` (applied) or not
    /// (skipped): TF's update of the factor and the count of good steps. Returns the factor after.
    pub(super) fn update(&self, before: f64, finite: bool) -> Result<f64> {
        let good_steps = self.good_steps.tensor().int64_value(&[]);
        let (after, good_steps) = match finite {
            false => ((before / self.config.multiplier).max(1.0), 0),
            true if good_steps + 1 >= self.config.increment_period => {
                let grown = before * self.config.multiplier;
                (if (grown as f32).is_finite() { grown } else { before }, 0)
            }
            true => (before, good_steps + 1),
        };
        tch::no_grad(|| -> Result<()> {
            self.scale.tensor().shallow_clone().f_fill_(after).context(CURRENT_LOSS_SCALE).map(drop)?;
            self.good_steps.tensor().shallow_clone().f_fill_(good_steps).context(GOOD_STEPS).map(drop)?;
            Ok(())
        })?;
        Ok(after)
    }
}

/// The store's variable `name`, or a new scalar global variable with `initial()`; an existing one that is not a
/// scalar of the initial value's type is an error naming it.
fn get_or_create(store: &VarStore, name: &str, initial: impl FnOnce() -> Tensor) -> Result<Variable> {
    let value = initial();
    if let Some(existing) = store.variable(name) {
        let tensor = existing.tensor();
        if tensor.dim() != 0 || tensor.kind() != value.kind() {
            let expected: Kind = value.kind();
            let message = format!(
                "must be a {expected:?} scalar for the loss scale, got {:?} of shape {:?}",
                tensor.kind(),
                tensor.size()
            );
            return Err(Error::invalid(name, message));
        }
        return Ok(existing);
    }
    store.insert(Variable::new(name.to_string(), value, vec![GLOBAL_VARIABLES.to_string()]))
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;

    /// One update after a step whose gradients were `finite`: the factor before and after.
    fn step(scaler: &LossScaler, finite: bool) -> Result<(f64, f64)> {
        let before = scaler.current();
        Ok((before, scaler.update(before, finite)?))
    }

    fn scaler(initial: f64, period: i64) -> (VarStore, LossScaler) {
        let store = VarStore::new(Device::Cpu);
        let scaler = LossScaler::new(&store, DynamicLossScale::new(initial, period, 2.0).unwrap()).unwrap();
        (store, scaler)
    }

    #[test]
    fn bad_steps_halve_the_factor_down_to_one_and_good_runs_double_it() {
        let (_store, scaler) = scaler(4.0, 3);
        assert_eq!(step(&scaler, false).unwrap(), (4.0, 2.0));
        assert_eq!(step(&scaler, false).unwrap(), (2.0, 1.0));
        assert_eq!(step(&scaler, false).unwrap(), (1.0, 1.0), "never below 1");
        assert_eq!(step(&scaler, true).unwrap(), (1.0, 1.0));
        assert_eq!(step(&scaler, true).unwrap(), (1.0, 1.0));
        assert_eq!(step(&scaler, true).unwrap(), (1.0, 2.0), "the third good step in a row doubles it");
        assert_eq!(scaler.good_steps.tensor().int64_value(&[]), 0);
        assert_eq!(step(&scaler, true).unwrap(), (2.0, 2.0));
        assert_eq!(step(&scaler, false).unwrap(), (2.0, 1.0), "a bad step resets the count");
        assert_eq!(scaler.good_steps.tensor().int64_value(&[]), 0);
    }

    #[test]
    fn a_factor_that_would_overflow_float32_stays() {
        let (_store, scaler) = scaler(2f64.powi(127), 1);
        assert_eq!(step(&scaler, true).unwrap(), (2f64.powi(127), 2f64.powi(127)));
    }

    #[test]
    fn the_state_lives_in_tf_named_global_variables_and_is_reused() {
        let (store, scaler) = scaler(8.0, 10);
        step(&scaler, false).unwrap();
        let names: Vec<String> = store.collection(GLOBAL_VARIABLES).iter().map(|v| v.name().to_string()).collect();
        assert_eq!(names, [CURRENT_LOSS_SCALE, GOOD_STEPS]);
        let again = LossScaler::new(&store, DynamicLossScale::default()).unwrap();
        assert_eq!(again.current(), 4.0, "an existing (restored) factor wins over the initial one");
    }

    #[test]
    fn bad_settings_and_a_clashing_variable_are_refused_by_name() {
        assert!(DynamicLossScale::new(0.5, 10, 2.0).unwrap_err().to_string().contains("at least 1, got 0.5"));
        assert!(DynamicLossScale::new(8.0, 0, 2.0).unwrap_err().to_string().contains("at least 1 step"));
        assert!(DynamicLossScale::new(8.0, 10, 1.0).unwrap_err().to_string().contains("above 1, got 1"));
        let store = VarStore::new(Device::Cpu);
        let clash = Tensor::zeros([2], (Kind::Float, Device::Cpu));
        store.insert(Variable::new(CURRENT_LOSS_SCALE.into(), clash, vec![GLOBAL_VARIABLES.into()])).unwrap();
        let refused = LossScaler::new(&store, DynamicLossScale::default()).err().unwrap().to_string();
        assert!(refused.contains("current_loss_scale") && refused.contains("shape [2]"), "{refused}");
    }
}
