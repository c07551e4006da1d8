//! Momentum: `a = m·a + g; w −= lr·a`, or with Nesterov `w −= lr·(g + m·a)`; slot `<var>/Momentum`.

use tch::Tensor;

use super::fused::{apply_fused_sgd, fusable_positions, fused_then_step_by_step};
use super::slots::SlotTable;
use super::{GradientAndVariable, InPlace, Optimizer};
use crate::variables::VarStore;
use crate::{Error, Result};

/// TF's `MomentumOptimizer`.
pub struct Momentum {
    momentum: f64,
    nesterov: bool,
    slots: SlotTable,
}

impl Momentum {
    /// Momentum `momentum` (TF-Slim's scripts use 0.9).
    pub fn new(momentum: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&momentum) {
            return Err(Error::invalid("Momentum", format!("momentum must be in [0, 1), got {momentum}")));
        }
        Ok(Momentum { momentum, nesterov: false, slots: SlotTable::default() })
    }

    /// Uses Nesterov momentum.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// One variable's update in three tensor operations, for what the fused kernel does not cover.
    fn step_by_step(&self, update: &GradientAndVariable, accumulation: &mut Tensor, learning_rate: f64) -> Result<()> {
        let name = update.variable.name();
        // `w += a·(−lr)` as one pass (addcmul with a 0-dim factor), with no temporary the size of `w`.
        let negative_rate = Tensor::from(-learning_rate as f32);
        accumulation.f_mul_scalar_(self.momentum).in_place(name)?;
        accumulation.f_add_(&update.gradient).in_place(name)?;
        let mut variable = update.variable.tensor().shallow_clone();
        match self.nesterov {
            true => {
                let step = &update.gradient + &*accumulation * self.momentum;
                variable.f_addcmul_(&step, &negative_rate).in_place(name)
            }
            false => variable.f_addcmul_(accumulation, &negative_rate).in_place(name),
        }
    }
}

impl Momentum {
    /// One step, fused where the kernel covers the variables; with `check_finite`, refused (`false`, nothing
    /// changed) when a gradient is not finite.
    fn step(
        &mut self,
        store: &VarStore,
        updates: &[GradientAndVariable],
        learning_rate: f64,
        check_finite: bool,
    ) -> Result<bool> {
        let [accumulations] = self.slots.columns(store, updates, "Momentum", &[0.0])?;
        // With momentum 0 the fused kernel would leave the slot alone; TF sets it to the gradient.
        let fused = match self.momentum > 0.0 {
            true => fusable_positions(updates, &[&accumulations]),
            false => Vec::new(),
        };
        let rule = (self.momentum, learning_rate, self.nesterov);
        let apply_fused = |check| apply_fused_sgd("Momentum", &fused, updates, Some(&accumulations), rule, check);
        let step_one = |index: usize| {
            let mut accumulation = accumulations[index].shallow_clone();
            self.step_by_step(&updates[index], &mut accumulation, learning_rate)
        };
        fused_then_step_by_step(updates, &fused, check_finite, apply_fused, step_one)
    }
}

impl Optimizer for Momentum {
    fn name(&self) -> &'static str {
        "Momentum"
    }

    applied_by_step!();
}
