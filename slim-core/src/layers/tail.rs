//! The end of a conv or fully connected layer: normalizer, activation, and publishing the output (or, in
//! inference, what of them a convolution takes into its own call).

use tch::Tensor;

use super::activation::{Activation, apply_activation};
use super::layer_scope::{LayerScope, check_rank, collect};
use super::normalizer::{Normalizer, NormalizerLayer};
use super::types::{Collections, DataFormat};
use crate::Result;
use crate::backend::fused_convolution::{self, Epilogue};
use crate::variables::VarStore;

/// The normalizer, activation and outputs collections that end a layer, as a layer's options give them.
pub(crate) type TailParts<'a> = (Option<&'a Normalizer>, Option<Activation>, Collections);

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
        let (y, activated) = match &self.normalizer {
            Some(normalizer) => normalizer.forward_then(&y, self.activation.as_ref())?,
            None => (y, false),
        };
        let out = if activated { y } else { apply_activation(&self.activation, y) };
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
        check_rank(&self.alias, op, x, &[4])?;
        let y = core(&data_format.view_as_nchw(x))?;
        Ok(data_format.view_from_nchw(self.forward(y)?))
    }

    /// [`Tail::forward_convolution`] for a convolution that can take this tail into its own call: where
    /// `backend::fused_convolution::applies` and the tail is an eval-mode batch norm and/or a ReLU, `fused_core`
    /// runs with that epilogue instead of `core` and the tail, unless it returns `None` (it cannot now).
    pub(crate) fn forward_convolution_fused(
        &self,
        op: &str,
        data_format: DataFormat,
        x: &Tensor,
        core: impl FnOnce(&Tensor) -> Result<Tensor>,
        fused_core: impl FnOnce(&Tensor, &Epilogue) -> Result<Option<Tensor>>,
    ) -> Result<Tensor> {
        check_rank(&self.alias, op, x, &[4])?;
        let x = data_format.view_as_nchw(x);
        if let Some(epilogue) = self.epilogue(&x)
            && let Some(y) = fused_core(&x, &epilogue)?
        {
            let out = if epilogue.relu { y } else { apply_activation(&self.activation, y) };
            collect(&self.store, self.outputs.names(), &self.alias, &out);
            return Ok(data_format.view_from_nchw(out));
        }
        Ok(data_format.view_from_nchw(self.forward(core(&x)?)?))
    }

    /// What of this tail a convolution of `x` can take into its own call now: its batch norm (foldable in eval
    /// mode) and its ReLU; `None` when nothing or not all of the normalizer can be.
    fn epilogue(&self, x: &Tensor) -> Option<Epilogue> {
        if !fused_convolution::applies(x) {
            return None;
        }
        let relu = matches!(self.activation, Some(Activation::Relu));
        let norm = match &self.normalizer {
            Some(normalizer) => Some(normalizer.inference_fold()?),
            None if relu => None,
            None => return None,
        };
        Some(Epilogue { norm, relu })
    }

    /// The layer's full scope name, the alias of its output.
    pub(crate) fn alias(&self) -> &str {
        &self.alias
    }
}
