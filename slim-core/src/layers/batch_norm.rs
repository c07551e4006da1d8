//! `batch_norm`: TF-Slim's batch normalization (decay 0.999, epsilon 0.001, center on, scale off), with
//! moving statistics updated in train mode (deferred to `UPDATE_OPS` or in place) and frozen in eval mode.

use tch::Tensor;

use super::activation::{Activation, apply_activation};
use super::batch_renorm::{Renorm, RenormClipping};
use super::layer_scope::{LayerScope, check_channels, collect};
use super::params::{ParamSpec, model_param};
use super::protocol::{BuildLayer, HasVariables};
use super::types::{Collections, DataFormat};
use super::zero_debias::ZeroDebias;
use crate::arg_scope::scope_args;
use crate::backend::CpuPath;
use crate::backend::fused_convolution::BatchNormFold;
use crate::error::TorchContext;
use crate::initializers::Initializer;
use crate::mode::Mode;
use crate::model::tape::Layer;
use crate::native::{BatchNormRelu, batch_norm_relu};
use crate::regularizers::Regularizer;
use crate::variables::collections::UPDATE_OPS;
use crate::variables::{UpdateOp, VarStore};
use crate::{Error, Result};

/// Per-parameter settings of batch norm (`param_initializers`, `param_regularizers`, `param_collections`), keyed
/// as in TF-Slim.
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
        /// Extra collections per variable (TF-Slim's `variables_collections` dict): a parameter given here joins
        /// these instead of `variables_collections`.
        param_collections: BatchNormParams<Collections> = BatchNormParams::default(),
        /// Average the moving mean with zero-debiasing (TF's `zero_debias_moving_mean`): adds the model variables
        /// `<scope>/moving_mean/biased` and `<scope>/moving_mean/local_step` (under the scope twice, as TF names
        /// them), and the moving mean is the batch mean from the first update on (default false).
        zero_debias_moving_mean: bool = false,
        /// Batch renormalization (TF's `renorm`, through Keras' layer): adds `renorm_mean`, `renorm_stddev` and
        /// `moving_stddev`; in training the output is corrected towards what inference computes, the moving
        /// variance follows `moving_stddev` (of the *biased* batch variance, Keras' non-fused path). Not with
        /// `zero_debias_moving_mean`, and only with `updates_collections = UPDATE_OPS`, as in TF-Slim. Default
        /// false.
        renorm: bool = false,
        /// Bounds of the renorm corrections `r` and `d` (default: none).
        renorm_clipping: RenormClipping = RenormClipping::default(),
        /// Decay of the renorm averages (default 0.99).
        renorm_decay: f64 = 0.99,
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
        if !(0.0..=1.0).contains(&o.renorm_decay) {
            return Err(Error::invalid(&name, format!("renorm_decay must be in [0, 1], got {}", o.renorm_decay)));
        }
        if o.renorm && (o.zero_debias_moving_mean || o.updates_collections.as_deref() != Some(UPDATE_OPS)) {
            return Err(Error::invalid(
                &name,
                "renorm needs updates_collections = UPDATE_OPS and no zero_debias_moving_mean (TF-Slim's rule)",
            ));
        }
        let param = |short: &str, default: Initializer, settings: ParamSettings<'_>, trainable| {
            let (init, reg, collections) = settings;
            let initializer = init.clone().unwrap_or(default);
            let spec = ParamSpec {
                initializer: &initializer,
                regularizer: reg,
                trainable,
                collections: collections.unwrap_or(&o.variables_collections),
            };
            model_param(short, &[channels], &spec, None)
        };
        let (inits, regs, colls) = (&o.param_initializers, &o.param_regularizers, &o.param_collections);
        let beta = o
            .center
            .then(|| {
                param("beta", Initializer::Zeros, (&inits.beta, regs.beta.as_ref(), colls.beta.as_ref()), o.trainable)
            })
            .transpose()?;
        let gamma = o
            .scale
            .then(|| {
                param(
                    "gamma",
                    Initializer::Ones,
                    (&inits.gamma, regs.gamma.as_ref(), colls.gamma.as_ref()),
                    o.trainable,
                )
            })
            .transpose()?;
        let mean_settings = (&inits.moving_mean, None, colls.moving_mean.as_ref());
        let moving_mean = param("moving_mean", Initializer::Zeros, mean_settings, false)?;
        let variance_settings = (&inits.moving_variance, None, colls.moving_variance.as_ref());
        let moving_variance = param("moving_variance", Initializer::Ones, variance_settings, false)?;
        let zero_debias = o.zero_debias_moving_mean.then(|| ZeroDebias::create(channels)).transpose()?;
        let renorm = o.renorm.then(|| Renorm::create(channels, o.renorm_clipping, o.renorm_decay)).transpose()?;
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
            zero_debias,
            renorm,
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

