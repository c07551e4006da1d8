//! `evaluate_once` and `evaluation_loop`: restore a checkpoint, run the metrics over `num_evals` batches in eval
//! mode, write their values to the eval logdir at the checkpoint's global step, and return them.

use std::path::{Path, PathBuf};
use std::time::Duration;

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
    num_evals: usize,
    variables: Option<VariableMap>,
    log: LogLines<'a>,
}

/// An evaluation of the model in `vs` with `metrics`, writing summaries to `logdir`.
pub fn evaluation<'a>(vs: &VarStore, metrics: &'a mut MetricMap, logdir: impl AsRef<Path>) -> Evaluation<'a> {
    Evaluation {
        store: vs.clone(),
        metrics,
        logdir: logdir.as_ref().to_path_buf(),
        num_evals: 1,
        variables: None,
        log: LogLines::default(),
    }
}

impl<'a> Evaluation<'a> {
    /// Batches per evaluation (default 1).
    pub fn num_evals(mut self, num_evals: usize) -> Self {
        self.num_evals = num_evals;
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
    /// `i` in `0..num_evals` in eval mode (it runs the model on a batch and updates the metrics), writes each
    /// metric's final value as a summary at the checkpoint's global step, and returns the values.
    pub fn evaluate_once(
        &mut self,
        checkpoint: &Path,
        mut eval_step: impl FnMut(usize, &mut MetricMap) -> Result<()>,
    ) -> Result<Vec<(String, f64)>> {
        let variables = self.variables.clone().unwrap_or_else(|| self.store.collection(MODEL_VARIABLES).into());
        assign_from_checkpoint(checkpoint, variables, AssignOptions::default())?;
        let step = global_step_of(checkpoint);
        self.metrics.reset();
        {
            let _store = self.store.as_default();
            let _mode = Mode::Eval.enter();
            for i in 0..self.num_evals {
                eval_step(i, self.metrics)?;
            }
        }
        let values = self.metrics.values();
        let mut writer = SummaryWriter::new(&self.logdir)?;
        let scalars: Vec<(&str, f64)> = values.iter().map(|(name, value)| (name.as_str(), *value)).collect();
        writer.add_scalars(&scalars, step)?;
        writer.flush()?;
        let shown: Vec<String> = values.iter().map(|(name, value)| format!("{name} = {value:.4}")).collect();
        self.say(&format!("evaluated {} (global step {step}): {}", checkpoint.display(), shown.join(", ")));
        Ok(values)
    }

    /// TF-Slim's `evaluation_loop`: evaluates each new checkpoint of `dir` as training writes it, at least
    /// `eval_interval` apart, until `max_evaluations` (if given) or until no new checkpoint comes within
    /// `timeout`. A checkpoint that cannot be read (training's `max_to_keep` removed it, or it is damaged) is
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
        for checkpoint in checkpoints_iterator(dir, eval_interval, timeout) {
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
