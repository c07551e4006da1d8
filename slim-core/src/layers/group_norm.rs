//! `group_norm`: normalization over groups of channels and the spatial axes of each example (TF-Slim's
//! `group_norm`, Wu & He 2018); with one group per channel it is instance normalization.

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

scope_args! {
    /// The arguments of [`group_norm`](fn@group_norm).
    pub struct Args => Options for "group_norm" [Call] {
        /// How many groups the channels are split into (default 32); it must divide the channels.
        groups: i64 = 32,
        /// The channels' axis (default 1, slim's NCHW; TF-Slim's default -1 is its NHWC channel axis).
        channels_axis: i64 = 1,
        /// The axes normalized over besides each group's channels (default the last two, the spatial axes of
        /// NCHW; TF-Slim's `(-3, -2)` are NHWC's).
        reduction_axes: Vec<i64> = vec![-2, -1],
        /// Add the learned offset `beta` (default true).
        center: bool = true,
        /// Multiply by the learned `gamma` (default true).
        scale: bool = true,
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

/// A call of [`group_norm`](fn@group_norm) being configured; finish it with [`Call::call`](super::Call::call).
pub type Call = super::Call<GroupNorm>;

/// TF-Slim's `group_norm(inputs, …)`; scope `GroupNorm`, variables `beta` and `gamma` of `[channels]`.
pub fn group_norm(inputs: &Tensor) -> Call {
    Call::new(inputs, (), Args::default())
}

impl BuildLayer for GroupNorm {
    type Args = Args;
    type Positional = ();
    const DEFAULT_SCOPE: &'static str = "GroupNorm";
    const REPEAT_NAME: &'static str = "group_norm";

    fn build(scope: &LayerScope, inputs: &Tensor, (): (), args: Args) -> Result<(Self, Tensor)> {
        let o = args.resolve();
        let plan = GroupPlan::new(&scope.name, &inputs.size(), o.groups, o.channels_axis, &o.reduction_axes)?;
        let settings = NormSettings {
            center_scale: (o.center, o.scale),
            epsilon: o.epsilon,
            activation: o.activation_fn,
            trainable: o.trainable,
            variables_collections: o.variables_collections,
            outputs_collections: o.outputs_collections,
        };
        let layer = GroupNorm::new(scope, plan, settings)?;
        let out = layer.forward(inputs)?;
        Ok((layer, out))
    }
}

/// What group and instance norm share beyond their grouping: the options TF-Slim gives both.
pub(crate) struct NormSettings {
    pub(crate) center_scale: (bool, bool),
    pub(crate) epsilon: f64,
    pub(crate) activation: Option<Activation>,
    pub(crate) trainable: bool,
    pub(crate) variables_collections: Collections,
    pub(crate) outputs_collections: Collections,
}

impl GroupNorm {
    /// The layer normalizing as `plan` groups, its `beta` and `gamma` got or created in `scope`.
    pub(crate) fn new(scope: &LayerScope, plan: GroupPlan, settings: NormSettings) -> Result<Self> {
        let (trainable, collections) = (settings.trainable, &settings.variables_collections);
        let (beta, gamma) = norm_params(plan.channels(), settings.center_scale, trainable, collections)?;
        Ok(GroupNorm {
            name: scope.name.clone(),
            plan,
            beta,
            gamma,
            epsilon: settings.epsilon,
            activation: settings.activation,
            outputs: settings.outputs_collections,
            store: scope.store.clone(),
        })
    }
}

impl HasVariables for GroupNorm {}

/// Gets or creates `beta` (zeros, when `center`) and `gamma` (ones, when `scale`) of `[channels]` in the current
/// (layer) scope.
fn norm_params(
    channels: i64,
    (center, scale): (bool, bool),
    trainable: bool,
    collections: &Collections,
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let param = |short: &str, initializer: Initializer| {
        let spec = ParamSpec { initializer: &initializer, regularizer: None, trainable, collections };
        model_param(short, &[channels], &spec, None)
    };
    let beta = center.then(|| param("beta", Initializer::Zeros)).transpose()?;
    let gamma = scale.then(|| param("gamma", Initializer::Ones)).transpose()?;
    Ok((beta, gamma))
}

/// How an input of one shape is grouped: the channel axis split into `[groups, channels / groups]`, and the axes
/// of that grouped view the moments are taken over.
#[derive(Debug)]
pub(crate) struct GroupPlan {
    shape: Vec<i64>,
    channels_axis: usize,
    groups: i64,
    moments_axes: Vec<i64>,
}

impl GroupPlan {
    /// The plan for inputs of `shape`, or an error naming `scope` for axes outside the rank, a reduction over the
    /// channel or batch axis, or `groups` that do not divide the channels.
    pub(crate) fn new(scope: &str, shape: &[i64], groups: i64, channels_axis: i64, reduction: &[i64]) -> Result<Self> {
        let rank = shape.len() as i64;
        let axis = |a: i64| if a < 0 { a + rank } else { a };
        let channels_axis = axis(channels_axis);
        let reduction: Vec<i64> = reduction.iter().map(|&a| axis(a)).collect();
        let bad = |message: String| Err(Error::invalid(scope, message));
        if rank < 2 || !(1..rank).contains(&channels_axis) {
            return bad(format!("channels_axis must be a non-batch axis of the input, got shape {shape:?}"));
        }
        if reduction.iter().any(|&a| !(1..rank).contains(&a) || a == channels_axis) {
            return bad(format!("reduction_axes must be non-batch, non-channel axes of shape {shape:?}"));
        }
        let channels = shape[channels_axis as usize];
        if groups < 1 || groups > channels || channels % groups != 0 {
            return bad(format!("invalid groups {groups} for {channels} channels: they must divide the channels"));
        }
        // In the grouped view the channel axis becomes [groups, channels / groups]: later axes move one on.
        let moved = |a: i64| if a > channels_axis { a + 1 } else { a };
        let mut moments_axes: Vec<i64> = reduction.iter().map(|&a| moved(a)).collect();
        moments_axes.push(channels_axis + 1);
        Ok(GroupPlan { shape: shape.to_vec(), channels_axis: channels_axis as usize, groups, moments_axes })
    }

    /// The channels of the planned inputs.
    pub(crate) fn channels(&self) -> i64 {
        self.shape[self.channels_axis]
    }

    /// `x` normalized per example and group: `(x − mean) / √(var + ε)` with the biased variance, then `gamma` and
    /// `beta` per channel. `x` must have the planned rank and channels (another batch or spatial size is fine).
    pub(crate) fn normalize(
        &self,
        scope: &str,
        x: &Tensor,
        epsilon: f64,
        affine: (Option<&Tensor>, Option<&Tensor>),
    ) -> Result<Tensor> {
        let shape = x.size();
        if shape.len() != self.shape.len() || shape[self.channels_axis] != self.channels() {
            return Err(Error::invalid(
                scope,
                format!("expects inputs of rank {} with {} channels, got {shape:?}", self.shape.len(), self.channels()),
            ));
        }
        let mut grouped_shape = shape.clone();
        grouped_shape.splice(self.channels_axis..=self.channels_axis, [self.groups, self.channels() / self.groups]);
        let per_channel: Vec<i64> =
            (0..shape.len()).map(|a| if a == self.channels_axis { self.channels() } else { 1 }).collect();
        let compute = || -> tch::Result<Tensor> {
            let grouped = x.f_reshape(grouped_shape.as_slice())?;
            let (variance, mean) = grouped.f_var_mean_correction(Some(self.moments_axes.as_slice()), 0, true)?;
            let normalized = grouped.f_sub(&mean)?.f_mul(&variance.f_add_scalar(epsilon)?.f_rsqrt()?)?;
            let mut y = normalized.f_reshape(shape.as_slice())?;
            if let Some(gamma) = affine.1 {
                y = y.f_mul(&gamma.f_view(per_channel.as_slice())?)?;
            }
            if let Some(beta) = affine.0 {
                y = y.f_add(&beta.f_view(per_channel.as_slice())?)?;
            }
            Ok(y)
        };
        compute().context(scope)
    }
}

/// A built `group_norm` layer.
#[derive(Debug)]
pub struct GroupNorm {
    name: String,
    plan: GroupPlan,
    beta: Option<Tensor>,
    gamma: Option<Tensor>,
    epsilon: f64,
    activation: Option<Activation>,
    outputs: Collections,
    store: VarStore,
}

impl Layer for GroupNorm {
    fn name(&self) -> &str {
        &self.name
    }

    /// Normalizes `x` per example over each group of channels and the reduction axes.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = self.plan.normalize(&self.name, x, self.epsilon, (self.beta.as_ref(), self.gamma.as_ref()))?;
        let y = apply_activation(&self.activation, y);
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }
}
