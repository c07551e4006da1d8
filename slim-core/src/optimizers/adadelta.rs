//! Adadelta with TF's kernel. Slots `<var>/Adadelta` (accumulated g²) and `<var>/Adadelta_1` (accumulated
//! updates²).

use super::slots::SlotTable;
use super::{GradientAndVariable, InPlace, Optimizer};
use crate::variables::VarStore;
use crate::{Error, Result};

/// TF's `AdadeltaOptimizer` (defaults ρ 0.95, ε 1e-8; TF's default learning rate is 0.001).
pub struct Adadelta {
    rho: f64,
    epsilon: f64,
    slots: SlotTable,
}

impl Default for Adadelta {
    fn default() -> Self {
        Adadelta { rho: 0.95, epsilon: 1e-8, slots: SlotTable::default() }
    }
}

impl Adadelta {
    /// Adadelta with decay `rho` in [0, 1) and `epsilon`.
    pub fn new(rho: f64, epsilon: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&rho) {
            return Err(Error::invalid("Adadelta", format!("rho must be in [0, 1), got {rho}")));
        }
        Ok(Adadelta { rho, epsilon, slots: SlotTable::default() })
    }
}

impl Optimizer for Adadelta {
    fn name(&self) -> &'static str {
        "Adadelta"
    }

    fn apply(&mut self, store: &VarStore, updates: &[GradientAndVariable], learning_rate: f64) -> Result<()> {
        for (index, update) in updates.iter().enumerate() {
            let name = update.variable.name();
            let gradient = &update.gradient;
            let slots = self.slots.row(store, index, &update.variable, "Adadelta", &[0.0, 0.0])?;
            let (accumulator, rest) = slots.tensors.split_at_mut(1);
            let (accumulator, accumulated_update) = (&mut accumulator[0], &mut rest[0]);
            accumulator.f_mul_scalar_(self.rho).in_place(name)?;
            accumulator.f_add_(&(gradient.square() * (1.0 - self.rho))).in_place(name)?;
            let step = (&*accumulated_update + self.epsilon).sqrt() / (&*accumulator + self.epsilon).sqrt() * gradient;
            accumulated_update.f_mul_scalar_(self.rho).in_place(name)?;
            accumulated_update.f_add_(&(step.square() * (1.0 - self.rho))).in_place(name)?;
            update.variable.tensor().shallow_clone().f_sub_(&(step * learning_rate)).in_place(name)?;
        }
        Ok(())
    }
}
