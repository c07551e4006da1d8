//! `fully_connected`: a dense layer on the last axis, with optional normalizer and activation.

use tch::Tensor;

use super::layer_scope::{self, LayerScope};
use super::params::layer_params;
use super::params::weighted_layer_args;
use super::repeat::layer_call;
use super::tail::Tail;
use crate::backend::dense_product::dense;
use crate::{Error, Result};

weighted_layer_args! {
    /// The arguments of [`fully_connected`].
    pub struct FullyConnectedArgs => FullyConnectedOptions for "fully_connected" [FullyConnectedCall] {
    }
}

/// A call of [`fully_connected`] being configured; finish it with [`FullyConnectedCall::call`].
#[derive(Debug)]
pub struct FullyConnectedCall {
    inputs: Tensor,
    num_outputs: i64,
    args: FullyConnectedArgs,
    scope: Option<String>,
    reuse: bool,
}

layer_call!(FullyConnectedCall, FullyConnectedArgs, default_scope: "fully_connected", repeat_name: "fully_connected");

/// TF-Slim's `fully_connected(inputs, num_outputs, …)`: acts on the last axis of an input of rank 2 or more.
/// Weights are `[num_outputs, in_features]`, created from the first input in scope `fully_connected` (made
/// unique) or the given scope.
pub fn fully_connected(inputs: &Tensor, num_outputs: i64) -> FullyConnectedCall {
    FullyConnectedCall {
        inputs: inputs.shallow_clone(),
        num_outputs,
        args: Default::default(),
        scope: None,
        reuse: false,
    }
}

impl FullyConnectedCall {
    /// Creates (or reuses) the variables and applies the layer; returns the layer and the output.
    pub fn build(self) -> Result<(FullyConnected, Tensor)> {
        let options = self.args.resolve_in_scope();
        let scope = layer_scope::open(self.scope.as_deref(), "fully_connected", self.reuse)?;
        let in_features = input_features(&scope, &self.inputs)?;
        if self.num_outputs < 1 {
            return Err(Error::invalid(&scope.name, format!("num_outputs must be positive, got {}", self.num_outputs)));
        }
        let shape = [self.num_outputs, in_features];
        let (weights, biases) = layer_params!(options).create(&shape, self.num_outputs)?;
        let y = dense(&scope.name, &self.inputs, &weights, biases.as_ref())?;
        let (tail, out) = Tail::build(
            &scope,
            options.normalizer_fn.as_ref(),
            options.activation_fn.clone(),
            options.outputs_collections.clone(),
            y,
        )?;
        Ok((FullyConnected { weights, biases, in_features, tail }, out))
    }
}

fn input_features(scope: &LayerScope, x: &Tensor) -> Result<i64> {
    let shape = x.size();
    match shape.last() {
        Some(&features) if shape.len() >= 2 => Ok(features),
        _ => Err(Error::invalid(
            &scope.name,
            format!("fully_connected expects input with rank 2 or more, got shape {shape:?}"),
        )),
    }
}

/// A built `fully_connected` layer.
#[derive(Debug)]
pub struct FullyConnected {
    weights: Tensor,
    biases: Option<Tensor>,
    in_features: i64,
    tail: Tail,
}

impl FullyConnected {
    /// Applies the layer to `x` in the current [`Mode`](crate::mode::Mode).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let shape = x.size();
        if shape.len() < 2 || shape.last() != Some(&self.in_features) {
            return Err(Error::invalid(
                self.name(),
                format!(
                    "expects input of rank 2 or more with {} features on the last axis, got {shape:?}",
                    self.in_features
                ),
            ));
        }
        let y = dense(self.name(), x, &self.weights, self.biases.as_ref())?;
        self.tail.forward(y)
    }

    /// The layer's full scope name.
    pub fn name(&self) -> &str {
        self.tail.alias()
    }

    /// The weights, `[out, in]`.
    pub fn weights(&self) -> &Tensor {
        &self.weights
    }

    /// The biases, absent with a normalizer or without a biases initializer.
    pub fn biases(&self) -> Option<&Tensor> {
        self.biases.as_ref()
    }
}
