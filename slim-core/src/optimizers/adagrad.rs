//! Adagrad with TF's kernel: `acc += g²; w −= lr·g/√acc`, the accumulator starting at 0.1. Slot `<var>/Adagrad`.

use super::slots::SlotTable;
use super::{GradientAndVariable, InPlace, Optimizer};
use crate::variables::VarStore;
use crate::{Error, Result};

/// TF's `AdagradOptimizer` (initial accumulator value 0.1).
pub struct Adagrad {
    initial_accumulator_value: f64,
    slots: SlotTable,
}

impl Default for Adagrad {
    fn default() -> Self {
        Adagrad { initial_accumulator_value: 0.1, slots: SlotTable::default() }
    }
}

impl Adagrad {
    /// Adagrad whose accumulators start at `initial_accumulator_value` (positive).
    pub fn new(initial_accumulator_value: f64) -> Result<Self> {
        if initial_accumulator_value <= 0.0 {
            return Err(Error::invalid(
                "Adagrad",
                format!("initial_accumulator_value must be positive, got {initial_accumulator_value}"),
            ));
        }
        Ok(Adagrad { initial_accumulator_value, slots: SlotTable::default() })
    }
}

impl Optimizer for Adagrad {
    fn name(&self) -> &'static str {
        "Adagrad"
    }

    fn apply(&mut self, store: &VarStore, updates: &[GradientAndVariable], learning_rate: f64) -> Result<()> {
        for (index, update) in updates.iter().enumerate() {
            let name = update.variable.name();
            let initial = [self.initial_accumulator_value];
            let accumulator = &mut self.slots.row(store, index, &update.variable, "Adagrad", &initial)?.tensors[0];
            accumulator.f_add_(&update.gradient.square()).in_place(name)?;
            let step = &update.gradient * learning_rate / accumulator.sqrt();
            update.variable.tensor().shallow_clone().f_sub_(&step).in_place(name)?;
        }
        Ok(())
    }
}
