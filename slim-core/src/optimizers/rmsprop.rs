//! RMSProp with TF's kernel: `ms += (g² − ms)(1 − ρ)`, `mom = μ·mom + lr·g/√(ms + ε)`, `w −= mom`; centered
//! subtracts the squared mean gradient. Slots `<var>/RMSProp` (ms, starting at 1 as in TF), then
//! `<var>/RMSProp_1` (mg, centered only) and the momentum slot.

use super::slots::SlotTable;
use super::{GradientAndVariable, InPlace, Optimizer};
use crate::variables::VarStore;
use crate::{Error, Result};

/// TF's `RMSPropOptimizer` (defaults decay 0.9, momentum 0, ε 1e-10, not centered).
pub struct RmsProp {
    decay: f64,
    momentum: f64,
    epsilon: f64,
    centered: bool,
    slots: SlotTable,
}

impl Default for RmsProp {
    fn default() -> Self {
        RmsProp { decay: 0.9, momentum: 0.0, epsilon: 1e-10, centered: false, slots: SlotTable::default() }
    }
}

impl RmsProp {
    /// Decay ρ of the mean square and momentum μ, each in [0, 1).
    pub fn new(decay: f64, momentum: f64) -> Result<Self> {
        for (name, value) in [("decay", decay), ("momentum", momentum)] {
            if !(0.0..1.0).contains(&value) {
                return Err(Error::invalid("RMSProp", format!("{name} must be in [0, 1), got {value}")));
            }
        }
        Ok(RmsProp { decay, momentum, ..RmsProp::default() })
    }

    /// Sets ε.
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Normalizes by the variance rather than the second moment.
    pub fn centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }
}

impl Optimizer for RmsProp {
    fn name(&self) -> &'static str {
        "RMSProp"
    }

    fn apply(&mut self, store: &VarStore, updates: &[GradientAndVariable], learning_rate: f64) -> Result<()> {
        let initial: &[f64] = if self.centered { &[1.0, 0.0, 0.0] } else { &[1.0, 0.0] };
        for (index, update) in updates.iter().enumerate() {
            let name = update.variable.name();
            let gradient = &update.gradient;
            let slots = self.slots.row(store, index, &update.variable, "RMSProp", initial)?;
            let (mean_square, rest) = slots.tensors.split_at_mut(1);
            let mean_square = &mut mean_square[0];
            // In place where ATen allows: ms += (1 − ρ)(g² − ms); mom = μ·mom + lr·g / √(ms [− mg²] + ε); w −= mom.
            mean_square.f_lerp_(&gradient.square(), 1.0 - self.decay).in_place(name)?;
            let (mut denominator, momentum) = match rest {
                [mean_gradient, momentum] => {
                    mean_gradient.f_lerp_(gradient, 1.0 - self.decay).in_place(name)?;
                    (&*mean_square - mean_gradient.square() + self.epsilon, momentum)
                }
                [momentum] => (&*mean_square + self.epsilon, momentum),
                _ => return Err(Error::invalid(name, "RMSProp slots are missing")),
            };
            denominator.f_sqrt_().in_place(name)?;
            momentum.f_mul_scalar_(self.momentum).in_place(name)?;
            momentum.f_addcdiv_(&(gradient * learning_rate), &denominator).in_place(name)?;
            update.variable.tensor().shallow_clone().f_sub_(momentum).in_place(name)?;
        }
        Ok(())
    }
}
