//! Plain gradient descent: `w −= lr·g`.

use super::fused::{apply_fused_sgd, fusable_positions, fused_then_step_by_step};
use super::{GradientAndVariable, InPlace, Optimizer};
use crate::Result;
use crate::variables::VarStore;

/// TF's `GradientDescentOptimizer`: no slots.
#[derive(Debug, Default)]
pub struct GradientDescent;

impl GradientDescent {
    /// One step, fused where the kernel covers the variables; with `check_finite`, refused (`false`, nothing
    /// changed) when a gradient is not finite.
    fn step(&self, updates: &[GradientAndVariable], learning_rate: f64, check_finite: bool) -> Result<bool> {
        let fused = fusable_positions(updates, &[]);
        let rule = (0.0, learning_rate, false);
        let apply_fused = |check| apply_fused_sgd("GradientDescent", &fused, updates, None, rule, check);
        let step_one = |index: usize| {
            let update = &updates[index];
            let mut weights = update.variable.tensor().shallow_clone();
            let step = &update.gradient * learning_rate;
            weights.f_sub_(&step).in_place(update.variable.name())
        };
        fused_then_step_by_step(updates, &fused, check_finite, apply_fused, step_one)
    }
}

impl Optimizer for GradientDescent {
    fn name(&self) -> &'static str {
        "GradientDescent"
    }

    fn apply(&mut self, _store: &VarStore, updates: &[GradientAndVariable], learning_rate: f64) -> Result<()> {
        self.step(updates, learning_rate, false).map(drop)
    }

    fn apply_if_finite(
        &mut self,
        _store: &VarStore,
        updates: &[GradientAndVariable],
        learning_rate: f64,
    ) -> Result<bool> {
        self.step(updates, learning_rate, true)
    }
}
