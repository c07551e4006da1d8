//! `drop_path`: NASNet's per-example dropout of a whole branch (`nasnet_utils.drop_path`), optionally annealed in
//! from no dropping over the first training steps; the identity in eval mode.

use tch::{Kind, Tensor};

use super::dropout::check_keep_prob;
use super::layer_scope::{LayerScope, collect};
use super::protocol::BuildLayer;
use super::types::Collections;
use crate::arg_scope::scope_args;
use crate::error::TorchContext;
use crate::mode::Mode;
use crate::model::tape::Layer;
use crate::variables::{VarStore, get_or_create_global_step};
use crate::{Error, Result};

scope_args! {
    /// The arguments of [`drop_path`](fn@drop_path).
    pub struct Args => Options for "drop_path" [Call] {
        /// Probability of keeping each example's values (default 1: nothing dropped); kept ones are scaled by
        /// `1 / keep_prob`.
        keep_prob: f64 = 1.0,
        /// Anneal the dropping in over this many global steps: at step `s` the keep probability is
        /// `1 − min(1, s / burn_in_steps) · (1 − keep_prob)` (NASNet's `total_training_steps`). `None` (the default)
        /// drops at `keep_prob` from the start. Setting it gets or creates the global step.
        burn_in_steps: Option<i64> = None,
        /// Train or eval behaviour; `None` (the default) follows the current [`Mode`].
        is_training: Option<bool> = None,
        /// Collections the output is added to, under the layer's scope name.
        outputs_collections: Collections = Collections::default(),
    }
}

/// A call of [`drop_path`](fn@drop_path) being configured; finish it with [`Call::call`](super::Call::call).
pub type Call = super::Call<DropPath>;

/// NASNet's `drop_path(inputs, keep_prob)`: in training, each example (the first axis) is kept whole with
/// probability `keep_prob` and scaled by `1 / keep_prob`, or zeroed; scope `DropPath` (made unique). The draw
/// follows `tch::manual_seed`.
pub fn drop_path(inputs: &Tensor, keep_prob: f64) -> Call {
    Call::new(inputs, (), Args::default().keep_prob(keep_prob))
}

impl BuildLayer for DropPath {
    type Args = Args;
    type Positional = ();
    const DEFAULT_SCOPE: &'static str = "DropPath";
    const REPEAT_NAME: &'static str = "drop_path";

    fn build(scope: &LayerScope, inputs: &Tensor, (): (), args: Args) -> Result<(Self, Tensor)> {
        let o = args.resolve();
        check_keep_prob(&scope.name, o.keep_prob)?;
        if let Some(steps) = o.burn_in_steps.filter(|steps| *steps < 1) {
            return Err(Error::invalid(&scope.name, format!("burn_in_steps must be at least 1, got {steps}")));
        }
        let global_step = match (o.burn_in_steps, o.keep_prob < 1.0) {
            (Some(_), true) => Some(get_or_create_global_step()?.tensor().shallow_clone()),
            _ => None,
        };
        let layer = DropPath {
            name: scope.name.clone(),
            keep_prob: o.keep_prob,
            burn_in: o.burn_in_steps.zip(global_step),
            is_training: o.is_training,
            outputs: o.outputs_collections,
            store: scope.store.clone(),
        };
        let out = layer.forward(inputs)?;
        Ok((layer, out))
    }
}

/// A built drop-path layer.
#[derive(Debug)]
pub struct DropPath {
    name: String,
    keep_prob: f64,
    /// The burn-in steps and the global step they count.
    burn_in: Option<(i64, Tensor)>,
    is_training: Option<bool>,
    outputs: Collections,
    store: VarStore,
}

impl DropPath {
    /// The keep probability now, as a scalar tensor on the global step's device: `keep_prob`, annealed by the
    /// global step during the burn-in. Computed on the device, so a step never waits to read the global step.
    fn current_keep_prob(&self) -> tch::Result<Tensor> {
        match &self.burn_in {
            None => Ok(Tensor::from(self.keep_prob)),
            Some((steps, global_step)) => global_step
                .f_to_kind(Kind::Double)?
                .f_div_scalar(*steps as f64)?
                .f_clamp(0.0, 1.0)?
                .f_mul_scalar(self.keep_prob - 1.0)?
                .f_add_scalar(1.0),
        }
    }

    /// `x` with each example kept whole and scaled by `1 / keep`, or zeroed: the mask is `floor(keep + U[0, 1))`.
    fn drop(&self, x: &Tensor) -> tch::Result<Tensor> {
        let keep = self.current_keep_prob()?.f_to_kind(x.kind())?.f_to_device(x.device())?;
        let mask_shape: Vec<i64> = x.size().iter().enumerate().map(|(i, n)| if i == 0 { *n } else { 1 }).collect();
        let mask = Tensor::f_rand(&mask_shape, (x.kind(), x.device()))?.f_add(&keep)?.f_floor()?;
        x.f_div(&keep)?.f_mul(&mask)
    }
}

impl Layer for DropPath {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keeps or zeroes each example of `x` in train mode; returns `x` unchanged in eval mode.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let training = self.is_training.unwrap_or_else(|| Mode::current().is_training());
        let y = match training && self.keep_prob < 1.0 {
            true => self.drop(x).context(&self.name)?,
            false => x.shallow_clone(),
        };
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::drop_path;
    use crate::mode::Mode;
    use crate::variables::{VarStore, get_global_step};

    #[test]
    fn whole_examples_are_kept_and_scaled_or_zeroed() {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        tch::manual_seed(3);
        let x = Tensor::ones([400, 2, 3, 3], (Kind::Float, Device::Cpu));
        let y = drop_path(&x, 0.75).is_training(true).call().unwrap();
        let per_example = y.sum_dim_intlist(&[1i64, 2, 3][..], false, Kind::Float);
        let kept = per_example.gt(0.0).sum(Kind::Int64).int64_value(&[]);
        assert!((260..340).contains(&kept), "about 3/4 of 400 kept, got {kept}");
        let values: Vec<f32> = Vec::try_from(per_example).unwrap();
        assert!(values.iter().all(|v| *v == 0.0 || (v - 24.0).abs() < 1e-4), "18 ones scaled by 4/3, or none");
        let eval = {
            let _eval = Mode::Eval.enter();
            drop_path(&x, 0.5).call().unwrap()
        };
        assert!(eval.equal(&x), "the identity in eval mode");
        assert!(get_global_step().unwrap().is_none(), "no burn-in: no global step");
    }

    #[test]
    fn the_burn_in_anneals_with_the_global_step() {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let x = Tensor::ones([2000, 1], (Kind::Float, Device::Cpu));
        let (layer, y) = drop_path(&x, 0.5).burn_in_steps(100).is_training(true).build().unwrap();
        assert!(y.equal(&x), "step 0: nothing dropped");
        let step = get_global_step().unwrap().unwrap();
        let _step = tch::no_grad(|| step.tensor().shallow_clone().fill_(50));
        let dropped = crate::model::tape::Layer::forward(&layer, &x).unwrap().eq(0.0).sum(Kind::Int64).int64_value(&[]);
        assert!((380..620).contains(&dropped), "step 50 of 100: keep 0.75, about 500 of 2000 dropped, got {dropped}");
        let error = drop_path(&x, 0.5).burn_in_steps(0).call().unwrap_err().to_string();
        assert!(error.contains("burn_in_steps must be at least 1"), "{error}");
        assert!(drop_path(&x, 0.0).call().unwrap_err().to_string().contains("keep_prob must be in (0, 1]"));
    }
}
