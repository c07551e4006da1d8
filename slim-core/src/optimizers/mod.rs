//! Optimizers with TF's update rules and TF's slot names (`<var>/Momentum`, `<var>/Adam`, `<var>/Adam_1`, …): the
//! slots are global, non-trainable variables of the store, so checkpoints save and restore them. Learning rates
//! come from a [`LearningRate`] schedule driven by the global step.

/// [`Optimizer::apply`] and [`Optimizer::apply_if_finite`] for a rule whose own `step(store, updates,
/// learning_rate, check_finite)` answers whether it applied, checking the gradients itself (inside its fused
/// kernel, each thread reading the chunk it then updates).
macro_rules! applied_by_step {
    () => {
        fn apply(&mut self, store: &VarStore, updates: &[GradientAndVariable], learning_rate: f64) -> Result<()> {
            self.step(store, updates, learning_rate, false).map(drop)
        }

        fn apply_if_finite(
            &mut self,
            store: &VarStore,
            updates: &[GradientAndVariable],
            learning_rate: f64,
        ) -> Result<bool> {
            self.step(store, updates, learning_rate, true)
        }
    };
}

mod adadelta;
mod adagrad;
mod adam;
mod fused;
mod momentum;
mod rmsprop;
mod schedule;
mod sgd;
mod slots;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use momentum::Momentum;
pub use rmsprop::RmsProp;
pub use schedule::LearningRate;
pub use sgd::GradientDescent;

use tch::Tensor;

use crate::error::TorchContext;
use crate::variables::{VarStore, Variable};
use crate::{Result, native};

/// Finishes an in-place update: its returned tensor is the updated one, so only the error matters.
pub(crate) trait InPlace {
    /// The error, with the variable's name as context.
    fn in_place(self, name: &str) -> Result<()>;
}

impl InPlace for std::result::Result<Tensor, tch::TchError> {
    fn in_place(self, name: &str) -> Result<()> {
        self.context(name).map(drop)
    }
}

/// One variable to update and its gradient.
pub struct GradientAndVariable {
    /// The gradient (already multiplied and clipped by the train op).
    pub gradient: Tensor,
    /// The variable it updates.
    pub variable: Variable,
}

/// An update rule. `apply` runs without recording gradients and updates the variables in place.
pub trait Optimizer: Send {
    /// TF's name for it, which names its slots (`Momentum`, `Adam`).
    fn name(&self) -> &'static str;

    /// Applies one step at `learning_rate`, creating in `store` the slots a variable needs the first time it
    /// is seen (or finding them there, restored from a checkpoint).
    fn apply(&mut self, store: &VarStore, updates: &[GradientAndVariable], learning_rate: f64) -> Result<()>;

    /// Applies one step only if every gradient of `updates` is finite, and says whether it did: when one holds a
    /// NaN or an infinity, no variable changes and the answer is `false`. The train op's `check_numerics` runs
    /// its steps through this. The default scans all gradients once, then applies; momentum, gradient descent,
    /// Adam, AdamW, RMSProp and Adadelta scan inside their fused update, each thread reading the chunk it then
    /// updates.
    fn apply_if_finite(
        &mut self,
        store: &VarStore,
        updates: &[GradientAndVariable],
        learning_rate: f64,
    ) -> Result<bool> {
        if !gradients_are_finite(updates.iter())? {
            return Ok(false);
        }
        self.apply(store, updates, learning_rate).map(|()| true)
    }
}

impl Optimizer for Box<dyn Optimizer> {
    fn name(&self) -> &'static str {
        self.as_ref().name()
    }

    fn apply(&mut self, store: &VarStore, updates: &[GradientAndVariable], learning_rate: f64) -> Result<()> {
        self.as_mut().apply(store, updates, learning_rate)
    }

    fn apply_if_finite(
        &mut self,
        store: &VarStore,
        updates: &[GradientAndVariable],
        learning_rate: f64,
    ) -> Result<bool> {
        self.as_mut().apply_if_finite(store, updates, learning_rate)
    }
}

/// Whether the gradients of `updates` hold only finite values, scanned in one call (`native::all_finite`).
pub(crate) fn gradients_are_finite<'a>(updates: impl Iterator<Item = &'a GradientAndVariable>) -> Result<bool> {
    let gradients: Vec<&Tensor> = updates.map(|update| &update.gradient).collect();
    if gradients.is_empty() {
        return Ok(true);
    }
    native::all_finite(&gradients).context("gradient check")
}
