//! `learning::train`: TF-Slim's training loop. It restores the latest checkpoint of the logdir that restores
//! (falling back past the others, and refusing to start afresh over a logdir where none does) or else runs
//! `init_fn`; runs the train op until `number_of_steps`; logs, writes
//! summaries and checkpoints on schedule; saves a final checkpoint; and stops cleanly when its stop flag is set
//! (Ctrl-C, for programs that ask: `learning::ctrl_c_flag`).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tch::Tensor;

use super::{StepSummaries, TrainOp};
use crate::checkpoint::{
    Format, RestoreReport, Saver, checkpoint_metadata, checkpoints_newest_first, restore, set_aside,
};
use crate::data::{DataPosition, Position};
use crate::io::write_atomically;
use crate::log_lines::LogLines;
use crate::losses::get_losses;
use crate::native::StepTrace;
use crate::summary::SummaryWriter;
use crate::variables::VarStore;
use crate::{Error, Result, TorchContext};

/// A schedule by time and/or steps: due when either has passed since the last time.
#[derive(Clone, Copy, Debug)]
struct Every {
    seconds: Option<f64>,
    steps: Option<i64>,
}

impl Every {
    fn due(&self, since: Instant, last_step: i64, step: i64) -> bool {
        self.seconds.is_some_and(|s| since.elapsed().as_secs_f64() >= s)
            || self.steps.is_some_and(|n| step - last_step >= n)
    }
}

type InitFn<'a> = Box<dyn FnOnce(&VarStore) -> Result<()> + 'a>;
type Validation<'a> = Box<dyn FnMut(i64) -> Result<Vec<(String, f64)>> + 'a>;

/// The training loop being configured; run it with [`Train::run`].
pub struct Train<'a, F: FnMut(i64) -> Result<Tensor>> {
    train_op: &'a mut TrainOp,
    logdir: PathBuf,
    step_fn: F,
    number_of_steps: Option<i64>,
    log_every_n_steps: i64,
    save: Every,
    summaries: Every,
    init_fn: Option<InitFn<'a>>,
    max_to_keep: usize,
    seed: Option<i64>,
    validation: Option<(i64, Validation<'a>)>,
    log: LogLines<'a>,
    summarize_variables: bool,
    stop: Option<Arc<AtomicBool>>,
    fresh_start_if_unrestorable: bool,
    data_position: Option<DataPosition>,
    checkpoint_format: Format,
    step_summaries: Option<StepSummaries>,
    trace_every_n_steps: Option<i64>,
}

/// TF-Slim's `learning.train`: `step_fn(global_step)` runs one forward pass and returns the total loss (see
/// `get_total_loss`); the train op does the rest. Configure, then [`Train::run`].
pub fn train<'a, F: FnMut(i64) -> Result<Tensor>>(
    train_op: &'a mut TrainOp,
    logdir: impl AsRef<Path>,
    step_fn: F,
) -> Train<'a, F> {
    Train {
        train_op,
        logdir: logdir.as_ref().to_path_buf(),
        step_fn,
        number_of_steps: None,
        log_every_n_steps: 1,
        save: Every { seconds: Some(600.0), steps: None },
        summaries: Every { seconds: Some(600.0), steps: None },
        init_fn: None,
        max_to_keep: 5,
        seed: None,
        validation: None,
        log: LogLines::default(),
        summarize_variables: false,
        stop: None,
        fresh_start_if_unrestorable: false,
        data_position: None,
        checkpoint_format: Format::SafeTensors,
        step_summaries: None,
        trace_every_n_steps: None,
    }
}

impl<'a, F: FnMut(i64) -> Result<Tensor>> Train<'a, F> {
    /// Stop once the global step reaches this (checked after each step, as TF-Slim does).
    pub fn number_of_steps(mut self, steps: i64) -> Self {
        self.number_of_steps = Some(steps);
        self
    }

    /// Log every this many steps (default 1).
    pub fn log_every_n_steps(mut self, steps: i64) -> Self {
        self.log_every_n_steps = steps;
        self
    }

    /// Save a checkpoint every this many seconds (default 600).
    pub fn save_interval_secs(mut self, seconds: f64) -> Self {
        self.save.seconds = Some(seconds);
        self
    }

    /// Also save a checkpoint every this many steps.
    pub fn save_interval_steps(mut self, steps: i64) -> Self {
        self.save.steps = Some(steps);
        self
    }

