//! Deferred variable updates (TF-Slim's `UPDATE_OPS`): batch norm records them, the train op applies them.

use tch::Tensor;

/// One deferred assignment: after the step, `target` takes `value` (computed from that step's batch), with the
/// assignments that belong to it (zero-debiasing's `biased` and `local_step` beside a moving mean), as one TF op
/// with its control dependencies.
#[derive(Debug)]
pub struct UpdateOp {
    name: String,
    target: Tensor,
    value: Tensor,
    companions: Vec<(Tensor, Tensor)>,
}

impl UpdateOp {
    /// An update that assigns `value` to the variable `target` (named `name`) when applied.
    pub fn assign(name: impl Into<String>, target: &Tensor, value: Tensor) -> Self {
        UpdateOp { name: name.into(), target: target.shallow_clone(), value: value.detach(), companions: Vec::new() }
    }

    /// This update, also assigning `value` to `target` when applied.
    pub fn with(mut self, target: &Tensor, value: Tensor) -> Self {
        self.companions.push((target.shallow_clone(), value.detach()));
        self
    }

    /// The name of the updated variable.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value the variable will take.
    pub fn value(&self) -> &Tensor {
        &self.value
    }

    /// The values this update assigns: the variable's, then its companions'.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Tensor> {
        std::iter::once(&self.value).chain(self.companions.iter().map(|(_, value)| value))
    }

    /// Performs the assignment and its companions with other values, taken in [`UpdateOp::values`]' order from
    /// `values` (a data-parallel step's averages over the ranks).
    pub(crate) fn apply_values(&self, values: &mut impl Iterator<Item = Tensor>) {
        tch::no_grad(|| {
            let targets = std::iter::once(&self.target).chain(self.companions.iter().map(|(target, _)| target));
            for (target, value) in targets.zip(values) {
                target.shallow_clone().copy_(&value);
            }
        });
    }

    /// Performs the assignment and its companions, outside autograd.
    pub fn apply(&self) {
        tch::no_grad(|| {
            for (target, value) in
                std::iter::once((&self.target, &self.value)).chain(self.companions.iter().map(|(t, v)| (t, v)))
            {
                target.shallow_clone().copy_(value);
            }
        });
    }
}
