//! `dropout`: inverted dropout with TF-Slim's `keep_prob`; the identity in eval mode.

use tch::{Device, Kind, Tensor};

use super::layer_scope::{LayerScope, collect};
use super::protocol::BuildLayer;
use super::types::Collections;
use crate::arg_scope::scope_args;
use crate::backend::CpuPath;
use crate::error::TorchContext;
use crate::mode::Mode;
use crate::model::tape::Layer;
use crate::native;
use crate::variables::VarStore;
use crate::{Error, Result};

scope_args! {
    /// The arguments of [`dropout`](fn@dropout).
    pub struct Args => Options for "dropout" [Call] {
        /// Probability of keeping each element (default 0.5); kept elements are scaled by `1 / keep_prob`.
        keep_prob: f64 = 0.5,
        /// Shape of the keep/drop mask, broadcast over the input (each dimension 1 or the input's); `None` (the
        /// default) draws one decision per element. `[n, c, 1, 1]` drops whole NCHW feature maps.
        noise_shape: Option<Vec<i64>> = None,
        /// Train or eval behaviour; `None` (the default) follows the current [`Mode`].
        is_training: Option<bool> = None,
        /// Collections the output is added to, under the layer's scope name.
        outputs_collections: Collections = Collections::default(),
    }
}

/// Whether slim's parallel hashed generator draws the mask for `x`: on
/// ([`Config::hashed_dropout`](crate::backend::Config::hashed_dropout), on by default), and a float CPU tensor
/// (bfloat16 and half through float32, so mixed precision drops what float32 drops). Otherwise libtorch's serial
/// `bernoulli_` does; either keeps each element with probability `keep_prob` and follows `tch::manual_seed`, but
/// the masks differ.
fn hashed_mask_covers(x: &Tensor) -> bool {
    CpuPath::HashedDropout.enabled()
        && x.device() == Device::Cpu
        && matches!(x.kind(), Kind::Float | Kind::Double | Kind::BFloat16 | Kind::Half)
}

/// Inverted dropout of `x` with slim's hashed mask, whose first element has index `first`; reduced-precision
/// floats are dropped in float32 and cast back.
fn hashed_dropout(x: &Tensor, keep_prob: f64, first: i64) -> tch::Result<Tensor> {
    match x.kind() {
        Kind::BFloat16 | Kind::Half => {
            native::dropout(&x.f_to_kind(Kind::Float)?, keep_prob, first)?.f_to_kind(x.kind())
        }
        _ => native::dropout(x, keep_prob, first),
    }
}

/// An error naming `scope` unless `keep_prob` is in (0, 1] (dropout's and drop path's).
pub(crate) fn check_keep_prob(scope: &str, keep_prob: f64) -> Result<()> {
    match keep_prob > 0.0 && keep_prob <= 1.0 {
        true => Ok(()),
        false => Err(Error::invalid(scope, format!("keep_prob must be in (0, 1], got {keep_prob}"))),
    }
}

/// A call of [`dropout`](fn@dropout) being configured; finish it with [`Call::call`](super::Call::call).
pub type Call = super::Call<Dropout>;

/// TF-Slim's `dropout(inputs, keep_prob=0.5)`; scope `Dropout` (made unique).
pub fn dropout(inputs: &Tensor, keep_prob: f64) -> Call {
    Call::new(inputs, (), Args::default().keep_prob(keep_prob))
}

impl BuildLayer for Dropout {
    type Args = Args;
    type Positional = ();
    const DEFAULT_SCOPE: &'static str = "Dropout";
    const REPEAT_NAME: &'static str = "dropout";

    fn build(scope: &LayerScope, inputs: &Tensor, (): (), args: Args) -> Result<(Self, Tensor)> {
        let o = args.resolve();
        check_keep_prob(&scope.name, o.keep_prob)?;
        let layer = Dropout {
            name: scope.name.clone(),
            keep_prob: o.keep_prob,
            noise_shape: o.noise_shape,
            is_training: o.is_training,
            outputs: o.outputs_collections,
            store: scope.store.clone(),
        };
        let out = layer.forward(inputs)?;
        Ok((layer, out))
    }
}

/// A built dropout layer.
#[derive(Debug)]
pub struct Dropout {
    name: String,
    keep_prob: f64,
    noise_shape: Option<Vec<i64>>,
    is_training: Option<bool>,
    outputs: Collections,
    store: VarStore,
}

impl Layer for Dropout {
    fn name(&self) -> &str {
        &self.name
    }

    /// Drops elements of `x` in train mode; returns `x` unchanged in eval mode.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let training = self.is_training.unwrap_or_else(|| Mode::current().is_training());
        let y = match (&self.noise_shape, training && self.keep_prob < 1.0) {
            (_, false) => x.shallow_clone(),
            (None, true) if hashed_mask_covers(x) => {
                let first = crate::distributed::first_element(x.numel() as i64);
                hashed_dropout(x, self.keep_prob, first).context(&self.name)?
            }
            (None, true) => x.f_dropout(1.0 - self.keep_prob, true).context(&self.name)?,
            (Some(noise_shape), true) => self.drop_with_mask(x, noise_shape)?,
        };
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }
}

impl Dropout {
    /// `x · mask / keep_prob` with one Bernoulli(keep_prob) decision per element of `noise_shape`.
    fn drop_with_mask(&self, x: &Tensor, noise_shape: &[i64]) -> Result<Tensor> {
        let size = x.size();
        let broadcastable = noise_shape.len() == size.len()
            && noise_shape.iter().zip(&size).all(|(noise, dim)| *noise == 1 || noise == dim);
        if !broadcastable {
            return Err(Error::invalid(
                &self.name,
                format!("noise_shape {noise_shape:?} must have one entry, 1 or equal, per input dimension {size:?}"),
            ));
        }
        let mask = Tensor::f_empty(noise_shape, (x.kind(), x.device()))
            .and_then(|mut mask| mask.f_bernoulli_float_(self.keep_prob))
            .context(&self.name)?;
        Ok(x * mask / self.keep_prob)
    }
}