    /// Write summaries every this many seconds (default 600).
    pub fn save_summaries_secs(mut self, seconds: f64) -> Self {
        self.summaries.seconds = Some(seconds);
        self
    }

    /// Also write summaries every this many steps.
    pub fn save_summaries_steps(mut self, steps: i64) -> Self {
        self.summaries.steps = Some(steps);
        self
    }

    /// Runs once on a fresh logdir (a warm start from another model's checkpoint); skipped, with a log line
    /// saying so, when the logdir already holds a checkpoint.
    pub fn init_fn(mut self, init_fn: impl FnOnce(&VarStore) -> Result<()> + 'a) -> Self {
        self.init_fn = Some(Box::new(init_fn));
        self
    }

    /// Stops, after saving a checkpoint, at the end of the step during which `flag` is set, and clears it.
    /// [`ctrl_c_flag`](super::ctrl_c_flag) gives the flag Ctrl-C sets; without a flag the loop installs no signal
    /// handler, and Ctrl-C ends the process as usual (the last checkpoint saved is kept).
    pub fn stop_when(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    /// How many checkpoints to keep (default 5; 0 keeps all).
    pub fn max_to_keep(mut self, max_to_keep: usize) -> Self {
        self.max_to_keep = max_to_keep;
        self
    }

    /// When the logdir holds checkpoints and none of them restores, start again from step 0 (running `init_fn`),
    /// after setting slim's unrestorable checkpoint files aside as `<name>.unrestorable`. By default (false) the
    /// run refuses with an error naming them, so a damaged logdir is never trained over unnoticed.
    pub fn fresh_start_if_unrestorable(mut self, fresh: bool) -> Self {
        self.fresh_start_if_unrestorable = fresh;
        self
    }

    /// Seeds libtorch's generator with `seed + global_step` before each step, so random batches and dropout
    /// depend only on the step: a resumed run then finishes with the same weights as one never interrupted.
    /// A seeded loop runs its steps with the thread's own count (no thread trial, see [`TrainOp::step`]), so
    /// that the float rounding does not depend on timing either.
    pub fn seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Every `steps` steps, runs `validate(global_step)` (a loss on other data) and writes it to the summaries
    /// as `validation/loss`.
    pub fn validation(self, steps: i64, mut validate: impl FnMut(i64) -> Result<f64> + 'a) -> Self {
        self.validation_metrics(steps, move |step| Ok(vec![("loss".to_string(), validate(step)?)]))
    }

    /// Every `steps` steps, runs `validate(global_step)`, which returns named values (a `MetricMap`'s, after
    /// running it over validation batches), and writes each as `validation/<name>`.
    pub fn validation_metrics(
        mut self,
        steps: i64,
        validate: impl FnMut(i64) -> Result<Vec<(String, f64)>> + 'a,
    ) -> Self {
        self.validation = Some((steps, Box::new(validate)));
        self
    }

    /// The format of the checkpoints it saves (default safetensors; see [`Saver::format`]): TF V2 checkpoints
    /// are for TensorFlow and TF-Slim to read the run's checkpoints and logdir, but keep no data position (a run
    /// resumed from one starts its stream from the global step). A run resumes from either.
    pub fn checkpoint_format(mut self, format: Format) -> Self {
        self.checkpoint_format = format;
        self
    }

    /// Keeps `position` (a provider's, which the step sets after each batch it takes) with every checkpoint, and
    /// sets it back from the checkpoint a resumed run restores, before the first step; a checkpoint saved
    /// without one leaves it unset (the step then starts its stream from the global step). A position that does
    /// not parse makes its checkpoint one that does not restore.
    pub fn data_position(mut self, position: DataPosition) -> Self {
        self.data_position = Some(position);
        self
    }

    /// Shares `summaries` with the step function: before each step the loop marks whether its summaries are due,
    /// and writes what the step function added ([`StepSummaries::activation`], `histogram`, `images`, `scalar`) with the
    /// loop's own summaries of that step.
    pub fn step_summaries(mut self, summaries: StepSummaries) -> Self {
        self.step_summaries = Some(summaries);
        self
    }

    /// Writes a Chrome trace (`chrome://tracing`, Perfetto) of every step that starts at a global step divisible
    /// by `n`, as `tf_trace-<global step after it>.json` in the logdir: libtorch's profiler, the calling
    /// thread's operations with their input shapes (TF-Slim's `trace_every_n_steps`; default none). The
    /// profiler (Kineto) logs a few lines of its own to standard error around each trace.
    pub fn trace_every_n_steps(mut self, n: i64) -> Self {
        self.trace_every_n_steps = Some(n);
        self
    }

    /// Also writes a histogram of each trainable variable with the summaries (default false).
    pub fn summarize_variables(mut self, summarize: bool) -> Self {
        self.summarize_variables = summarize;
        self
    }

    /// Sends log lines to `sink` instead of standard error (and shows no progress bar).
    pub fn log_to(mut self, sink: impl FnMut(&str) + 'a) -> Self {
        self.log.redirect(sink);
        self
    }

    /// Logs `line` (rank 0 alone, in a distributed run).
    fn say(&mut self, line: &str) {
        if self.train_op.world().is_chief() {
            self.log.say(line);
        }
    }

    /// Runs the loop; returns the last step's loss (NaN when the input ran out before the first step: a step
    /// function returning [`Error::OutOfRange`] ends the loop cleanly, after a final checkpoint).
    pub fn run(mut self) -> Result<f64> {
        if let Some(steps) = self.number_of_steps.filter(|steps| *steps <= 0) {
            return Err(Error::invalid("train", format!("number_of_steps must be positive, got {steps}")));
        }
        if self.log_every_n_steps <= 0 {
            return Err(Error::invalid("train", "log_every_n_steps must be positive"));
        }
        if let Some(n) = self.trace_every_n_steps.filter(|n| *n <= 0) {
            return Err(Error::invalid("train", format!("trace_every_n_steps must be positive, got {n}")));
        }
        // A distributed op's ranks all restore (from a logdir every machine sees) and then take rank 0's values;
        // only rank 0 writes checkpoints, summaries, traces and logs.
        let chief = self.train_op.world().is_chief();
        let saver = match chief {
            true => Some(Saver::new(&self.logdir)?.max_to_keep(self.max_to_keep).format(self.checkpoint_format)?),
            false => None,
        };
        self.restore_or_initialize()?;
        self.train_op.synchronize()?;
        let mut writer = if chief { Some(SummaryWriter::new(&self.logdir)?) } else { None };
        let progress = if chief { self.progress_bar() } else { None };
        let (mut last_save, mut last_save_step) = (Instant::now(), self.train_op.global_step());
        let (mut last_summary, mut last_summary_step) = (Instant::now(), last_save_step);
        let mut loss = f64::NAN;
        loop {
            let step = self.train_op.global_step();
            if let Some(seed) = self.seed {
                tch::manual_seed(seed.wrapping_add(step));
            }
            let started = Instant::now();
            // The last step always writes them, so that a run shorter than the interval writes some.
            let last = self.number_of_steps.is_some_and(|target| step + 1 >= target);
            let summaries_due = last || self.summaries.due(last_summary, last_summary_step, step + 1);
            if let Some(summaries) = &self.step_summaries {
                summaries.start_step(summaries_due);
            }
            let trace = match chief && self.trace_every_n_steps.is_some_and(|n| step % n == 0) {
                true => Some(StepTrace::start().context("trace_every_n_steps")?),
                false => None,
            };
            let (step_fn, mut losses) = (&mut self.step_fn, None);
            // A seeded run is meant to repeat bitwise, so its thread count must not depend on timing.
            let stepped = self.train_op.step_tuned(self.seed.is_none(), || {
                let total_loss = step_fn(step)?;
                if summaries_due {
                    losses = Some(named_loss_values()?);
                }
                Ok(total_loss)
            });
            loss = match stepped {
                Err(Error::OutOfRange(what)) => {
                    self.say(&format!("the input ran out at global step {step} ({what}): saving and stopping"));
                    break;
                }
                other => other?,
            };
            let step = self.train_op.global_step();
            let seconds = started.elapsed().as_secs_f64();
            if let Some(trace) = trace {
                self.save_trace(trace, step)?;
            }
            self.report(&progress, step, loss, seconds);
            if let (Some(losses), Some(writer)) = (losses, &mut writer) {
                self.write_summaries(writer, step, loss, &losses, seconds)?;
            }
            if summaries_due {
                (last_summary, last_summary_step) = (Instant::now(), step);
            }
            if let Some(writer) = &mut writer {
                self.validate(writer, step)?;
            }
            if self.save.due(last_save, last_save_step, step) {
                if let Some(saver) = &saver {
                    saver.save_with_metadata(self.train_op.store(), step, &self.checkpoint_metadata())?;
                }
                (last_save, last_save_step) = (Instant::now(), step);
            }
            let interrupted = self.stop.as_ref().is_some_and(|flag| flag.swap(false, Ordering::SeqCst));
            if self.train_op.any_rank(interrupted)? {
                self.say(&format!("interrupted at global step {step}: saving a checkpoint and stopping"));
                break;
            }
            if self.number_of_steps.is_some_and(|target| step >= target) {
                break;
            }
        }
        if let Some(bar) = &progress {
            bar.finish();
        }
        let step = self.train_op.global_step();
        if let Some(saver) = saver.filter(|_| last_save_step != step) {
            saver.save_with_metadata(self.train_op.store(), step, &self.checkpoint_metadata())?;
        }
        if let Some(writer) = &mut writer {
            writer.flush()?;
        }
        Ok(loss)
    }

    /// Restores the newest checkpoint of the logdir that restores, saying why each newer one did not, or runs
    /// `init_fn` when the logdir has none. When it has checkpoints and none restores, refuses to start afresh
    /// (which would save over them) unless `fresh_start_if_unrestorable` asked for it.
    fn restore_or_initialize(&mut self) -> Result<()> {
        let store = self.train_op.store().clone();
        let mut refused = Vec::new();
        for path in checkpoints_newest_first(&self.logdir)? {
            match restore(&store, &path, true).and_then(|report| Ok((report, self.saved_position(&path)?))) {
                Ok((report, position)) => {
                    check_complete(&path, &report)?;
                    let step = self.train_op.global_step();
                    let at = match (&self.data_position, position) {
                        (Some(shared), Some(position)) => {
                            shared.set(position);
                            format!("; the data at epoch {}, example {}", position.epoch, position.index)
                        }
                        _ => String::new(),
                    };
                    self.say(&format!("restored {} (global step {step}{at})", path.display()));
                    if self.init_fn.take().is_some() {
                        self.say(&format!("init_fn skipped: {} already holds a checkpoint", self.logdir.display()));
                    }
                    return Ok(());
                }
                Err(error) => {
                    self.say(&format!(
                        "{} cannot be restored ({error}); trying the previous checkpoint",
                        path.display()
                    ));
                    refused.push(path);
                }
            }
        }
        if !refused.is_empty() {
            self.start_afresh_past(&refused)?;
        }
        match self.init_fn.take() {
            Some(init_fn) => init_fn(&store),
            None => Ok(()),
        }
    }

    /// What each checkpoint keeps beside the variables: the data position, when the loop was given one.
    fn checkpoint_metadata(&self) -> BTreeMap<String, String> {
        let position = self.data_position.as_ref().and_then(DataPosition::get);
        position.map(|position| (Position::CHECKPOINT_KEY.to_string(), position.to_metadata())).into_iter().collect()
    }

    /// The data position the checkpoint at `path` was saved with, when the loop keeps one and the checkpoint has
    /// it.
    fn saved_position(&self, path: &Path) -> Result<Option<Position>> {
        if self.data_position.is_none() {
            return Ok(None);
        }
        let metadata = checkpoint_metadata(path)?;
        metadata.get(Position::CHECKPOINT_KEY).map(|text| Position::from_metadata(text)).transpose()
    }

    /// After every checkpoint in `refused` failed to restore: an error naming them, or (when asked) slim's own
    /// files among them set aside as `<name>.unrestorable`, so nothing prunes or resumes them, and a fresh start.
    fn start_afresh_past(&mut self, refused: &[PathBuf]) -> Result<()> {
        let names: Vec<String> = refused.iter().map(|path| path.display().to_string()).collect();
        if !self.fresh_start_if_unrestorable {
            return Err(Error::invalid(
                self.logdir.display().to_string(),
                format!(
                    "none of its checkpoints can be restored ({}), so training does not start again from step 0 \
                     over them; move them out of the logdir, or ask for a fresh start \
                     (`fresh_start_if_unrestorable(true)`, the scripts' `--fresh_start_if_unrestorable`)",
                    names.join(", ")
                ),
            ));
        }
        let chief = self.train_op.world().is_chief();
        for path in refused.iter().filter(|_| chief) {
            if let Some(aside) = set_aside(&self.logdir, path)? {
                self.say(&format!("{} set aside as {}", path.display(), aside.display()));
            }
        }
        self.say(&format!("no checkpoint of {} restores: starting afresh", self.logdir.display()));
        Ok(())
    }

    fn progress_bar(&self) -> Option<indicatif::ProgressBar> {
        if self.log.is_redirected() || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = match self.number_of_steps {
            Some(steps) => indicatif::ProgressBar::new(steps.max(0) as u64),
            None => indicatif::ProgressBar::no_length(),
        };
        let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}  {per_sec}  ETA {eta}");
        if let Ok(style) = style {
            bar.set_style(style);
        }
        bar.set_position(self.train_op.global_step().max(0) as u64);
        Some(bar)
    }

