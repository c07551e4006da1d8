//! `instance_norm`: normalization of each channel of each example over its spatial axes (TF-Slim's
//! `instance_norm`, Ulyanov et al. 2016).

use tch::Tensor;

use super::activation::Activation;
use super::group_norm::{GroupNorm, GroupPlan, NormSettings};
use super::layer_scope::LayerScope;
use super::protocol::{BuildLayer, HasVariables};
use super::types::Collections;
use crate::arg_scope::scope_args;
use crate::model::tape::Layer;
use crate::{Error, Result};

scope_args! {
    /// The arguments of [`instance_norm`](fn@instance_norm).
    pub struct Args => Options for "instance_norm" [Call] {
        /// Add the learned offset `beta` (default true).
        center: bool = true,
        /// Multiply by the learned `gamma` (default false).
        scale: bool = false,
        /// Added to the variance (default 1e-6).
        epsilon: f64 = 1e-6,
        /// Activation after normalizing (default none).
        activation_fn: Option<Activation> = None,
        /// Extra collections for the variables.
        variables_collections: Collections = Collections::default(),
        /// Collections the output is added to, under the layer's scope name.
        outputs_collections: Collections = Collections::default(),
        /// Whether beta and gamma are trainable (default true).
        trainable: bool = true,
    }
}

/// A call of [`instance_norm`](fn@instance_norm) being configured; finish it with [`Call::call`](super::Call::call).
pub type Call = super::Call<InstanceNorm>;

/// TF-Slim's `instance_norm(inputs, …)` for `[N, C, …]` inputs of rank 3 or more (channels on axis 1, slim's
/// layout); scope `InstanceNorm`, variables `beta` and `gamma` of `[C]`.
pub fn instance_norm(inputs: &Tensor) -> Call {
    Call::new(inputs, (), Args::default())
}

impl BuildLayer for InstanceNorm {
    type Args = Args;
    type Positional = ();
    const DEFAULT_SCOPE: &'static str = "InstanceNorm";
    const REPEAT_NAME: &'static str = "instance_norm";

    fn build(scope: &LayerScope, inputs: &Tensor, (): (), args: Args) -> Result<(Self, Tensor)> {
        let o = args.resolve();
        let shape = inputs.size();
        if shape.len() < 3 {
            return Err(Error::invalid(
                &scope.name,
                format!("instance_norm needs inputs of rank 3 or more, got {shape:?}"),
            ));
        }
        let spatial: Vec<i64> = (2..shape.len() as i64).collect();
        let plan = GroupPlan::new(&scope.name, &shape, shape[1], 1, &spatial)?;
        let settings = NormSettings {
            center_scale: (o.center, o.scale),
            epsilon: o.epsilon,
            activation: o.activation_fn,
            trainable: o.trainable,
            variables_collections: o.variables_collections,
            outputs_collections: o.outputs_collections,
        };
        let layer = InstanceNorm(GroupNorm::new(scope, plan, settings)?);
        let out = layer.forward(inputs)?;
        Ok((layer, out))
    }
}

impl HasVariables for InstanceNorm {}

/// A built `instance_norm` layer: a group norm of one group per channel.
#[derive(Debug)]
pub struct InstanceNorm(GroupNorm);

impl Layer for InstanceNorm {
    fn name(&self) -> &str {
        self.0.name()
    }

    /// Normalizes each channel of each example of `x` over its spatial axes.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.0.forward(x)
    }
}
