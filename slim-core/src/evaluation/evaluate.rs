//! `evaluate_once` and `evaluation_loop`: restore a checkpoint, run the metrics over `num_evals` batches (or until
//! the input runs out) in eval mode with the hooks around them, write their values to the eval logdir at the
//! checkpoint's global step, and return them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::hooks::EvaluationHook;
use super::watch::checkpoints_iterator;
use crate::checkpoint::{AssignOptions, VariableMap, assign_from_checkpoint, checkpoint_step, load_variable};
use crate::log_lines::LogLines;
use crate::metrics::MetricMap;
use crate::mode::Mode;
use crate::summary::SummaryWriter;
use crate::variables::VarStore;
use crate::variables::collections::MODEL_VARIABLES;
use crate::{Error, Result};

/// An evaluation being configured: the model's store, its metrics, and where summaries go.
pub struct Evaluation<'a> {
    store: VarStore,
    metrics: &'a mut MetricMap,
    logdir: PathBuf,
    num_evals: Option<usize>,
    variables: Option<VariableMap>,
    hooks: Vec<Box<dyn EvaluationHook + 'a>>,
    timeout_fn: Option<Box<dyn FnMut() -> bool>>,
    log: LogLines<'a>,
}

/// An evaluation of the model in `vs` with `metrics`, writing summaries to `logdir`.
pub fn evaluation<'a>(vs: &VarStore, metrics: &'a mut MetricMap, logdir: impl AsRef<Path>) -> Evaluation<'a> {
    Evaluation {
        store: vs.clone(),
        metrics,
        logdir: logdir.as_ref().to_path_buf(),
        num_evals: Some(1),
        variables: None,
        hooks: Vec::new(),
        timeout_fn: None,
        log: LogLines::default(),
    }
}

impl<'a> Evaluation<'a> {
    /// Batches per evaluation (default 1); fewer when the input runs out first.
    pub fn num_evals(mut self, num_evals: usize) -> Self {
        self.num_evals = Some(num_evals);
        self
    }

    /// Evaluates until the input runs out (the eval step returns [`Error::OutOfRange`]), however many batches
    /// that is: TF-Slim's `num_evals=None` with an input of `num_epochs=1`.
    pub fn until_out_of_range(mut self) -> Self {
        self.num_evals = None;
        self
    }

    /// Adds a hook run around each checkpoint's evaluation (TF's `hooks`), after those added before.
    pub fn hook(mut self, hook: impl EvaluationHook + 'a) -> Self {
        self.hooks.push(Box::new(hook));
        self
    }

    /// Called by [`evaluation_loop`](Evaluation::evaluation_loop) each time its timeout passes without a new
    /// checkpoint: `true` stops the loop, `false` keeps waiting (TF's `timeout_fn`).
    pub fn timeout_fn(mut self, timeout_fn: impl FnMut() -> bool + 'static) -> Self {
        self.timeout_fn = Some(Box::new(timeout_fn));
        self
    }

    /// What to restore (default: the model variables under their own names). A map such as
    /// `VariableMap::renamed(vars, |n| format!("{n}/ExponentialMovingAverage"))` restores moving-average shadows
    /// into the model.
    pub fn variables_to_restore(mut self, variables: impl Into<VariableMap>) -> Self {
        self.variables = Some(variables.into());
        self
    }

    /// Sends log lines to `sink` instead of standard error.
    pub fn log_to(mut self, sink: impl FnMut(&str) + 'a) -> Self {
        self.log.redirect(sink);
        self
    }

    fn say(&mut self, line: &str) {
        self.log.say(line);
    }