/// A parameter's initializer, regularizer and collections, when given.
type ParamSettings<'a> = (&'a Option<Initializer>, Option<&'a Regularizer>, Option<&'a Collections>);

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
    zero_debias: Option<ZeroDebias>,
    renorm: Option<Renorm>,
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
        Ok(self.forward_then(x, None)?.0)
    }
}

impl BatchNorm {
    /// [`Layer::forward`], followed by `then`, the activation a convolution applies after its normalizer. In
    /// training, the normalization and a ReLU (this layer's own, or `then` where this layer has no activation and
    /// no outputs collections to publish its output before it) run as one fused call where they can
    /// ([`Config::fused_batch_norm`](crate::backend::Config::fused_batch_norm)). Returns the output and whether
    /// `then` is applied in it already.
    pub(crate) fn forward_then(&self, x: &Tensor, then: Option<&Activation>) -> Result<(Tensor, bool)> {
        channels_of(&self.name, x, self.data_format)?;
        let x = if self.data_format == DataFormat::Nhwc { self.data_format.view_as_nchw(x) } else { x.shallow_clone() };
        check_channels(&self.name, &x, self.channels)?;
        let training = self.is_training.unwrap_or_else(|| Mode::current().is_training());
        let takes_then =
            self.activation.is_none() && self.outputs.names().is_empty() && matches!(then, Some(Activation::Relu));
        let relu = takes_then || matches!(self.activation, Some(Activation::Relu));
        let (y, relu_applied) = match training {
            false => (self.normalize(&x, &self.moving_mean, &self.moving_variance, false)?, false),
            true => {
                let (y, relu_applied, updates) = self.train_step(&x, relu)?;
                match &self.updates_collection {
                    None => updates.into_iter().for_each(|update| update.apply()),
                    Some(_) => updates.into_iter().for_each(|update| self.store.add_update_op(update)),
                }
                (y, relu_applied)
            }
        };
        let y = if relu_applied { y } else { apply_activation(&self.activation, y) };
        let y = self.data_format.view_from_nchw(y);
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok((y, relu_applied && takes_then))
    }