    fn report(&mut self, progress: &Option<indicatif::ProgressBar>, step: i64, loss: f64, seconds: f64) {
        match progress {
            Some(bar) => {
                bar.set_position(step.max(0) as u64);
                bar.set_message(format!("loss {loss:.4}"));
            }
            None if step % self.log_every_n_steps == 0 => {
                self.say(&format!("global step {step}: loss = {loss:.4} ({seconds:.3} sec/step)"));
            }
            None => {}
        }
    }

    fn write_summaries(
        &self,
        writer: &mut SummaryWriter,
        step: i64,
        loss: f64,
        losses: &[(String, f64)],
        seconds: f64,
    ) -> Result<()> {
        let learning_rate = self.train_op.learning_rate();
        let mut scalars: Vec<(&str, f64)> = vec![("total_loss", loss), ("learning_rate", learning_rate)];
        scalars.push(("global_step/sec", if seconds > 0.0 { 1.0 / seconds } else { 0.0 }));
        let tags: Vec<String> = losses.iter().map(|(name, _)| format!("losses/{name}")).collect();
        scalars.extend(tags.iter().map(String::as_str).zip(losses.iter().map(|(_, value)| *value)));
        writer.add_scalars(&scalars, step)?;
        for (name, gradient) in self.train_op.last_gradients() {
            writer.add_histogram(&format!("{name}/gradient"), gradient, step)?;
            writer.add_scalars(&[(&format!("{name}/gradient_norm"), gradient.norm().double_value(&[]))], step)?;
        }
        if self.summarize_variables {
            for variable in self.train_op.variables_to_train() {
                writer.add_histogram(variable.name(), variable.tensor(), step)?;
            }
        }
        if let Some(summaries) = &self.step_summaries {
            let taken = summaries.take();
            for (tag, values) in &taken.histograms {
                writer.add_histogram(tag, values, step)?;
            }
            for (tag, images, max_images) in &taken.images {
                writer.add_images(tag, images, *max_images, step)?;
            }
            let scalars: Vec<(&str, f64)> = taken.scalars.iter().map(|(tag, value)| (tag.as_str(), *value)).collect();
            writer.add_scalars(&scalars, step)?;
        }
        writer.flush()
    }

