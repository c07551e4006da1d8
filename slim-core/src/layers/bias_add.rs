//! `bias_add`: a learned per-channel offset, then an optional activation.

use tch::Tensor;

use super::activation::{Activation, apply_activation};
use super::layer_scope::{LayerScope, check_channels, collect};
use super::params::{ParamSpec, model_param};
use super::protocol::{BuildLayer, HasVariables};
use super::types::Collections;
use crate::arg_scope::scope_args;
use crate::initializers::Initializer;
use crate::model::tape::Layer;
use crate::regularizers::Regularizer;
use crate::variables::VarStore;
use crate::{Error, Result};

scope_args! {
    /// The arguments of [`bias_add`](fn@bias_add).
    pub struct Args => Options for "bias_add" [Call] {
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

/// A call of [`bias_add`](fn@bias_add) being configured; finish it with [`Call::call`](super::Call::call).
pub type Call = super::Call<BiasAdd>;

/// TF-Slim's `bias_add(inputs)`: adds `biases` of `[channels]` (axis 1); scope `BiasAdd` (made unique).
pub fn bias_add(inputs: &Tensor) -> Call {
    Call::new(inputs, (), Args::default())
}

impl BuildLayer for BiasAdd {
    type Args = Args;
    type Positional = ();
    const DEFAULT_SCOPE: &'static str = "BiasAdd";
    const REPEAT_NAME: &'static str = "bias_add";

    fn build(scope: &LayerScope, inputs: &Tensor, (): (), args: Args) -> Result<(Self, Tensor)> {
        let o = args.resolve();
        if inputs.dim() < 2 {
            return Err(Error::invalid(
                &scope.name,
                format!("bias_add expects input of rank 2 or more, got shape {:?}", inputs.size()),
            ));
        }
        let channels = inputs.size()[1];
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
        let out = layer.forward(inputs)?;
        Ok((layer, out))
    }
}

impl HasVariables for BiasAdd {}

/// A built `bias_add` layer.
#[derive(Debug)]
pub struct BiasAdd {
    name: String,
    biases: Tensor,
    activation: Option<Activation>,
    outputs: Collections,
    store: VarStore,
}

impl Layer for BiasAdd {
    fn name(&self) -> &str {
        &self.name
    }

    /// Adds the biases along axis 1 of `x`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
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
}
