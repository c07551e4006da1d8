//! Adam (TF's kernel: bias correction folded into the step size) and AdamW (TF's decoupled weight decay:
//! `w −= wd·w` before the Adam step). Slots `<var>/Adam` (m) and `<var>/Adam_1` (v); the non-slot variables
//! `beta1_power` and `beta2_power` carry the step count, so a restored run continues exactly.

use tch::Tensor;

use super::fused::{apply_fused_adam, fusable_positions, fused_then_step_by_step};
use super::slots::{SlotTable, get_or_create_global};
use super::{GradientAndVariable, InPlace, Optimizer};
use crate::native::AdamStep;
use crate::variables::VarStore;
use crate::{Error, Result};

/// TF's `AdamOptimizer` (defaults β1 0.9, β2 0.999, ε 1e-8).
pub struct Adam {
    config: AdamConfig,
    name: &'static str,
    slots: SlotTable,
}

/// Adam's hyper-parameters.
struct AdamConfig {
    beta1: f64,
    beta2: f64,
    epsilon: f64,
    weight_decay: f64,
}

impl Default for Adam {
    fn default() -> Self {
        let config = AdamConfig { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weight_decay: 0.0 };
        Adam { config, name: "Adam", slots: SlotTable::default() }
    }
}

impl Adam {
    /// Sets β1 and β2, each in [0, 1).
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Result<Self> {
        for (name, beta) in [("beta1", beta1), ("beta2", beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(Error::invalid(self.name, format!("{name} must be in [0, 1), got {beta}")));
            }
        }
        (self.config.beta1, self.config.beta2) = (beta1, beta2);
        Ok(self)
    }

    /// Sets ε (TF's "epsilon hat", added to √v).
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.config.epsilon = epsilon;
        self
    }
}

impl AdamConfig {
    /// Whether the fused kernel can take this step: it follows the branch of ATen's lerp for weights below one
    /// half (β1, β2 above one half, as TF-Slim's are) and always moves the variables (`alpha` not 0).
    fn fusable(&self, alpha: f64) -> bool {
        self.beta1 > 0.5 && self.beta2 > 0.5 && alpha != 0.0
    }

    /// One variable's step with bias-corrected step size `alpha`; `slots` are m and v.
    fn update_one(&self, update: &GradientAndVariable, slots: &mut [Tensor], alpha: f64) -> Result<()> {
        let name = update.variable.name();
        let mut weights = update.variable.tensor().shallow_clone();
        if self.weight_decay != 0.0 {
            let decay = &weights * self.weight_decay;
            weights.f_sub_(&decay).in_place(name)?;
        }
        let gradient = &update.gradient;
        let (first, second) = slots.split_at_mut(1);
        let (m, v) = (&mut first[0], &mut second[0]);
        // In place, fused where ATen allows: m += (1 − β1)(g − m); v += (1 − β2)(g² − v); w −= α·m / (√v + ε).
        m.f_lerp_(gradient, 1.0 - self.beta1).in_place(name)?;
        v.f_lerp_(&gradient.square(), 1.0 - self.beta2).in_place(name)?;
        if alpha == 0.0 {
            return Ok(());
        }
        let mut scaled_denominator = v.sqrt();
        scaled_denominator.f_add_scalar_(self.epsilon).in_place(name)?;
        scaled_denominator.f_mul_scalar_(-1.0 / alpha).in_place(name)?;
        weights.f_addcdiv_(m, &scaled_denominator).in_place(name)?;
        Ok(())
    }
}

impl Adam {
    /// One step, fused where the kernel covers the variables; with `check_finite`, refused (`false`, nothing
    /// changed, the β powers included) when a gradient is not finite.
    fn step(
        &mut self,
        store: &VarStore,
        updates: &[GradientAndVariable],
        learning_rate: f64,
        check_finite: bool,
    ) -> Result<bool> {
        let AdamConfig { beta1, beta2, .. } = self.config;
        let mut beta1_power = get_or_create_global(store, "beta1_power", &[], beta1)?;
        let mut beta2_power = get_or_create_global(store, "beta2_power", &[], beta2)?;
        let (b1, b2) = (beta1_power.double_value(&[]), beta2_power.double_value(&[]));
        let alpha = learning_rate * (1.0 - b2).sqrt() / (1.0 - b1);
        let [firsts, seconds] = self.slots.columns(store, updates, self.name, &[0.0, 0.0])?;
        let fused = match self.config.fusable(alpha) {
            true => fusable_positions(updates, &[&firsts, &seconds]),
            false => Vec::new(),
        };
        let AdamConfig { epsilon, weight_decay, .. } = self.config;
        let step = AdamStep { beta1, beta2, alpha, epsilon, weight_decay };
        let slots = (firsts.as_slice(), seconds.as_slice());
        let apply_fused = |check| apply_fused_adam(self.name, &fused, updates, slots, step, check);
        let step_one = |index: usize| {
            let mut pair = [firsts[index].shallow_clone(), seconds[index].shallow_clone()];
            self.config.update_one(&updates[index], &mut pair, alpha)
        };
        if !fused_then_step_by_step(updates, &fused, check_finite, apply_fused, step_one)? {
            return Ok(false);
        }
        beta1_power.f_mul_scalar_(beta1).in_place("beta1_power")?;
        beta2_power.f_mul_scalar_(beta2).in_place("beta2_power")?;
        Ok(true)
    }
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        self.name
    }

    applied_by_step!();
}

/// TF's `AdamWOptimizer`: Adam with decoupled weight decay `w −= weight_decay·w` before each step (the decay is
/// not scaled by the learning rate, as in TF; schedule it yourself if you want it to follow one).
pub struct AdamW(Adam);

impl AdamW {
    /// AdamW with this weight decay and Adam's defaults.
    pub fn new(weight_decay: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&weight_decay) {
            return Err(Error::invalid("AdamW", format!("weight_decay must be in [0, 1), got {weight_decay}")));
        }
        let mut adam = Adam { name: "AdamW", ..Adam::default() };
        adam.config.weight_decay = weight_decay;
        Ok(AdamW(adam))
    }

    /// The underlying Adam settings (betas, epsilon).
    pub fn adam(self, configure: impl FnOnce(Adam) -> Result<Adam>) -> Result<Self> {
        Ok(AdamW(configure(self.0)?))
    }
}

impl Optimizer for AdamW {
    fn name(&self) -> &'static str {
        self.0.name
    }

    fn apply(&mut self, store: &VarStore, updates: &[GradientAndVariable], learning_rate: f64) -> Result<()> {
        self.0.apply(store, updates, learning_rate)
    }

    fn apply_if_finite(
        &mut self,
        store: &VarStore,
        updates: &[GradientAndVariable],
        learning_rate: f64,
    ) -> Result<bool> {
        self.0.apply_if_finite(store, updates, learning_rate)
    }
}
