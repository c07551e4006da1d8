//! `batch_norm`: TF-Slim's batch normalization (decay 0.999, epsilon 0.001, center on, scale off), with
//! moving statistics updated in train mode (deferred to `UPDATE_OPS` or in place) and frozen in eval mode.

use tch::Tensor;

use super::activation::{Activation, apply_activation};
use super::layer_scope::{LayerScope, check_channels, collect};
use super::params::{ParamSpec, model_param};
use super::protocol::{BuildLayer, HasVariables};
use super::types::{Collections, DataFormat};
use crate::arg_scope::scope_args;
use crate::error::TorchContext;
use crate::initializers::Initializer;
use crate::mode::Mode;
use crate::model::tape::Layer;
use crate::regularizers::Regularizer;
use crate::variables::collections::UPDATE_OPS;
use crate::variables::{UpdateOp, VarStore};
use crate::{Error, Result};

/// Per-parameter settings of batch norm (`param_initializers`, `param_regularizers`), keyed as in TF-Slim.
#[derive(Clone, Debug)]
pub struct BatchNormParams<T> {
    /// For `beta`.
    pub beta: Option<T>,
    /// For `gamma`.
    pub gamma: Option<T>,
    /// For `moving_mean`.
    pub moving_mean: Option<T>,
    /// For `moving_variance`.
    pub moving_variance: Option<T>,
}

impl<T> Default for BatchNormParams<T> {
    fn default() -> Self {
        BatchNormParams { beta: None, gamma: None, moving_mean: None, moving_variance: None }
    }
}

scope_args! {
    /// The arguments of [`batch_norm`](fn@batch_norm).
    pub struct Args => Options for "batch_norm" [Call] {
        /// Moving-average decay (default 0.999): `moving -= (moving - batch) · (1 - decay)`.
        decay: f64 = 0.999,
        /// Add the learned offset `beta` (default true).
        center: bool = true,
        /// Multiply by the learned `gamma` (default false).
        scale: bool = false,
        /// Added to the variance (default 0.001).
        epsilon: f64 = 0.001,
        /// Activation after normalizing (default none).
        activation_fn: Option<Activation> = None,
        /// Initializers of beta (zeros), gamma (ones), moving_mean (zeros), moving_variance (ones).
        param_initializers: BatchNormParams<Initializer> = BatchNormParams::default(),
        /// Regularizers of beta and gamma.
        param_regularizers: BatchNormParams<Regularizer> = BatchNormParams::default(),
        /// Where the moving-statistics updates go: a collection (default `UPDATE_OPS`, applied by the train op),
        /// or `None` to update in place during the forward pass.
        updates_collections: Option<String> = Some(UPDATE_OPS.to_string()),
        /// Train or eval behaviour; `None` (the default) follows the current [`Mode`].
        is_training: Option<bool> = None,
        /// Layout of 4-D inputs (default NCHW); other ranks have channels on axis 1.
        data_format: DataFormat = DataFormat::Nchw,
        /// Extra collections for the variables.
        variables_collections: Collections = Collections::default(),
        /// Collections the output is added to, under the layer's scope name.
        outputs_collections: Collections = Collections::default(),
        /// Whether beta and gamma are trainable (default true); the moving statistics never are.
        trainable: bool = true,
    }
}

/// A call of [`batch_norm`](fn@batch_norm) being configured; finish it with [`Call::call`](super::Call::call).
pub type Call = super::Call<BatchNorm>;

/// TF-Slim's `batch_norm(inputs, …)` over every axis but the channel axis; scope `BatchNorm` (made unique).
/// Variables: `beta` (if center), `gamma` (if scale), `moving_mean`, `moving_variance` (non-trainable).
pub fn batch_norm(inputs: &Tensor) -> Call {
    Call::new(inputs, (), Args::default())
}

impl BuildLayer for BatchNorm {
    type Args = Args;
    type Positional = ();
    const DEFAULT_SCOPE: &'static str = "BatchNorm";
    const REPEAT_NAME: &'static str = "batch_norm";

