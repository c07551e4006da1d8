//! Plain gradient descent: `w −= lr·g`.

use super::fused::{apply_fused_sgd, fusable_positions, unfused_positions};
use super::{GradientAndVariable, InPlace, Optimizer, gradients_are_finite};
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
        let unfused: Vec<usize> = unfused_positions(&fused, updates.len()).collect();
        if check_finite && !gradients_are_finite(unfused.iter().map(|&index| &updates[index]))? {
            return Ok(false);
        }
        if !apply_fused_sgd("GradientDescent", &fused, updates, None, (0.0, learning_rate, false), check_finite)? {
            return Ok(false);
        }
        for update in unfused.into_iter().map(|index| &updates[index]) {
            let mut weights = update.variable.tensor().shallow_clone();
            let step = &update.gradient * learning_rate;
            weights.f_sub_(&step).in_place(update.variable.name())?;
        }
        Ok(true)
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
