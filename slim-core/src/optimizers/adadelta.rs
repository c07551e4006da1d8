//! Adadelta with TF's kernel. Slots `<var>/Adadelta` (accumulated g²) and `<var>/Adadelta_1` (accumulated
//! updates²). Dense float32 and float64 CPU variables are updated by slim's fused kernel (`optimizers::fused`),
//! the others step by step.

use tch::Tensor;

use super::fused::{apply_fused_adadelta, fusable_positions, fused_then_step_by_step};
use super::slots::SlotTable;
use super::{GradientAndVariable, InPlace, Optimizer};
use crate::native::AdadeltaStep;
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

    /// One variable's step-by-step update; `slots` are the accumulated g² and the accumulated updates².
    fn update_one(&self, update: &GradientAndVariable, slots: &mut [Tensor], learning_rate: f64) -> Result<()> {
        let name = update.variable.name();
        let gradient = &update.gradient;
        let [accumulator, accumulated_update] = slots else {
            return Err(Error::invalid(name, "Adadelta slots are missing"));
        };
        accumulator.f_mul_scalar_(self.rho).in_place(name)?;
        accumulator.f_add_(&(gradient.square() * (1.0 - self.rho))).in_place(name)?;
        let step = (&*accumulated_update + self.epsilon).sqrt() / (&*accumulator + self.epsilon).sqrt() * gradient;
        accumulated_update.f_mul_scalar_(self.rho).in_place(name)?;
        accumulated_update.f_add_(&(step.square() * (1.0 - self.rho))).in_place(name)?;
        update.variable.tensor().shallow_clone().f_sub_(&(step * learning_rate)).in_place(name)?;
        Ok(())
    }

    /// One step, fused where the kernel covers the variables; with `check_finite`, refused (`false`, nothing
    /// changed) when a gradient is not finite.
    fn step(
        &mut self,
        store: &VarStore,
        updates: &[GradientAndVariable],
        learning_rate: f64,
        check_finite: bool,
    ) -> Result<bool> {
        let [accumulators, accumulated] = self.slots.columns(store, updates, "Adadelta", &[0.0, 0.0])?;
        let fused = fusable_positions(updates, &[&accumulators, &accumulated]);
        let step = AdadeltaStep { rho: self.rho, learning_rate, epsilon: self.epsilon };
        let slots = (accumulators.as_slice(), accumulated.as_slice());
        let apply_fused = |check| apply_fused_adadelta(&fused, updates, slots, step, check);
        let step_one = |index: usize| {
            let mut pair = [accumulators[index].shallow_clone(), accumulated[index].shallow_clone()];
            self.update_one(&updates[index], &mut pair, learning_rate)
        };
        fused_then_step_by_step(updates, &fused, check_finite, apply_fused, step_one)
    }
}

impl Optimizer for Adadelta {
    fn name(&self) -> &'static str {
        "Adadelta"
    }

    applied_by_step!();
}
