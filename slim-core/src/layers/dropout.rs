//! `dropout`: inverted dropout with TF-Slim's `keep_prob`; the identity in eval mode.

use tch::Tensor;

use super::layer_scope::{self, collect};
use super::repeat::layer_call;
use super::types::Collections;
use crate::arg_scope::scope_args;
use crate::error::TorchContext;
use crate::mode::Mode;
use crate::variables::VarStore;
use crate::{Error, Result};

scope_args! {
    /// The arguments of [`dropout`].
    pub struct DropoutArgs => DropoutOptions for "dropout" [DropoutCall] {
        /// Probability of keeping each element (default 0.5); kept elements are scaled by `1 / keep_prob`.
        keep_prob: f64 = 0.5,
        /// Train or eval behaviour; `None` (the default) follows the current [`Mode`].
        is_training: Option<bool> = None,
        /// Collections the output is added to, under the layer's scope name.
        outputs_collections: Collections = Collections::default(),
    }
}

/// A call of [`dropout`] being configured; finish it with [`DropoutCall::call`].
#[derive(Debug)]
pub struct DropoutCall {
    inputs: Tensor,
    args: DropoutArgs,
    scope: Option<String>,
}

layer_call!(DropoutCall, DropoutArgs, default_scope: "Dropout", repeat_name: "dropout", no_reuse);

/// TF-Slim's `dropout(inputs, keep_prob=0.5)`; scope `Dropout` (made unique).
pub fn dropout(inputs: &Tensor, keep_prob: f64) -> DropoutCall {
    DropoutCall { inputs: inputs.shallow_clone(), args: DropoutArgs::default().keep_prob(keep_prob), scope: None }
}

impl DropoutCall {
    /// Builds the layer and applies it; returns the layer and the output.
    pub fn build(self) -> Result<(Dropout, Tensor)> {
        let o = self.args.resolve_in_scope();
        let scope = layer_scope::open(self.scope.as_deref(), "Dropout", false)?;
        if !(o.keep_prob > 0.0 && o.keep_prob <= 1.0) {
            return Err(Error::invalid(&scope.name, format!("keep_prob must be in (0, 1], got {}", o.keep_prob)));
        }
        let layer = Dropout {
            name: scope.name.clone(),
            keep_prob: o.keep_prob,
            is_training: o.is_training,
            outputs: o.outputs_collections,
            store: scope.store.clone(),
        };
        let out = layer.forward(&self.inputs)?;
        Ok((layer, out))
    }
}

/// A built dropout layer.
#[derive(Debug)]
pub struct Dropout {
    name: String,
    keep_prob: f64,
    is_training: Option<bool>,
    outputs: Collections,
    store: VarStore,
}

impl Dropout {
    /// Drops elements of `x` in train mode; returns `x` unchanged in eval mode.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let training = self.is_training.unwrap_or_else(|| Mode::current().is_training());
        let y = if training && self.keep_prob < 1.0 {
            x.f_dropout(1.0 - self.keep_prob, true).context(&self.name)?
        } else {
            x.shallow_clone()
        };
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }

    /// The layer's full scope name.
    pub fn name(&self) -> &str {
        &self.name
    }
}
