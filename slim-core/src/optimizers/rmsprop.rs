//! RMSProp with TF's kernel: `ms += (g² − ms)(1 − ρ)`, `mom = μ·mom + lr·g/√(ms + ε)`, `w −= mom`; centered
//! subtracts the squared mean gradient. Slots `<var>/RMSProp` (ms, starting at 1 as in TF), then
//! `<var>/RMSProp_1` (mg, centered only) and the momentum slot. Dense float32 and float64 CPU variables are
//! updated by slim's fused kernel (`optimizers::fused`), the others step by step.

use tch::Tensor;

use super::fused::{apply_fused_rmsprop, fusable_positions, fused_then_step_by_step};
use super::slots::SlotTable;
use super::{GradientAndVariable, InPlace, Optimizer};
use crate::native::RmsPropStep;
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

    /// One variable's step-by-step update; `slots` are ms, (mg,) mom.
    fn update_one(&self, update: &GradientAndVariable, slots: &mut [Tensor], learning_rate: f64) -> Result<()> {
        let name = update.variable.name();
        let gradient = &update.gradient;
        let (mean_square, rest) = slots.split_at_mut(1);
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
        let (mean_squares, mean_gradients, momenta) = match self.centered {
            true => {
                let [squares, means, moms] = self.slots.columns(store, updates, "RMSProp", &[1.0, 0.0, 0.0])?;
                (squares, Some(means), moms)
            }
            false => {
                let [squares, moms] = self.slots.columns(store, updates, "RMSProp", &[1.0, 0.0])?;
                (squares, None, moms)
            }
        };
        let mut slot_lists: Vec<&[Tensor]> = vec![&mean_squares, &momenta];
        slot_lists.extend(mean_gradients.as_deref());
        let fused = fusable_positions(updates, &slot_lists);
        let step = RmsPropStep { decay: self.decay, momentum: self.momentum, learning_rate, epsilon: self.epsilon };
        let slots = (mean_squares.as_slice(), mean_gradients.as_deref(), momenta.as_slice());
        let apply_fused = |check| apply_fused_rmsprop(&fused, updates, slots, step, check);
        let step_one = |index: usize| {
            let mut row = vec![mean_squares[index].shallow_clone()];
            row.extend(mean_gradients.as_ref().map(|means| means[index].shallow_clone()));
            row.push(momenta[index].shallow_clone());
            self.update_one(&updates[index], &mut row, learning_rate)
        };
        fused_then_step_by_step(updates, &fused, check_finite, apply_fused, step_one)
    }
}

impl Optimizer for RmsProp {
    fn name(&self) -> &'static str {
        "RMSProp"
    }

    applied_by_step!();
}
