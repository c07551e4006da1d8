//! `normalizer_fn`: the normalization a conv or fully connected layer applies in place of its biases.

use tch::Tensor;

use super::activation::Activation;
use super::batch_norm::{self, BatchNorm};
use super::instance_norm::{self, InstanceNorm};
use super::layer_norm::{self, LayerNorm};
use crate::Result;
use crate::backend::fused_convolution::BatchNormFold;
use crate::model::tape::Layer;

/// A normalizer and its explicit parameters (TF-Slim's `normalizer_fn` with `normalizer_params`). The
/// parameters count as call-site arguments: they beat an arg scope over `batch_norm` / `layer_norm`.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // built once per layer, never on a per-step path
pub enum Normalizer {
    /// `batch_norm` with these parameters.
    BatchNorm(batch_norm::Args),
    /// `layer_norm` with these parameters.
    LayerNorm(layer_norm::Args),
    /// `instance_norm` with these parameters (CycleGAN's normalizer).
    InstanceNorm(instance_norm::Args),
}

impl Normalizer {
    /// `batch_norm` with no explicit parameters.
    pub fn batch_norm() -> Self {
        Normalizer::BatchNorm(batch_norm::Args::default())
    }

    /// `layer_norm` with no explicit parameters.
    pub fn layer_norm() -> Self {
        Normalizer::LayerNorm(layer_norm::Args::default())
    }

    /// `instance_norm` with no explicit parameters.
    pub fn instance_norm() -> Self {
        Normalizer::InstanceNorm(instance_norm::Args::default())
    }

    /// Builds the normalizer in the current (layer) scope on `x`, returning it and its output.
    pub(crate) fn build(&self, x: &Tensor) -> Result<(NormalizerLayer, Tensor)> {
        match self {
            Normalizer::BatchNorm(args) => {
                let (layer, y) = batch_norm::Call::new(x, (), args.clone()).build()?;
                Ok((NormalizerLayer::BatchNorm(layer), y))
            }
            Normalizer::LayerNorm(args) => {
                let (layer, y) = layer_norm::Call::new(x, (), args.clone()).build()?;
                Ok((NormalizerLayer::LayerNorm(layer), y))
            }
            Normalizer::InstanceNorm(args) => {
                let (layer, y) = instance_norm::Call::new(x, (), args.clone()).build()?;
                Ok((NormalizerLayer::InstanceNorm(layer), y))
            }
        }
    }
}

/// A built normalizer.
#[derive(Debug)]
pub enum NormalizerLayer {
    /// A batch norm layer.
    BatchNorm(BatchNorm),
    /// A layer norm layer.
    LayerNorm(LayerNorm),
    /// An instance norm layer.
    InstanceNorm(InstanceNorm),
}

impl NormalizerLayer {
    /// The normalizer's variables, when a convolution can fold it (batch norm with its moving statistics; see
    /// `BatchNorm::inference_fold`).
    pub(crate) fn inference_fold(&self) -> Option<BatchNormFold> {
        match self {
            NormalizerLayer::BatchNorm(layer) => layer.inference_fold(),
            NormalizerLayer::LayerNorm(_) | NormalizerLayer::InstanceNorm(_) => None,
        }
    }

    /// Normalizes `x`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            NormalizerLayer::BatchNorm(layer) => layer.forward(x),
            NormalizerLayer::LayerNorm(layer) => layer.forward(x),
            NormalizerLayer::InstanceNorm(layer) => layer.forward(x),
        }
    }

    /// Normalizes `x`, taking `then` (the activation that follows) into the same call where it can (see
    /// `BatchNorm::forward_then`); returns the output and whether `then` is applied in it already.
    pub(crate) fn forward_then(&self, x: &Tensor, then: Option<&Activation>) -> Result<(Tensor, bool)> {
        match self {
            NormalizerLayer::BatchNorm(layer) => layer.forward_then(x, then),
            _ => Ok((self.forward(x)?, false)),
        }
    }
}
