//! Gradient multipliers evaluated at every step: a constant, a schedule over the global step, or a value the
//! program changes between steps (TF-Slim's `multiply_gradients` takes tensors, evaluated at run time).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::optimizers::LearningRate;

/// A number shared between the program and a train op: `set` it between steps (from any thread), the train op
/// reads it at each step (TF's multiplier fed through a placeholder or held in a variable).
#[derive(Clone, Debug)]
pub struct SharedValue(Arc<AtomicU64>);

impl SharedValue {
    /// A shared `value`.
    pub fn new(value: f64) -> Self {
        SharedValue(Arc::new(AtomicU64::new(value.to_bits())))
    }

    /// The value now.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    /// Changes the value for every holder; the next step uses it.
    pub fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }
}

/// What one variable's gradient is multiplied by at a step.
#[derive(Clone, Debug)]
pub enum GradientMultiplier {
    /// The same factor at every step.
    Constant(f64),
    /// A factor following the global step, with any of TF's schedules (piecewise constant, decays, warm-up).
    Schedule(LearningRate),
    /// The value of a [`SharedValue`] when the step runs.
    Shared(SharedValue),
}

impl GradientMultiplier {
    /// The factor at global step `step`.
    pub fn at(&self, step: i64) -> f64 {
        match self {
            GradientMultiplier::Constant(factor) => *factor,
            GradientMultiplier::Schedule(schedule) => schedule.at(step),
            GradientMultiplier::Shared(value) => value.get(),
        }
    }
}

impl From<f64> for GradientMultiplier {
    fn from(factor: f64) -> Self {
        GradientMultiplier::Constant(factor)
    }
}

impl From<LearningRate> for GradientMultiplier {
    fn from(schedule: LearningRate) -> Self {
        GradientMultiplier::Schedule(schedule)
    }
}

impl From<SharedValue> for GradientMultiplier {
    fn from(value: SharedValue) -> Self {
        GradientMultiplier::Shared(value)
    }
}

impl From<&SharedValue> for GradientMultiplier {
    fn from(value: &SharedValue) -> Self {
        GradientMultiplier::Shared(value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_gives_its_factor_at_a_step() {
        assert_eq!(GradientMultiplier::from(2.5).at(7), 2.5);
        let schedule = LearningRate::piecewise_constant(vec![10], vec![1.0, 0.1]).unwrap();
        let multiplier = GradientMultiplier::from(schedule);
        assert_eq!((multiplier.at(10), multiplier.at(11)), (1.0, 0.1));
        let shared = SharedValue::new(3.0);
        let multiplier = GradientMultiplier::from(&shared);
        assert_eq!(multiplier.at(0), 3.0);
        shared.set(-0.5);
        assert_eq!(multiplier.at(0), -0.5);
    }
}
