//! Plain gradient descent: `w −= lr·g`.

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
        for update in updates {
            let mut weights = update.variable.tensor().shallow_clone();
            let step = &update.gradient * learning_rate;
            weights.f_sub_(&step).in_place(update.variable.name())?;
        }
        Ok(())
    }
}