    /// TF-Slim's `evaluate_once`: restores `checkpoint`, resets the metrics, runs `eval_step(i, metrics)` for
    /// `i` in `0..num_evals` in eval mode without autograd (it runs the model on a batch and updates the metrics;
    /// as in TF-Slim, no gradients are built) with the hooks around it, writes each metric's final value as a summary at the checkpoint's global step, and returns the
    /// values. An eval step returning [`Error::OutOfRange`] ends the batches there (the input ran out), as does
    /// a hook's [`ControlFlow::Break`](std::ops::ControlFlow::Break); the values are then those of the batches
    /// before.
    pub fn evaluate_once(
        &mut self,
        checkpoint: &Path,
        mut eval_step: impl FnMut(usize, &mut MetricMap) -> Result<()>,
    ) -> Result<Vec<(String, f64)>> {
        let variables = self.variables.clone().unwrap_or_else(|| self.store.collection(MODEL_VARIABLES).into());
        assign_from_checkpoint(checkpoint, variables, AssignOptions::default())?;
        let step = global_step_of(checkpoint);
        self.metrics.reset();
        for hook in &mut self.hooks {
            hook.begin(checkpoint, step)?;
        }
        let batches = {
            let _store = self.store.as_default();
            let _mode = Mode::Eval.enter();
            tch::no_grad(|| self.run_batches(&mut eval_step))?
        };
        let values = self.metrics.values();
        for hook in &mut self.hooks {
            hook.end(&values)?;
        }
        let mut writer = SummaryWriter::new(&self.logdir)?;
        let scalars: Vec<(&str, f64)> = values.iter().map(|(name, value)| (name.as_str(), *value)).collect();
        writer.add_scalars(&scalars, step)?;
        writer.flush()?;
        let shown: Vec<String> = values.iter().map(|(name, value)| format!("{name} = {value:.4}")).collect();
        let (path, shown) = (checkpoint.display(), shown.join(", "));
        self.say(&format!("evaluated {path} (global step {step}, {batches} batches): {shown}"));
        Ok(values)
    }

    /// Runs the eval steps until `num_evals`, the end of the input or a hook's stop; returns how many ran.
    fn run_batches(&mut self, eval_step: &mut impl FnMut(usize, &mut MetricMap) -> Result<()>) -> Result<usize> {
        let mut index = 0;
        while self.num_evals.is_none_or(|num_evals| index < num_evals) {
            match eval_step(index, self.metrics) {
                Ok(()) => {}
                Err(Error::OutOfRange(_)) => break,
                Err(other) => return Err(other),
            }
            index += 1;
            let mut stop = false;
            for hook in &mut self.hooks {
                stop |= hook.after_batch(index - 1, self.metrics)?.is_break();
            }
            if stop {
                break;
            }
        }
        Ok(index)
    }

    /// TF-Slim's `evaluation_loop`: evaluates each new checkpoint of `dir` as training writes it, at least
    /// `eval_interval` apart, until `max_evaluations` (if given) or until no new checkpoint comes within
    /// `timeout` (and the [`timeout_fn`](Evaluation::timeout_fn), if any, agrees). A checkpoint that cannot be read (training's `max_to_keep` removed it, or it is damaged) is
    /// skipped with a log line. Returns the last values, or `None` when nothing was evaluated.
    pub fn evaluation_loop(
        &mut self,
        dir: &Path,
        eval_interval: Duration,
        timeout: Option<Duration>,
        max_evaluations: Option<usize>,
        mut eval_step: impl FnMut(usize, &mut MetricMap) -> Result<()>,
    ) -> Result<Option<Vec<(String, f64)>>> {
        let mut last = None;
        let mut evaluations = 0;
        let mut checkpoints = checkpoints_iterator(dir, eval_interval, timeout);
        if let Some(timeout_fn) = self.timeout_fn.take() {
            checkpoints = checkpoints.timeout_fn(timeout_fn);
        }
        for checkpoint in checkpoints {
            let checkpoint = checkpoint?;
            match self.evaluate_once(&checkpoint, &mut eval_step) {
                Ok(values) => last = Some(values),
                Err(Error::Io { message, .. }) => {
                    self.say(&format!("skipped {}: {message}", checkpoint.display()));
                    continue;
                }
                Err(other) => return Err(other),
            }
            evaluations += 1;
            if max_evaluations.is_some_and(|max| evaluations >= max) {
                break;
            }
        }
        if last.is_none() {
            self.say(&format!("no checkpoint to evaluate appeared in {}", dir.display()));
        }
        Ok(last)
    }
}

/// The checkpoint's global step: its `global_step` entry, else the step in its name, else 0.
fn global_step_of(checkpoint: &Path) -> i64 {
    load_variable(checkpoint, "global_step")
        .ok()
        .and_then(|step| step.f_int64_value(&[]).ok())
        .or_else(|| checkpoint_step(checkpoint))
        .unwrap_or(0)
}
