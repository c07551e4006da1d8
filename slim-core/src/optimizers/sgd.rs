//! Plain gradient descent: `w −= lr·g`.

use super::fused::{apply_fused_sgd, fusable_positions, unfused_positions};
use super::{GradientAndVariable, InPlace, Optimizer};
use crate::Result;
use crate::variables::VarStore;

/// TF's `GradientDescentOptimizer`: no slots.
#[derive(Debug, Default)]
pub struct GradientDescent;

impl Optimizer for GradientDescent {
    fn name(&self) -> &'static str {
        "GradientDescent"
    }

    fn apply(&mut self, _store: &VarStore, updates: &[GradientAndVariable], learning_rate: f64) -> Result<()> {
        let fused = fusable_positions(updates, &[]);
        apply_fused_sgd("GradientDescent", &fused, updates, None, (0.0, learning_rate, false))?;
        for update in unfused_positions(&fused, updates.len()).map(|index| &updates[index]) {
            let mut weights = update.variable.tensor().shallow_clone();
            let step = &update.gradient * learning_rate;
            weights.f_sub_(&step).in_place(update.variable.name())?;
        }
        Ok(())
    }
}
