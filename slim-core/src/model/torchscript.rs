//! Deployment export: a built model traced to TorchScript, which PyTorch's `torch.jit.load` and tch's
//! `CModule` load and run without slim (TF-Slim's `export_inference_graph` + `freeze_graph` in one file).

use std::path::Path;

use tch::{CModule, Tensor};

use super::built::{Built, Model};
use crate::backend::Config;
use crate::learning::MOVING_AVERAGE_SUFFIX;
use crate::mode::Mode;
use crate::variables::Variable;
use crate::{Error, Result};

/// How [`Built::export_torchscript_with`] traces the model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TorchScriptOptions {
    /// Trace with each variable's moving average (its `<name>/ExponentialMovingAverage` variable, as
    /// [`ExponentialMovingAverage`](crate::learning::ExponentialMovingAverage) keeps them, or as a checkpoint
    /// restored them) in place of its value, as TF-Slim evaluates with `--moving_average_decay`. Variables
    /// without an average keep their value; the variables get their own values back afterwards.
    pub moving_averages: bool,
    /// The module serves the example's batch size only (TF-Slim's `--batch_size`). Off (the default), the export
    /// checks that the module also computes the model's output for a batch of another size, and refuses a
    /// model whose forward pass fixes its batch.
    pub fixed_batch: bool,
    /// Replace a file at the path; without it an existing file is refused and left as it is.
    pub overwrite: bool,
}

/// Largest difference between the traced module's output and the model's, relative to the output's largest
/// magnitude (at least 1), that still counts as the same output.
const TOLERANCE: f64 = 1e-5;

impl<M: Model> Built<M> {
    /// [`export_torchscript_with`](Built::export_torchscript_with) with the default options: the model in eval
    /// mode, its current values, a batch of any size.
    pub fn export_torchscript(&self, path: impl AsRef<Path>, example: &Tensor) -> Result<()> {
        self.export_torchscript_with(path, example, TorchScriptOptions::default())
    }

    /// Traces the model's eval-mode forward pass on `example` into a TorchScript module saved at `path`
    /// (atomically): one `forward(input) -> output` method whose weights are the variables' values now (or their
    /// moving averages, when asked), run by `torch.jit.load(path)` in Python and `tch::CModule::load(path)` in
    /// Rust. slim's own CPU kernels (the oneDNN dense route, the summed bias gradient, hashed dropout, the fused
    /// convolution and ReLU) are switched off for the trace, so the module holds plain ATen operations only.
    ///
    /// Before the file is moved into place the saved module is loaded back and run on the example mirrored
    /// along its last axis, and (unless `fixed_batch`) on a batch of twice the example's size, against the model
    /// itself: a forward pass whose result depends on something the trace fixes — control flow on tensor
    /// values, sizes read in Rust — is an error naming the largest difference, and nothing is written.
    pub fn export_torchscript_with(
        &self,
        path: impl AsRef<Path>,
        example: &Tensor,
        options: TorchScriptOptions,
    ) -> Result<()> {
        let path = path.as_ref();
        if path.exists() && !options.overwrite {
            return Err(Error::Io {
                path: path.display().to_string(),
                message: "exists already; export_torchscript replaces a file only with `overwrite`".into(),
            });
        }
        let _averages = match options.moving_averages {
            true => Some(SwappedAverages::enter(self.variables(), self.store())?),
            false => None,
        };
        let _constants = FrozenVariables::enter(self.store().variables());
        let plain = Config {
            onednn_dense: Some(false),
            summed_bias_gradient: Some(false),
            hashed_dropout: Some(false),
            fused_convolution: Some(false),
            kept_weights: Some(false),
            fused_batch_norm: Some(false),
            max_pool_kernel: Some(false),
            fused_l2_loss: Some(false),
            tiled_dense: Some(false),
            lrn_kernel: Some(false),
            ..Config::default()
        };
        plain.scoped(|| {
            let module = tch::no_grad(|| self.trace(example))?;
            crate::io::write_atomically(path, |staging| {
                module.save(staging).map_err(|e| Error::Io {
                    path: path.display().to_string(),
                    message: format!("cannot save the traced module: {e}"),
                })?;
                tch::no_grad(|| self.check_trace(staging, example, options.fixed_batch))
            })
        })
    }

