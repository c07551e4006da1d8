//! `layer_norm`: normalization over the trailing axes of each example (TF-Slim's `layer_norm`).

use tch::Tensor;

use super::activation::{Activation, apply_activation};
use super::layer_scope::{LayerScope, collect};
use super::params::{ParamSpec, model_param};
use super::protocol::{BuildLayer, HasVariables};
use super::types::Collections;
use crate::arg_scope::scope_args;
use crate::error::TorchContext;
use crate::initializers::Initializer;
use crate::model::tape::Layer;
use crate::variables::VarStore;
use crate::{Error, Result};

/// TF-Slim's fixed variance epsilon for float32 layer norm.
const LAYER_NORM_EPSILON: f64 = 1e-12;

scope_args! {
    /// The arguments of [`layer_norm`](fn@layer_norm).
    pub struct Args => Options for "layer_norm" [Call] {
        /// Add the learned offset `beta` (default true).
        center: bool = true,
        /// Multiply by the learned `gamma` (default true).
        scale: bool = true,
        /// Activation after normalizing (default none).
        activation_fn: Option<Activation> = None,
        /// The first axis normalized over (default 1; negative counts from the end).
        begin_norm_axis: i64 = 1,
        /// The first axis of the parameters' shape (default -1, the last axis).
        begin_params_axis: i64 = -1,
        /// Extra collections for the variables.
        variables_collections: Collections = Collections::default(),
        /// Collections the output is added to, under the layer's scope name.
        outputs_collections: Collections = Collections::default(),
        /// Whether beta and gamma are trainable (default true).
        trainable: bool = true,
    }
}

/// A call of [`layer_norm`](fn@layer_norm) being configured; finish it with [`Call::call`](super::Call::call).
pub type Call = super::Call<LayerNorm>;

/// TF-Slim's `layer_norm(inputs, …)`; scope `LayerNorm`, variables `beta` and `gamma` of shape
/// `inputs.shape[begin_params_axis..]`.
pub fn layer_norm(inputs: &Tensor) -> Call {
    Call::new(inputs, (), Args::default())
}

impl BuildLayer for LayerNorm {
    type Args = Args;
    type Positional = ();
    const DEFAULT_SCOPE: &'static str = "LayerNorm";
    const REPEAT_NAME: &'static str = "layer_norm";

    fn build(scope: &LayerScope, inputs: &Tensor, (): (), args: Args) -> Result<(Self, Tensor)> {
        let o = args.resolve();
        let shape = inputs.size();
        let rank = shape.len() as i64;
        let axis = |a: i64| if a < 0 { a + rank } else { a };
        let (norm_axis, params_axis) = (axis(o.begin_norm_axis), axis(o.begin_params_axis));
        if rank == 0 || !(0..rank).contains(&norm_axis) || !(0..rank).contains(&params_axis) {
            return Err(Error::invalid(
                &scope.name,
                format!(
                    "begin_norm_axis {} and begin_params_axis {} must lie within the input's rank {rank}",
                    o.begin_norm_axis, o.begin_params_axis
                ),
            ));
        }
        let params_shape = &shape[params_axis as usize..];
        let param = |short: &str, initializer: Initializer| {
            let spec = ParamSpec {
                initializer: &initializer,
                regularizer: None,
                trainable: o.trainable,
                collections: &o.variables_collections,
            };
            model_param(short, params_shape, &spec, None)
        };
        let beta = o.center.then(|| param("beta", Initializer::Zeros)).transpose()?;
        let gamma = o.scale.then(|| param("gamma", Initializer::Ones)).transpose()?;
        let layer = LayerNorm {
            name: scope.name.clone(),
            beta,
            gamma,
            norm_axes: (norm_axis..rank).collect(),
            rank: rank as usize,
            activation: o.activation_fn,
            outputs: o.outputs_collections,
            store: scope.store.clone(),
        };
        let out = layer.forward(inputs)?;
        Ok((layer, out))
    }
}

impl HasVariables for LayerNorm {}

/// A built `layer_norm` layer.
#[derive(Debug)]
pub struct LayerNorm {
    name: String,
    beta: Option<Tensor>,
    gamma: Option<Tensor>,
    norm_axes: Vec<i64>,
    rank: usize,
    activation: Option<Activation>,
    outputs: Collections,
    store: VarStore,
}

impl Layer for LayerNorm {
    fn name(&self) -> &str {
        &self.name
    }

    /// Normalizes `x` over its trailing axes.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.dim() != self.rank {
            return Err(Error::invalid(
                &self.name,
                format!("expects input of rank {}, got shape {:?}", self.rank, x.size()),
            ));
        }
        let (variance, mean) = x.f_var_mean_correction(Some(self.norm_axes.as_slice()), 0, true).context(&self.name)?;
        let mut y = (x - mean) * (variance + LAYER_NORM_EPSILON).rsqrt();
        if let Some(gamma) = &self.gamma {
            y = y.f_mul(gamma).context(&self.name)?;
        }
        if let Some(beta) = &self.beta {
            y = y.f_add(beta).context(&self.name)?;
        }
        let y = apply_activation(&self.activation, y);
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }
}
