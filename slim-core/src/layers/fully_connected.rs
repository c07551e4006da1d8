//! `fully_connected`: a dense layer on the last axis, with optional normalizer and activation.

use tch::Tensor;

use super::layer_scope::LayerScope;
use super::params::layer_params;
use super::params::weighted_layer_args;
use super::protocol::{BuildLayer, HasVariables};
use super::tail::Tail;
use crate::backend::dense_product::dense;
use crate::model::tape::Layer;
use crate::{Error, Result};

weighted_layer_args! {
    /// The arguments of [`fully_connected`](fn@fully_connected).
    pub struct Args => Options for "fully_connected" [Call] {
    }
}

/// A call of [`fully_connected`](fn@fully_connected) being configured; finish it with
/// [`Call::call`](super::Call::call).
pub type Call = super::Call<FullyConnected>;

/// TF-Slim's `fully_connected(inputs, num_outputs, …)`: acts on the last axis of an input of rank 2 or more.
/// Weights are `[num_outputs, in_features]`, created from the first input in scope `fully_connected` (made
/// unique) or the given scope.
pub fn fully_connected(inputs: &Tensor, num_outputs: i64) -> Call {
    Call::new(inputs, num_outputs, Args::default())
}

impl BuildLayer for FullyConnected {
    type Args = Args;
    type Positional = i64;
    const DEFAULT_SCOPE: &'static str = "fully_connected";
    const REPEAT_NAME: &'static str = "fully_connected";

    fn build(scope: &LayerScope, inputs: &Tensor, num_outputs: i64, args: Args) -> Result<(Self, Tensor)> {
        let options = args.resolve();
        let in_features = input_features(scope, inputs)?;
        if num_outputs < 1 {
            return Err(Error::invalid(&scope.name, format!("num_outputs must be positive, got {num_outputs}")));
        }
        let shape = [num_outputs, in_features];
        let (weights, biases) = layer_params!(options).create(&shape, num_outputs)?;
        let y = dense(&scope.name, inputs, &weights, biases.as_ref())?;
        let (tail, out) = Tail::build(
            scope,
            options.normalizer_fn.as_ref(),
            options.activation_fn.clone(),
            options.outputs_collections.clone(),
            y,
        )?;
        Ok((FullyConnected { weights, biases, in_features, tail }, out))
    }
}

impl HasVariables for FullyConnected {}

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

impl Layer for FullyConnected {
    fn name(&self) -> &str {
        self.tail.alias()
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
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
}

impl FullyConnected {
    /// The weights, `[out, in]`.
    pub fn weights(&self) -> &Tensor {
        &self.weights
    }

    /// The biases, absent with a normalizer or without a biases initializer.
    pub fn biases(&self) -> Option<&Tensor> {
        self.biases.as_ref()
    }
}