    fn build(scope: &LayerScope, inputs: &Tensor, (): (), args: Args) -> Result<(Self, Tensor)> {
        let o = args.resolve();
        let name = scope.name.clone();
        let channels = channels_of(&name, inputs, o.data_format)?;
        if !(0.0..=1.0).contains(&o.decay) || o.epsilon < 0.0 {
            return Err(Error::invalid(
                &name,
                format!("decay must be in [0, 1] and epsilon >= 0, got {} and {}", o.decay, o.epsilon),
            ));
        }
        let param =
            |short: &str, default: Initializer, init: &Option<Initializer>, reg: Option<&Regularizer>, trainable| {
                let initializer = init.clone().unwrap_or(default);
                let spec = ParamSpec {
                    initializer: &initializer,
                    regularizer: reg,
                    trainable,
                    collections: &o.variables_collections,
                };
                model_param(short, &[channels], &spec, None)
            };
        let (inits, regs) = (&o.param_initializers, &o.param_regularizers);
        let beta = o
            .center
            .then(|| param("beta", Initializer::Zeros, &inits.beta, regs.beta.as_ref(), o.trainable))
            .transpose()?;
        let gamma = o
            .scale
            .then(|| param("gamma", Initializer::Ones, &inits.gamma, regs.gamma.as_ref(), o.trainable))
            .transpose()?;
        let moving_mean = param("moving_mean", Initializer::Zeros, &inits.moving_mean, None, false)?;
        let moving_variance = param("moving_variance", Initializer::Ones, &inits.moving_variance, None, false)?;
        let layer = BatchNorm {
            name,
            beta,
            gamma,
            moving_mean,
            moving_variance,
            channels,
            momentum: 1.0 - o.decay,
            epsilon: o.epsilon,
            activation: o.activation_fn,
            updates_collection: o.updates_collections,
            is_training: o.is_training,
            data_format: o.data_format,
            outputs: o.outputs_collections,
            store: scope.store.clone(),
        };
        let out = layer.forward(inputs)?;
        Ok((layer, out))
    }
}

impl HasVariables for BatchNorm {}

fn channels_of(scope: &str, x: &Tensor, format: DataFormat) -> Result<i64> {
    let shape = x.size();
    if shape.len() < 2 {
        return Err(Error::invalid(scope, format!("batch_norm expects input of rank 2 or more, got shape {shape:?}")));
    }
    if format == DataFormat::Nhwc && shape.len() != 4 {
        return Err(Error::invalid(scope, format!("data_format NHWC needs a rank-4 input, got shape {shape:?}")));
    }
    Ok(if format == DataFormat::Nhwc { shape[3] } else { shape[1] })
}

/// A built `batch_norm` layer.
#[derive(Debug)]
pub struct BatchNorm {
    name: String,
    beta: Option<Tensor>,
    gamma: Option<Tensor>,
    moving_mean: Tensor,
    moving_variance: Tensor,
    channels: i64,
    momentum: f64,
    epsilon: f64,
    activation: Option<Activation>,
    updates_collection: Option<String>,
    is_training: Option<bool>,
    data_format: DataFormat,
    outputs: Collections,
    store: VarStore,
}

impl Layer for BatchNorm {
    fn name(&self) -> &str {
        &self.name
    }

    /// Normalizes `x`: with batch statistics in train mode (recording or applying the moving-statistics
    /// updates), with the moving statistics in eval mode.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        channels_of(&self.name, x, self.data_format)?;
        let x = if self.data_format == DataFormat::Nhwc { self.data_format.view_as_nchw(x) } else { x.shallow_clone() };
        check_channels(&self.name, &x, self.channels)?;
        let training = self.is_training.unwrap_or_else(|| Mode::current().is_training());
        let y = match (training, &self.updates_collection) {
            (false, _) => self.normalize(&x, &self.moving_mean, &self.moving_variance, false)?,
            (true, None) => self.normalize(&x, &self.moving_mean, &self.moving_variance, true)?,
            (true, Some(_)) => {
                let (mean, variance) = (self.moving_mean.detach().copy(), self.moving_variance.detach().copy());
                let y = self.normalize(&x, &mean, &variance, true)?;
                self.store.add_update_op(UpdateOp::assign(
                    format!("{}/moving_mean", self.name),
                    &self.moving_mean,
                    mean,
                ));
                self.store.add_update_op(UpdateOp::assign(
                    format!("{}/moving_variance", self.name),
                    &self.moving_variance,
                    variance,
                ));
                y
            }
        };
        let y = self.data_format.view_from_nchw(apply_activation(&self.activation, y));
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }
}

impl BatchNorm {
    /// libtorch's batch norm; in training it moves `mean`/`variance` toward the batch statistics in place,
    /// with the unbiased batch variance (TF's fused kernel).
    fn normalize(&self, x: &Tensor, mean: &Tensor, variance: &Tensor, training: bool) -> Result<Tensor> {
        Tensor::f_batch_norm(
            x,
            self.gamma.as_ref(),
            self.beta.as_ref(),
            Some(mean),
            Some(variance),
            training,
            self.momentum,
            self.epsilon,
            false,
        )
        .context(&self.name)
    }

    /// The moving mean and moving variance.
    pub fn moving_statistics(&self) -> (&Tensor, &Tensor) {
        (&self.moving_mean, &self.moving_variance)
    }
}