    /// The module `forward` traced from one eval-mode forward pass on `example`.
    fn trace(&self, example: &Tensor) -> Result<CModule> {
        let mut outcome: Result<()> = Ok(());
        let mut run = |inputs: &[Tensor]| {
            let output = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.forward_t(&inputs[0], Mode::Eval).map(|out| out.output)
            }));
            match output {
                Ok(Ok(output)) => vec![output],
                Ok(Err(error)) => {
                    outcome = Err(error);
                    Vec::new()
                }
                Err(_) => {
                    outcome = Err(Error::invalid(self.scope_label(), "the forward pass panicked while being traced"));
                    Vec::new()
                }
            }
        };
        let module = CModule::create_by_tracing(M::NAME, "forward", &[example.shallow_clone()], &mut run);
        outcome?;
        module.map_err(|e| Error::invalid(self.scope_label(), format!("cannot trace the forward pass: {e}")))
    }

    /// Loads the module saved at `saved` and compares its outputs with the model's on inputs other than the
    /// example: the example mirrored along its last axis, and (unless `fixed_batch`) a batch of twice its size.
    fn check_trace(&self, saved: &Path, example: &Tensor, fixed_batch: bool) -> Result<()> {
        let module = CModule::load_on_device(saved, example.device())
            .map_err(|e| Error::invalid(saved.display().to_string(), format!("cannot load the saved module: {e}")))?;
        let mirrored = example.f_flip([-1])?;
        let mut checks = vec![("the example mirrored", mirrored.shallow_clone())];
        if !fixed_batch {
            checks.push(("a batch of twice the example's size", Tensor::f_cat(&[example, &mirrored], 0)?));
        }
        for (what, input) in checks {
            let expected = self.forward_t(&input, Mode::Eval)?.output;
            let traced = module.forward_ts(&[&input]);
            let difference = traced.as_ref().ok().and_then(|traced| relative_difference(traced, &expected));
            if difference.is_none_or(|difference| difference > TOLERANCE) {
                let found = match (&traced, difference) {
                    (Err(e), _) => format!("the module failed: {e}"),
                    (Ok(_), Some(difference)) => format!("outputs differ by {difference:.3e} (relative)"),
                    (Ok(traced), None) => format!("output of shape {:?}, not {:?}", traced.size(), expected.size()),
                };
                let hint = match fixed_batch {
                    true => "",
                    false => " (a module for one batch size: `fixed_batch`)",
                };
                return Err(Error::invalid(
                    self.scope_label(),
                    format!(
                        "the traced module does not compute the model on {what}: {found}; the forward pass depends \
                         on something the trace fixed (control flow on tensor values, sizes read in Rust){hint}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `max |a − b| / max(1, max |b|)`, or `None` when the shapes differ.
fn relative_difference(a: &Tensor, b: &Tensor) -> Option<f64> {
    if a.size() != b.size() {
        return None;
    }
    let scale = b.f_abs().ok()?.f_max().ok()?.double_value(&[]).max(1.0);
    let difference = (a - b).f_abs().ok()?.f_max().ok()?.double_value(&[]);
    Some(difference / scale)
}

/// The variables' `requires_grad` turned off while the trace captures them as constants (the tracer refuses a
/// constant that requires a gradient); turned back on when dropped.
struct FrozenVariables {
    restore: Vec<Tensor>,
}

impl FrozenVariables {
    fn enter(variables: Vec<Variable>) -> Self {
        let restore = variables
            .iter()
            .filter(|variable| variable.tensor().requires_grad())
            .map(|variable| variable.tensor().set_requires_grad(false))
            .collect();
        FrozenVariables { restore }
    }
}

impl Drop for FrozenVariables {
    fn drop(&mut self) {
        for tensor in &self.restore {
            let _ = tensor.set_requires_grad(true);
        }
    }
}

/// Each variable's moving average copied into it, its own value copied back when dropped.
struct SwappedAverages {
    saved: Vec<(Tensor, Tensor)>,
}

impl SwappedAverages {
    fn enter(variables: Vec<Variable>, store: &crate::variables::VarStore) -> Result<Self> {
        let mut saved = Vec::new();
        tch::no_grad(|| -> Result<()> {
            for variable in variables {
                let Some(average) = store.variable(&format!("{}/{MOVING_AVERAGE_SUFFIX}", variable.name())) else {
                    continue;
                };
                let mut target = variable.tensor().shallow_clone();
                saved.push((target.shallow_clone(), target.f_detach_copy()?));
                target.f_copy_(average.tensor())?;
            }
            Ok(())
        })?;
        if saved.is_empty() {
            return Err(Error::NotFound(format!(
                "moving averages were asked for, but no variable of the model has one (`<name>/{MOVING_AVERAGE_SUFFIX}`): \
                 create them with ExponentialMovingAverage or restore them from a checkpoint first"
            )));
        }
        Ok(SwappedAverages { saved })
    }
}

impl Drop for SwappedAverages {
    fn drop(&mut self) {
        tch::no_grad(|| {
            for (target, original) in &mut self.saved {
                let _ = target.f_copy_(original);
            }
        });
    }
}
