//! The layer protocol. A built-in layer is one type implementing [`Layer`] (apply again) and [`BuildLayer`]
//! (its keyword arguments, positional parameters, scope names, and how a call builds it); its call builder,
//! arg-scope lookup, tape record and replay, and `repeat` / `stack` naming all follow, once, in
//! [`Call`](super::Call). Its keyword arguments come from `scope_args!`, whose setters rustc and slim's macros
//! check. Adding a layer is one file: the `Args`, the function returning its `Call`, the layer and these impls.

use tch::Tensor;

use super::layer_scope::LayerScope;
use crate::Result;
use crate::arg_scope::ScopeArgs;
use crate::model::tape::Layer;

/// How a call builds a layer of this type.
pub trait BuildLayer: Layer + Sized + 'static {
    /// The keyword arguments that arg scopes and call sites set (`conv2d::Args`); their
    /// [`OP_NAME`](ScopeArgs::OP_NAME) names the op.
    type Args: ScopeArgs + std::fmt::Debug;

    /// The arguments after the input that every call passes (`(num_outputs, kernel_size)` for `conv2d`).
    type Positional: std::fmt::Debug;

    /// The variable scope of a call that names none, made unique (`Conv`).
    const DEFAULT_SCOPE: &'static str;

    /// The base name of the inner scopes of a `repeat` or `stack` that names no scope (`convolution2d`).
    const REPEAT_NAME: &'static str;

    /// Builds the layer inside its open `scope` from `args` (the call site's merged over the active arg scope;
    /// unset fields take the layer's defaults) and applies it to `inputs`.
    fn build(
        scope: &LayerScope,
        inputs: &Tensor,
        positional: Self::Positional,
        args: Self::Args,
    ) -> Result<(Self, Tensor)>;
}

/// A layer with variables: its call can reuse those of an explicitly named scope.
pub trait HasVariables: BuildLayer {}
