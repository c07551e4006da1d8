//! `repeat` and `stack`: apply one layer several times with TF-Slim's naming (`conv3/conv3_1`, `Repeat/…`,
//! `Stack/…`).

use tch::Tensor;

use crate::Result;
use crate::variables::VariableScope;

/// A configured layer call that `repeat` and `stack` can name and run.
pub trait LayerCall: Sized {
    /// The base name of the inner scopes when no scope is given (`convolution2d` for conv2d, as in TF-Slim).
    const REPEAT_NAME: &'static str;

    /// Sets the call's variable scope.
    fn with_scope(self, scope: String) -> Self;

    /// Runs the call.
    fn call(self) -> Result<Tensor>;
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
    let _outer = VariableScope::named_or_default(scope, "Repeat").enter()?;
    let base = scope.unwrap_or(C::REPEAT_NAME);
    let mut out = inputs.shallow_clone();
    for i in 1..=repetitions {
        out = layer(&out).with_scope(format!("{base}_{i}")).call()?;
    }
    Ok(out)
}

/// TF-Slim's `stack(inputs, layer, stack_args, scope)`: like [`repeat`], with the i-th call made from
/// `stack_args[i]`; default scope `Stack`.
pub fn stack<A, C: LayerCall>(
    inputs: &Tensor,
    scope: Option<&str>,
    stack_args: &[A],
    mut layer: impl FnMut(&Tensor, &A) -> C,
) -> Result<Tensor> {
    let _outer = VariableScope::named_or_default(scope, "Stack").enter()?;
    let base = scope.unwrap_or(C::REPEAT_NAME);
    let mut out = inputs.shallow_clone();
    for (i, args) in stack_args.iter().enumerate() {
        out = layer(&out, args).with_scope(format!("{base}_{}", i + 1)).call()?;
    }
    Ok(out)
}