    /// Writes `trace` as `tf_trace-<step>.json` in the logdir, atomically.
    fn save_trace(&mut self, trace: StepTrace, step: i64) -> Result<()> {
        let path = self.logdir.join(format!("tf_trace-{step}.json"));
        write_atomically(&path, |staging| trace.save(staging).context(&path.display().to_string()))?;
        self.say(&format!("wrote a trace of global step {step} to {}", path.display()));
        Ok(())
    }

    fn validate(&mut self, writer: &mut SummaryWriter, step: i64) -> Result<()> {
        let Some((every, validate)) = &mut self.validation else { return Ok(()) };
        if *every <= 0 || step % *every != 0 {
            return Ok(());
        }
        let values = validate(step)?;
        let tags: Vec<String> = values.iter().map(|(name, _)| format!("validation/{name}")).collect();
        let scalars: Vec<(&str, f64)> = tags.iter().map(String::as_str).zip(values.iter().map(|(_, v)| *v)).collect();
        writer.add_scalars(&scalars, step)?;
        let shown: Vec<String> = values.iter().map(|(name, value)| format!("{name} = {value:.4}")).collect();
        self.say(&format!("global step {step}: validation {}", shown.join(", ")));
        Ok(())
    }
}

/// The losses in the `LOSSES` collection, by name, as numbers.
fn named_loss_values() -> Result<Vec<(String, f64)>> {
    Ok(get_losses(None, None)?.into_iter().map(|(name, loss)| (name, loss.double_value(&[]))).collect())
}

/// A resumed run needs every variable of the model back.
fn check_complete(path: &Path, report: &RestoreReport) -> Result<()> {
    if report.missing.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        path.display().to_string(),
        format!("lacks variables the model has: {}", report.missing.join(", ")),
    ))
}
