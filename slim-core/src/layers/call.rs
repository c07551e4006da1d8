//! [`Call`]: the builder every built-in layer's function returns (`conv2d(&x, 64, 3).stride(2).call()?`).

use std::fmt;

use tch::Tensor;

use super::layer_scope;
use super::protocol::{BuildLayer, HasVariables};
use super::repeat::LayerCall;
use crate::Result;
use crate::arg_scope::{ArgScope, ScopeArgs};
use crate::model::tape::{record, replay_layer};

/// A call of layer `L` being configured: its input and positional arguments, the keywords set so far (each
/// layer's keyword setters, such as `conv2d`'s `.stride(2)`, are listed on its `Call` alias), and the scope.
/// Finish it with [`Call::call`], or [`Call::build`] to keep the layer.
#[must_use = "a layer call does nothing until `.call()` or `.build()` runs it"]
pub struct Call<L: BuildLayer> {
    inputs: Tensor,
    positional: L::Positional,
    pub(crate) args: L::Args,
    scope: Option<String>,
    reuse: bool,
}

impl<L: BuildLayer> Call<L> {
    /// A call on `inputs` with its positional arguments and the keywords `args` (what a layer's function, such
    /// as [`conv2d`](fn@super::conv2d), returns).
    pub fn new(inputs: &Tensor, positional: L::Positional, args: L::Args) -> Self {
        Call { inputs: inputs.shallow_clone(), positional, args, scope: None, reuse: false }
    }

    /// The variable scope (default the layer's [`BuildLayer::DEFAULT_SCOPE`], made unique).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Replaces all call-site keyword arguments at once.
    pub fn args(mut self, args: L::Args) -> Self {
        self.args = args;
        self
    }

    /// Creates (or reuses) the variables and applies the layer; returns the layer, to apply again, and the
    /// output.
    pub fn build(self) -> Result<(L, Tensor)> {
        let args = ArgScope::resolve(self.args);
        let scope = layer_scope::open(self.scope.as_deref(), L::DEFAULT_SCOPE, self.reuse)?;
        L::build(&scope, &self.inputs, self.positional, args)
    }

    /// Runs the layer (creating or reusing its variables) and returns the output. Inside a built model's
    /// forward pass, applies the layer the model recorded for this call instead.
    pub fn call(self) -> Result<Tensor> {
        let op = L::Args::OP_NAME;
        if let Some(out) = replay_layer(op, &self.inputs)? {
            return Ok(out);
        }
        let (layer, out) = self.build()?;
        record(op, layer);
        Ok(out)
    }
}

impl<L: HasVariables> Call<L> {
    /// Reuse the variables of the (explicitly named) scope.
    pub fn reuse(mut self, reuse: bool) -> Self {
        self.reuse = reuse;
        self
    }
}

impl<L: BuildLayer> LayerCall for Call<L> {
    const REPEAT_NAME: &'static str = L::REPEAT_NAME;

    fn with_scope(self, scope: String) -> Self {
        self.scope(scope)
    }

    fn call(self) -> Result<Tensor> {
        Call::call(self)
    }
}

impl<L: BuildLayer> fmt::Debug for Call<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(L::Args::OP_NAME)
            .field("inputs", &self.inputs)
            .field("positional", &self.positional)
            .field("args", &self.args)
            .field("scope", &self.scope)
            .field("reuse", &self.reuse)
            .finish()
    }
}
