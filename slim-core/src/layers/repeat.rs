//! `repeat` and `stack`: apply one layer several times with TF-Slim's naming (`conv3/conv3_1`, `Repeat/…`,
//! `Stack/…`).

use std::cell::Cell;

use tch::Tensor;

use crate::Result;
use crate::model::tape::is_replaying;
use crate::variables::{ScopeGuard, VariableScope};

/// A configured layer call that `repeat` and `stack` can name and run.
pub trait LayerCall: Sized {
    /// The base name of the inner scopes when no scope is given (`convolution2d` for conv2d, as in TF-Slim).
    const REPEAT_NAME: &'static str;

    /// Sets the call's variable scope.
    fn with_scope(self, scope: String) -> Self;

    /// Runs the call.
    fn call(self) -> Result<Tensor>;
}

/// The outer scope of a `repeat` or `stack` being applied: the i-th layer applied through it runs in scope
/// `<base>_<i>`, where base is the scope's name or the layer's [`LayerCall::REPEAT_NAME`]. While a built model
/// replays, no scope is entered and no name is made.
pub struct RepeatScope {
    base: Option<String>,
    guard: Option<ScopeGuard>,
    applied: Cell<usize>,
}

impl RepeatScope {
    /// Enters `scope`, or `default_name` (`Repeat`, `Stack`) made unique.
    pub fn enter(scope: Option<&str>, default_name: &str) -> Result<RepeatScope> {
        if is_replaying() {
            return Ok(RepeatScope { base: None, guard: None, applied: Cell::new(0) });
        }
        let guard = Some(VariableScope::named_or_default(scope, default_name).enter()?);
        Ok(RepeatScope { base: scope.map(str::to_string), guard, applied: Cell::new(0) })
    }

    /// Runs the next layer in its numbered scope.
    pub fn apply<C: LayerCall>(&self, call: C) -> Result<Tensor> {
        let index = self.applied.get() + 1;
        self.applied.set(index);
        if self.guard.is_none() {
            return call.call();
        }
        let base = self.base.as_deref().unwrap_or(C::REPEAT_NAME);
        call.with_scope(format!("{base}_{index}")).call()
    }
}

/// TF-Slim's `repeat(inputs, repetitions, layer, …, scope)`: opens `scope` (default `Repeat`, made unique) and
/// applies the call made by `layer` `repetitions` times, the i-th in scope `<base>_<i>`, where base is `scope`
/// or the layer's repeat name.
pub fn repeat<C: LayerCall>(
    inputs: &Tensor,
    repetitions: usize,
    scope: Option<&str>,
    mut layer: impl FnMut(&Tensor) -> C,
) -> Result<Tensor> {
    let outer = RepeatScope::enter(scope, "Repeat")?;
    (0..repetitions).try_fold(inputs.shallow_clone(), |out, _| outer.apply(layer(&out)))
}

/// TF-Slim's `stack(inputs, layer, stack_args, scope)`: like [`repeat`], with the i-th call made from
/// `stack_args[i]`; default scope `Stack`.
pub fn stack<A, C: LayerCall>(
    inputs: &Tensor,
    scope: Option<&str>,
    stack_args: &[A],
    mut layer: impl FnMut(&Tensor, &A) -> C,
) -> Result<Tensor> {
    let outer = RepeatScope::enter(scope, "Stack")?;
    stack_args.iter().try_fold(inputs.shallow_clone(), |out, args| outer.apply(layer(&out, args)))
}
