//! Deferred variable updates (TF-Slim's `UPDATE_OPS`): batch norm records them, the train op applies them.

use tch::Tensor;

/// One deferred assignment: after the step, `target` takes `value` (computed from that step's batch).
#[derive(Debug)]
pub struct UpdateOp {
    name: String,
    target: Tensor,
    value: Tensor,
}

impl UpdateOp {
    /// An update that assigns `value` to the variable `target` (named `name`) when applied.
    pub fn assign(name: impl Into<String>, target: &Tensor, value: Tensor) -> Self {
        UpdateOp { name: name.into(), target: target.shallow_clone(), value: value.detach() }
    }

    /// The name of the updated variable.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value the variable will take.
    pub fn value(&self) -> &Tensor {
        &self.value
    }

    /// Performs the assignment, outside autograd.
    pub fn apply(&self) {
        tch::no_grad(|| {
            let mut target = self.target.shallow_clone();
            target.copy_(&self.value);
        });
    }
}
