//! Creating a layer's parameters (`weights`, `biases`, …) as model variables in the layer's scope.

use tch::{Kind, Tensor};

use super::types::Collections;
use crate::Result;
use crate::initializers::{Fans, Initializer};
use crate::regularizers::Regularizer;
use crate::variables::{VariableOptions, get_or_create};

/// How one parameter of a layer is made.
#[derive(Clone, Copy)]
pub(crate) struct ParamSpec<'a> {
    pub(crate) initializer: &'a Initializer,
    pub(crate) regularizer: Option<&'a Regularizer>,
    pub(crate) trainable: bool,
    pub(crate) collections: &'a Collections,
}

/// Gets or creates the model variable `name` of `shape` in the current (layer) scope.
pub(crate) fn model_param(name: &str, shape: &[i64], spec: &ParamSpec<'_>, fans: Option<Fans>) -> Result<Tensor> {
    let options = VariableOptions {
        kind: Kind::Float,
        initializer: spec.initializer.clone(),
        regularizer: spec.regularizer.cloned(),
        trainable: spec.trainable,
        collections: spec.collections.0.clone(),
    };
    Ok(get_or_create(name, shape, &options, true, fans)?.tensor().shallow_clone())
}

/// Gets or creates the non-trainable variable `name` of `shape` in the current (layer) scope, a global variable
/// only (not a model variable), as TF makes batch renormalization's bookkeeping (`renorm_mean`, `moving_stddev`).
pub(crate) fn layer_statistic(name: &str, shape: &[i64], initializer: Initializer) -> Result<Tensor> {
    let options = VariableOptions {
        kind: Kind::Float,
        initializer,
        regularizer: None,
        trainable: false,
        collections: Vec::new(),
    };
    Ok(get_or_create(name, shape, &options, false, None)?.tensor().shallow_clone())
}

/// How a conv or dense layer makes its `weights` and `biases`, from the option fields those layers share.
#[derive(Clone, Copy)]
pub(crate) struct LayerParams<'a> {
    pub(crate) weights: ParamSpec<'a>,
    pub(crate) biases_initializer: Option<&'a Initializer>,
    pub(crate) biases_regularizer: Option<&'a Regularizer>,
    /// A normalizer follows the layer, so it has no biases.
    pub(crate) normalized: bool,
}

impl LayerParams<'_> {
    /// Gets or creates `weights` of `shape` and, unless the layer has none, `biases` of `[channels]`.
    pub(crate) fn create(&self, shape: &[i64], channels: i64) -> Result<(Tensor, Option<Tensor>)> {
        let weights = model_param("weights", shape, &self.weights, None)?;
        Ok((weights, self.biases(channels)?))
    }

    /// Gets or creates `biases` of `[channels]`, unless a normalizer follows or there is no initializer.
    pub(crate) fn biases(&self, channels: i64) -> Result<Option<Tensor>> {
        match (self.normalized, self.biases_initializer) {
            (false, Some(initializer)) => {
                let spec = ParamSpec { initializer, regularizer: self.biases_regularizer, ..self.weights };
                model_param("biases", &[channels], &spec, None).map(Some)
            }
            _ => Ok(None),
        }
    }
}

/// The [`LayerParams`] of an options struct with TF-Slim's conv / dense fields (`weights_initializer`,
/// `weights_regularizer`, `biases_initializer`, `biases_regularizer`, `normalizer_fn`, `trainable`,
/// `variables_collections`).
macro_rules! layer_params {
    ($options:expr) => {
        $crate::layers::params::LayerParams {
            weights: $crate::layers::params::ParamSpec {
                initializer: &$options.weights_initializer,
                regularizer: $options.weights_regularizer.as_ref(),
                trainable: $options.trainable,
                collections: &$options.variables_collections,
            },
            biases_initializer: $options.biases_initializer.as_ref(),
            biases_regularizer: $options.biases_regularizer.as_ref(),
            normalized: $options.normalizer_fn.is_some(),
        }
    };
}
pub(crate) use layer_params;

/// `scope_args!` for a layer with weights and biases: the layer's own arguments, then the ones every such layer
/// (conv2d, conv2d_transpose, separable_conv2d, fully_connected) takes in TF-Slim: activation, normalizer,
/// weights and biases initializers and regularizers, collections, trainable.
macro_rules! weighted_layer_args {
    (
        $(#[$meta:meta])*
        pub struct $args:ident => $options:ident for $op:literal [$call:ident] { $($own:tt)* }
    ) => {
        $crate::arg_scope::scope_args! {
            $(#[$meta])*
            pub struct $args => $options for $op [$call] {
                $($own)*
                /// Activation (default relu; `None` for linear).
                activation_fn: Option<$crate::layers::Activation> = Some($crate::layers::Activation::Relu),
                /// Normalizer applied instead of biases (default none).
                normalizer_fn: Option<$crate::layers::Normalizer> = None,
                /// Weights initializer (default xavier uniform).
                weights_initializer: $crate::initializers::Initializer = $crate::initializers::xavier_initializer(true),
                /// Weights regularizer (default none).
                weights_regularizer: Option<$crate::regularizers::Regularizer> = None,
                /// Biases initializer (default zeros; `None` for no biases).
                biases_initializer: Option<$crate::initializers::Initializer> =
                    Some($crate::initializers::Initializer::Zeros),
                /// Biases regularizer (default none).
                biases_regularizer: Option<$crate::regularizers::Regularizer> = None,
                /// Extra collections for the variables.
                variables_collections: $crate::layers::Collections = $crate::layers::Collections::default(),
                /// Collections the output is added to, under the layer's scope name.
                outputs_collections: $crate::layers::Collections = $crate::layers::Collections::default(),
                /// Whether the variables are trainable (default true).
                trainable: bool = true,
            }
        }
    };
}
pub(crate) use weighted_layer_args;