    /// A training step's output, whether a ReLU (asked with `relu`) is applied in it, and its updates of the
    /// moving statistics (the mean's first, each with the zero-debiasing or renorm variables it moves beside it),
    /// computed from this batch and the variables' values now.
    fn train_step(&self, x: &Tensor, relu: bool) -> Result<(Tensor, bool, Vec<UpdateOp>)> {
        let ((y, relu_applied), mean, variance, mut mean_update, mut variance_update) = match &self.renorm {
            None => {
                let (mean, variance) = (self.moving_mean.detach().copy(), self.moving_variance.detach().copy());
                let normalized = match self.fused_training(x, &mean, &variance, relu)? {
                    Some(y) => (y, relu),
                    None => (self.normalize(x, &mean, &variance, true)?, false),
                };
                (normalized, mean, variance, Vec::new(), Vec::new())
            }
            Some(renorm) => {
                let step = renorm.step(x, (&self.moving_mean, self.epsilon, self.momentum), &self.name)?;
                let y = self.scale_and_shift(step.normalized)?;
                let (renorm_mean, renorm_stddev, moving_stddev) = renorm.variables();
                let mean_companions = vec![(renorm_mean, step.renorm_mean), (renorm_stddev, step.renorm_stddev)];
                let variance_companions = vec![(moving_stddev, step.moving_stddev)];
                ((y, false), step.moving_mean, step.moving_variance, mean_companions, variance_companions)
            }
        };
        let mean = match &self.zero_debias {
            None => mean,
            Some(debias) => {
                let axes: Vec<i64> = (0..x.dim() as i64).filter(|axis| *axis != 1).collect();
                let batch_mean = tch::no_grad(|| x.f_mean_dim(axes.as_slice(), false, x.kind())).context(&self.name)?;
                let next = debias.next(&batch_mean, self.momentum, &self.name)?;
                let (biased, local_step) = debias.variables();
                mean_update.push((biased, next.biased));
                mean_update.push((local_step, next.local_step));
                next.value
            }
        };
        let update = |short: &str, target: &Tensor, value: Tensor, companions: &mut Vec<(&Tensor, Tensor)>| {
            let op = UpdateOp::assign(format!("{}/{short}", self.name), target, value);
            companions.drain(..).fold(op, |op, (target, value)| op.with(target, value))
        };
        let updates = vec![
            update("moving_mean", &self.moving_mean, mean, &mut mean_update),
            update("moving_variance", &self.moving_variance, variance, &mut variance_update),
        ];
        Ok((y, relu_applied, updates))
    }

    /// The training normalization (and the ReLU, with `relu`) by slim's fused kernel, moving `mean` and
    /// `variance` in place as [`BatchNorm::normalize`] does; `None` where the path is off or the kernel does not
    /// take `x` (neither channels-last [N, C, H, W] nor [N, C], not float32 or bfloat16, not on the CPU).
    fn fused_training(&self, x: &Tensor, mean: &Tensor, variance: &Tensor, relu: bool) -> Result<Option<Tensor>> {
        if !CpuPath::FusedBatchNorm.enabled() {
            return Ok(None);
        }
        let norm = BatchNormRelu {
            gamma: self.gamma.as_ref(),
            beta: self.beta.as_ref(),
            running_mean: mean,
            running_variance: variance,
            momentum: self.momentum,
            epsilon: self.epsilon,
            relu,
        };
        batch_norm_relu(x, &norm).context(&self.name)
    }

    /// `x · gamma + beta`, each where the layer has it (per channel, axis 1).
    fn scale_and_shift(&self, x: Tensor) -> Result<Tensor> {
        let shape: Vec<i64> = (0..x.dim()).map(|axis| if axis == 1 { -1 } else { 1 }).collect();
        let x = match &self.gamma {
            Some(gamma) => x.f_mul(&gamma.f_view(shape.as_slice())?).context(&self.name)?,
            None => x,
        };
        match &self.beta {
            Some(beta) => x.f_add(&beta.f_view(shape.as_slice())?).context(&self.name),
            None => Ok(x),
        }
    }

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

    /// This layer's variables for a convolution to fold into its weights and biases, when it normalizes with the
    /// moving statistics (eval mode, or `is_training` false), in NCHW, and does nothing else (no activation, no
    /// outputs collections).
    pub(crate) fn inference_fold(&self) -> Option<BatchNormFold> {
        let training = self.is_training.unwrap_or_else(|| Mode::current().is_training());
        let plain = self.activation.is_none() && self.outputs.names().is_empty();
        if training || !plain || self.data_format != DataFormat::Nchw {
            return None;
        }
        Some(BatchNormFold {
            gamma: self.gamma.as_ref().map(Tensor::shallow_clone),
            beta: self.beta.as_ref().map(Tensor::shallow_clone),
            mean: self.moving_mean.shallow_clone(),
            variance: self.moving_variance.shallow_clone(),
            epsilon: self.epsilon,
        })
    }

    /// The moving mean and moving variance.
    pub fn moving_statistics(&self) -> (&Tensor, &Tensor) {
        (&self.moving_mean, &self.moving_variance)
    }
}
