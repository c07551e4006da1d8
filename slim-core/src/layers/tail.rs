//! The end of a conv or fully connected layer: normalizer, activation, and publishing the output.

use tch::Tensor;

use super::activation::{Activation, apply_activation};
use super::layer_scope::{LayerScope, check_rank, collect};
use super::normalizer::{Normalizer, NormalizerLayer};
use super::types::{Collections, DataFormat};
use crate::Result;
use crate::variables::VarStore;

/// Normalizer (built in the layer's scope), activation, and the outputs collections with the layer's alias.
#[derive(Debug)]
pub(crate) struct Tail {
    normalizer: Option<NormalizerLayer>,
    activation: Option<Activation>,
    outputs: Collections,
    alias: String,
    store: VarStore,
}

impl Tail {
    /// Builds the tail inside the open `scope` and applies it to `y`.
    pub(crate) fn build(
        scope: &LayerScope,
        normalizer: Option<&Normalizer>,
        activation: Option<Activation>,
        outputs: Collections,
        y: Tensor,
    ) -> Result<(Tail, Tensor)> {
        let (normalizer, y) = match normalizer {
            Some(normalizer) => {
                let (layer, y) = normalizer.build(&y)?;
                (Some(layer), y)
            }
            None => (None, y),
        };
        let tail = Tail { normalizer, activation, outputs, alias: scope.name.clone(), store: scope.store.clone() };
        let out = apply_activation(&tail.activation, y);
        collect(&tail.store, tail.outputs.names(), &tail.alias, &out);
        Ok((tail, out))
    }

    /// Applies normalizer and activation to `y` and publishes the result.
    pub(crate) fn forward(&self, y: Tensor) -> Result<Tensor> {
        let y = match &self.normalizer {
            Some(normalizer) => normalizer.forward(&y)?,
            None => y,
        };
        let out = apply_activation(&self.activation, y);
        collect(&self.store, self.outputs.names(), &self.alias, &out);
        Ok(out)
    }

    /// A convolution's forward pass around this tail: `x` checked to be rank 4 (`op` names the layer in the
    /// error), viewed as NCHW for `core`, then normalizer, activation and outputs, and the layout back.
    pub(crate) fn forward_convolution(
        &self,
        op: &str,
        data_format: DataFormat,
        x: &Tensor,
        core: impl FnOnce(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        self.forward_convolution_fusing_relu(op, data_format, x, core, |_| Ok(None))
    }

    /// [`Tail::forward_convolution`] for a convolution that can apply a ReLU itself: when this tail is a ReLU
    /// alone, `relu_core` runs instead of `core` and the tail, unless it returns `None` (it cannot now).
    pub(crate) fn forward_convolution_fusing_relu(
        &self,
        op: &str,
        data_format: DataFormat,
        x: &Tensor,
        core: impl FnOnce(&Tensor) -> Result<Tensor>,
        relu_core: impl FnOnce(&Tensor) -> Result<Option<Tensor>>,
    ) -> Result<Tensor> {
        check_rank(&self.alias, op, x, &[4])?;
        let x = data_format.view_as_nchw(x);
        let relu_alone = self.normalizer.is_none() && matches!(self.activation, Some(Activation::Relu));
        if relu_alone && let Some(out) = relu_core(&x)? {
            collect(&self.store, self.outputs.names(), &self.alias, &out);
            return Ok(data_format.view_from_nchw(out));
        }
        Ok(data_format.view_from_nchw(self.forward(core(&x)?)?))
    }

    /// The layer's full scope name, the alias of its output.
    pub(crate) fn alias(&self) -> &str {
        &self.alias
    }
}
