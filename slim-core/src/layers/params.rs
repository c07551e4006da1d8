//! Creating a layer's parameters (`weights`, `biases`, …) as model variables in the layer's scope.

use tch::{Kind, Tensor};

use super::types::Collections;
use crate::Result;
use crate::initializers::{Fans, Initializer};
use crate::regularizers::Regularizer;
use crate::variables::{VariableOptions, get_or_create};

/// How one parameter of a layer is made.
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

/// Gets or creates `biases` of `[channels]` unless the layer has no biases (a normalizer, or no initializer).
pub(crate) fn biases(
    channels: i64,
    initializer: Option<&Initializer>,
    regularizer: Option<&Regularizer>,
    trainable: bool,
    collections: &Collections,
) -> Result<Option<Tensor>> {
    initializer
        .map(|initializer| {
            let spec = ParamSpec { initializer, regularizer, trainable, collections };
            model_param("biases", &[channels], &spec, None)
        })
        .transpose()
}
