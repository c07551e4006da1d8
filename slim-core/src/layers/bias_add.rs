//! `bias_add`: a learned per-channel offset, then an optional activation.

use tch::Tensor;

use super::activation::{Activation, apply_activation};
use super::layer_scope::{self, check_channels, collect};
use super::params::{ParamSpec, model_param};
use super::repeat::layer_call;
use super::types::Collections;
use crate::arg_scope::scope_args;
use crate::initializers::Initializer;
use crate::regularizers::Regularizer;
use crate::variables::VarStore;
use crate::{Error, Result};

scope_args! {
    /// The arguments of [`bias_add`].
    pub struct BiasAddArgs => BiasAddOptions for "bias_add" [BiasAddCall] {
        /// Activation (default none).
        activation_fn: Option<Activation> = None,
        /// Biases initializer (default zeros).
        initializer: Initializer = Initializer::Zeros,
        /// Biases regularizer (default none).
        regularizer: Option<Regularizer> = None,
        /// Extra collections for the variable.
        variables_collections: Collections = Collections::default(),
        /// Collections the output is added to, under the layer's scope name.
        outputs_collections: Collections = Collections::default(),
        /// Whether the biases are trainable (default true).
        trainable: bool = true,
    }
}

/// A call of [`bias_add`] being configured; finish it with [`BiasAddCall::call`].
#[derive(Debug)]
pub struct BiasAddCall {
    inputs: Tensor,
    args: BiasAddArgs,
    scope: Option<String>,
    reuse: bool,
}

layer_call!(BiasAddCall, BiasAddArgs, default_scope: "BiasAdd", repeat_name: "bias_add");

/// TF-Slim's `bias_add(inputs)`: adds `biases` of `[channels]` (axis 1); scope `BiasAdd` (made unique).
pub fn bias_add(inputs: &Tensor) -> BiasAddCall {
    BiasAddCall { inputs: inputs.shallow_clone(), args: BiasAddArgs::default(), scope: None, reuse: false }
}

impl BiasAddCall {
    /// Creates (or reuses) the biases and applies them; returns the layer and the output.
    pub fn build(self) -> Result<(BiasAdd, Tensor)> {
        let o = self.args.resolve_in_scope();
        let scope = layer_scope::open(self.scope.as_deref(), "BiasAdd", self.reuse)?;
        if self.inputs.dim() < 2 {
            return Err(Error::invalid(
                &scope.name,
                format!("bias_add expects input of rank 2 or more, got shape {:?}", self.inputs.size()),
            ));
        }
        let channels = self.inputs.size()[1];
        let spec = ParamSpec {
            initializer: &o.initializer,
            regularizer: o.regularizer.as_ref(),
            trainable: o.trainable,
            collections: &o.variables_collections,
        };
        let biases = model_param("biases", &[channels], &spec, None)?;
        let layer = BiasAdd {
            name: scope.name.clone(),
            biases,
            activation: o.activation_fn,
            outputs: o.outputs_collections,
            store: scope.store.clone(),
        };
        let out = layer.forward(&self.inputs)?;
        Ok((layer, out))
    }
}

/// A built `bias_add` layer.
#[derive(Debug)]
pub struct BiasAdd {
    name: String,
    biases: Tensor,
    activation: Option<Activation>,
    outputs: Collections,
    store: VarStore,
}

impl BiasAdd {
    /// Adds the biases along axis 1 of `x`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.dim() < 2 {
            return Err(Error::invalid(
                &self.name,
                format!("expects input of rank 2 or more, got shape {:?}", x.size()),
            ));
        }
        check_channels(&self.name, x, self.biases.size()[0])?;
        let mut view = vec![1i64; x.dim()];
        view[1] = -1;
        let y = apply_activation(&self.activation, x + self.biases.view(view.as_slice()));
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }

    /// The layer's full scope name.
    pub fn name(&self) -> &str {
        &self.name
    }
}
