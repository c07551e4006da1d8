//! `create_train_op`: one training step from a loss, with TF-Slim's order of operations: deferred updates,
//! gradients of the variables to train, multipliers, then each gradient clipped by its own norm, a numeric
//! check, the optimizer step, the global step increment, moving averages. Running it returns the loss from before the update.
//! A data-parallel op ([`TrainOpBuilder::distributed`]) averages the deferred updates and the gradients over the
//! ranks first, so every rank applies the same update.

use std::time::Instant;

use tch::{Device, Kind, Tensor};

use super::ExponentialMovingAverage;
use super::gradient_multiplier::GradientMultiplier;
use super::loss_scale::{DynamicLossScale, LossScaler};
use super::step_threads::{OneThreadScope, StepPlan, ThreadTrial, tune_step_threads_enabled};
use crate::backend::Precision;
use crate::distributed::{BatchPart, Collective, DEFAULT_BUCKET_BYTES, DataParallel, GradientReducer, World};
use crate::native;
use crate::optimizers::{GradientAndVariable, LearningRate, Optimizer};
use crate::variables::collections::TRAINABLE_VARIABLES;
use crate::variables::{UpdateOp, VarStore, Variable, get_or_create_global_step};
use crate::{Error, Result, TorchContext};

/// A train op being configured; finish it with [`TrainOpBuilder::build`].
pub struct TrainOpBuilder {
    store: VarStore,
    optimizer: Box<dyn Optimizer>,
    learning_rate: LearningRate,
    variables_to_train: Option<Vec<Variable>>,
    gradient_multipliers: Vec<(String, GradientMultiplier)>,
    clip_gradient_norm: f64,
    check_numerics: bool,
    run_update_ops: bool,
    increment_global_step: bool,
    summarize_gradients: bool,
    moving_averages: Option<ExponentialMovingAverage>,
    distributed: Option<(Box<dyn Collective>, usize)>,
    precision: Precision,
    loss_scale: Option<DynamicLossScale>,
}

/// TF-Slim's `create_train_op(total_loss, optimizer, …)` for the variables of `vs`: set its options, `build()`
/// it, then call [`TrainOp::run`] with each step's total loss.
pub fn create_train_op(
    vs: &VarStore,
    optimizer: impl Optimizer + 'static,
    learning_rate: impl Into<LearningRate>,
) -> TrainOpBuilder {
    TrainOpBuilder {
        store: vs.clone(),
        optimizer: Box::new(optimizer),
        learning_rate: learning_rate.into(),
        variables_to_train: None,
        gradient_multipliers: Vec::new(),
        clip_gradient_norm: 0.0,
        check_numerics: true,
        run_update_ops: true,
        increment_global_step: true,
        summarize_gradients: false,
        moving_averages: None,
        distributed: None,
        precision: Precision::F32,
        loss_scale: None,
    }
}

impl TrainOpBuilder {
    /// The variables to update (default: every trainable variable of the store when `build` runs).
    pub fn variables_to_train(mut self, variables: Vec<Variable>) -> Self {
        self.variables_to_train = Some(variables);
        self
    }

    /// Scales the gradient of the variable with each full name (`vgg_16/fc8/weights`) before clipping, by a
    /// factor evaluated at every step ([`GradientMultiplier`]): a constant (`2.0`), a schedule over the global
    /// step (a [`LearningRate`]), or a [`SharedValue`](super::SharedValue) the program sets between steps.
    pub fn gradient_multipliers<S: Into<String>, M: Into<GradientMultiplier>>(
        mut self,
        multipliers: impl IntoIterator<Item = (S, M)>,
    ) -> Self {
        self.gradient_multipliers =
            multipliers.into_iter().map(|(name, factor)| (name.into(), factor.into())).collect();
        self
    }

    /// Clips each gradient by its own L2 norm to at most this (0, the default, does not clip).
    pub fn clip_gradient_norm(mut self, max_norm: f64) -> Self {
        self.clip_gradient_norm = max_norm;
        self
    }

    /// Whether a non-finite loss or gradient is an error (default true).
    pub fn check_numerics(mut self, check: bool) -> Self {
        self.check_numerics = check;
        self
    }

    /// Whether each run applies the deferred updates (batch-norm moving statistics) first (default true).
    pub fn run_update_ops(mut self, run: bool) -> Self {
        self.run_update_ops = run;
        self
    }

    /// Whether each run increments the global step (default true; TF-Slim's `global_step=None` turns it off).
    pub fn increment_global_step(mut self, increment: bool) -> Self {
        self.increment_global_step = increment;
        self
    }

    /// Keeps each step's final gradients for [`TrainOp::last_gradients`], which the training loop writes as
    /// `<var>/gradient` histograms and `<var>/gradient_norm` scalars (default false).
    pub fn summarize_gradients(mut self, summarize: bool) -> Self {
        self.summarize_gradients = summarize;
        self
    }

    /// Updates these moving averages after each step, with the new global step as `num_updates` (TF-Slim's
    /// train_image_classifier adds `variable_averages.apply(...)` to the update ops the same way).
    pub fn moving_averages(mut self, averages: ExponentialMovingAverage) -> Self {
        self.moving_averages = Some(averages);
        self
    }

    /// Trains data-parallel over the ranks `collective` connects ([`Mpi`](crate::distributed::Mpi) with the
    /// `mpi` feature): every rank runs this op on its own part of each global batch, and each step averages the
    /// gradients over the ranks (summed in fused buckets while the backward pass runs) **before** multipliers,
    /// clipping and the numeric check, so every rank applies the same update. Batch-norm moving statistics (the
    /// deferred updates) are averaged too. Before the first step the ranks check that they built the same model
    /// and take rank 0's variables, optimizer slots and global step ([`TrainOp::synchronize`]).
    pub fn distributed(mut self, collective: impl Collective + 'static) -> Self {
        self.distributed = Some((Box::new(collective), DEFAULT_BUCKET_BYTES));
        self
    }

    /// The size of the buffers a distributed op fuses gradients into (default
    /// [`DEFAULT_BUCKET_BYTES`](crate::distributed::DEFAULT_BUCKET_BYTES)): smaller buckets start their sums
    /// earlier in the backward pass, larger ones make fewer calls.
    pub fn bucket_bytes(mut self, bytes: usize) -> Self {
        if let Some((_, bucket_bytes)) = &mut self.distributed {
            *bucket_bytes = bytes;
        }
        self
    }

    /// Runs the forward passes of [`TrainOp::step`] and [`TrainOp::step_accumulated`] in `precision` (default
    /// float32): with [`Precision::Bf16`], convolutions and matrix products compute in bfloat16 while the
    /// variables, their gradients, the optimizer's slots and the losses stay float32 (PyTorch's CPU autocast).
    /// The numeric check covers the float32 loss and gradients as always. [`TrainOp::run`], which takes a loss
    /// computed outside, leaves precision to its caller ([`Precision::scoped`]). [`Precision::F16`] also turns on
    /// [`TrainOpBuilder::loss_scale`] with TF's defaults unless it was given.
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// Scales the loss before each backward pass and the gradients back before the update, with `config`'s
    /// dynamic factor ([`DynamicLossScale`]; default: off, or TF's defaults for [`Precision::F16`]). A step whose
    /// gradients are not finite is then skipped (the global step still counts it) and the factor divided, instead
    /// of being an error; a non-finite loss is still an error with `check_numerics`. The factor and its count of
    /// good steps are the global variables `current_loss_scale` and `good_steps` (checkpointed; created here when
    /// the store has none). In float32 the scaled step equals the unscaled one bit for bit, as long as nothing
    /// overflows: the factors are powers of two.
    pub fn loss_scale(mut self, config: DynamicLossScale) -> Self {
        self.loss_scale = Some(config);
        self
    }

    /// Checks the options against the store and makes the train op (creating the global step if needed).
    pub fn build(self) -> Result<TrainOp> {
        self.learning_rate.validate()?;
        if !(self.clip_gradient_norm >= 0.0 && self.clip_gradient_norm.is_finite()) {
            return Err(Error::invalid(
                "train_op",
                format!("clip_gradient_norm must be ≥ 0, got {}", self.clip_gradient_norm),
            ));
        }
        let variables = self.variables_to_train.unwrap_or_else(|| self.store.collection(TRAINABLE_VARIABLES));
        if variables.is_empty() {
            return Err(Error::invalid("train_op", "there are no variables to train: build the model first"));
        }
        if let Some(frozen) = variables.iter().find(|v| !v.tensor().requires_grad()) {
            return Err(Error::invalid(frozen.name(), "is not trainable, so it cannot be a variable to train"));
        }
        let multipliers = multipliers_by_position(&variables, self.gradient_multipliers)?;
        let global_step = {
            let _store = self.store.as_default();
            get_or_create_global_step()?
        };
        let loss_scale = self.loss_scale.or((self.precision == Precision::F16).then(DynamicLossScale::default));
        let loss_scaler = loss_scale.map(|config| LossScaler::new(&self.store, config)).transpose()?;
        let data_parallel = match self.distributed {
            Some((_, 0)) => return Err(Error::invalid("train_op", "bucket_bytes must be positive")),
            Some((collective, bucket_bytes)) => Some(DataParallel::new(collective, &variables, bucket_bytes)?),
            None => None,
        };
        Ok(TrainOp {
            store: self.store,
            optimizer: self.optimizer,
            learning_rate: self.learning_rate,
            variables,
            multipliers,
            clip_gradient_norm: self.clip_gradient_norm,
            check_numerics: self.check_numerics,
            run_update_ops: self.run_update_ops,
            increment_global_step: self.increment_global_step,
            global_step,
            keep_gradients: self.summarize_gradients,
            last_gradients: Vec::new(),
            moving_averages: self.moving_averages,
            thread_trial: None,
            data_parallel,
            precision: self.precision,
            loss_scaler,
        })
    }
}

/// Each variable's multiplier, `None` for none; an error for a name that is no variable to train, or a
/// schedule that is not one.
fn multipliers_by_position(
    variables: &[Variable],
    mut given: Vec<(String, GradientMultiplier)>,
) -> Result<Vec<Option<GradientMultiplier>>> {
    if let Some((name, _)) = given.iter().find(|(name, _)| !variables.iter().any(|v| v.name() == name)) {
        return Err(Error::invalid(name, "has a gradient multiplier but is not one of the variables to train"));
    }
    for (name, multiplier) in &given {
        if let GradientMultiplier::Schedule(schedule) = multiplier {
            schedule.validate().map_err(|e| Error::invalid(name, format!("gradient multiplier: {e}")))?;
        }
    }
    let mut take = |variable: &Variable| {
        let position = given.iter().position(|(name, _)| name == variable.name())?;
        Some(given.swap_remove(position).1)
    };
    Ok(variables.iter().map(&mut take).collect())
}

/// One training step, run with each step's loss; see [`create_train_op`].
pub struct TrainOp {
    store: VarStore,
    optimizer: Box<dyn Optimizer>,
    learning_rate: LearningRate,
    variables: Vec<Variable>,
    multipliers: Vec<Option<GradientMultiplier>>,
    clip_gradient_norm: f64,
    check_numerics: bool,
    run_update_ops: bool,
    increment_global_step: bool,
    global_step: Variable,
    keep_gradients: bool,
    last_gradients: Vec<(String, Tensor)>,
    moving_averages: Option<ExponentialMovingAverage>,
    /// [`TrainOp::step`]'s thread trial, with the calling thread's own count it compares one thread against.
    thread_trial: Option<(i32, ThreadTrial)>,
    data_parallel: Option<DataParallel>,
    precision: Precision,
    loss_scaler: Option<LossScaler>,
}

impl TrainOp {
    /// Runs one whole step: `forward` computes the step's total loss (the model's forward pass and its losses,
    /// as for [`TrainOp::run`]), then the step runs as `run` does and returns the loss.
    ///
    /// On CPU, with more than one intra-op thread, the step tunes its threads: a small network's step (forward,
    /// backward, update) can be faster on one thread than on several. After three warm-up steps, blocks of
    /// steps on one thread alternate with blocks on the calling thread's own count; the faster (by at least 3%)
    /// runs the following steps, and the trial is repeated after 500, 1,000, … up to 8,000 steps. A trial that
    /// finds one thread more than 20% slower stops after four one-thread steps. Only the step itself runs on
    /// one thread: the calling thread has its own count back when `step` returns. Turn tuning off with
    /// [`Config::tune_step_threads`](crate::backend::Config::tune_step_threads) or `SLIM_TUNE_STEP_THREADS=0`.
    ///
    /// The thread count can change the float rounding of reductions and matrix products, and the trial decides by
    /// timing, so tuned runs of the same program may differ in the last bits; the training loop does not tune
    /// when it is seeded (`Train::seed`), where runs are meant to be bitwise repeatable.
    pub fn step(&mut self, forward: impl FnOnce() -> Result<Tensor>) -> Result<f64> {
        self.step_tuned(true, forward)
    }

    /// [`TrainOp::step`], with thread tuning only when `tune` (and the switch) allow it.
    pub(crate) fn step_tuned(&mut self, tune: bool, forward: impl FnOnce() -> Result<Tensor>) -> Result<f64> {
        self.synchronize_once()?;
        let tuning = self.plan_threads(tune);
        let started = Instant::now();
        let result = {
            let _one_thread = tuning.filter(|(_, plan)| plan.one_thread).map(|(own, _)| OneThreadScope::enter(own));
            let part = self.data_parallel.as_ref().map(|dp| BatchPart::enter(dp.world()));
            let total_loss = self.forward_in_precision(forward);
            drop(part);
            total_loss.and_then(|total_loss| self.run(&total_loss))
        };
        if let (Some((_, plan)), Some((_, trial)), Ok(_)) = (tuning, &mut self.thread_trial, &result) {
            trial.record(plan, started.elapsed());
        }
        result
    }

    /// `forward()` in the op's [`precision`](TrainOpBuilder::precision) on the store's device.
    pub(super) fn forward_in_precision<R>(&self, forward: impl FnOnce() -> R) -> R {
        match self.precision {
            Precision::F32 => forward(),
            precision => precision.scoped(self.store.device(), forward),
        }
    }

    /// The precision the op's forward passes compute in.
    pub fn forward_precision(&self) -> Precision {
        self.precision
    }

    /// How the next step runs, with the calling thread's own count; `None` when tuning does not apply (not
    /// `tune`, switched off, a store not on the CPU, or one thread anyway). A changed own count starts over.
    fn plan_threads(&mut self, tune: bool) -> Option<(i32, StepPlan)> {
        // Ranks must not choose their thread counts by their own timings: the counts change float rounding.
        let distributed = self.data_parallel.is_some();
        if !tune || distributed || !tune_step_threads_enabled() || self.store.device() != Device::Cpu {
            return None;
        }
        let own = native::calling_thread_threads();
        if own <= 1 {
            return None;
        }
        if !matches!(&self.thread_trial, Some((counted_for, _)) if *counted_for == own) {
            self.thread_trial = Some((own, ThreadTrial::new()));
        }
        self.thread_trial.as_mut().map(|(_, trial)| (own, trial.plan()))
    }

    /// Whether [`TrainOp::step`] now runs its steps on one thread (the last thread trial found it faster).
    pub fn one_thread_steps(&self) -> bool {
        self.thread_trial.as_ref().is_some_and(|(_, trial)| trial.one_thread())
    }

    /// Runs one step on `total_loss` (a scalar computed by this step's forward pass) and returns its value
    /// from before the update. Afterwards the loss collections are empty, ready for the next forward pass.
    pub fn run(&mut self, total_loss: &Tensor) -> Result<f64> {
        let loss = scalar_loss(total_loss)?;
        let step = self.global_step();
        if let Some(data_parallel) = &self.data_parallel {
            data_parallel.check_synchronized()?;
        }
        let loss = self.agreed_loss(loss, step)?;
        let ops = self.store.take_update_ops();
        let values = ops.iter().flat_map(UpdateOp::values).map(Tensor::shallow_clone).collect();
        self.apply_updates(&ops, values)?;
        let tensors: Vec<&Tensor> = self.variables.iter().map(Variable::tensor).collect();
        let scaled_loss = self.scaled_for_backward(total_loss)?;
        let backward = || Tensor::f_run_backward(&[&scaled_loss], &tensors, false, false).context("train_op");
        let gradients = match &mut self.data_parallel {
            Some(data_parallel) => data_parallel.gradients(|| backward().map(drop))?,
            None => backward()?,
        };
        self.apply_gradients(gradients, step)?;
        Ok(loss)
    }

    /// The step's loss as reported: this process's, or the mean over the ranks (gathered; a non-finite loss on
    /// any rank is an error on every rank); an error when not finite and `check_numerics` is on.
    pub(super) fn agreed_loss(&self, loss: f64, step: i64) -> Result<f64> {
        let loss = match &self.data_parallel {
            Some(data_parallel) => data_parallel.mean_loss(loss, step)?,
            None => loss,
        };
        if self.check_numerics && !loss.is_finite() {
            return Err(Error::invalid("train_op", format!("the loss is {loss} at global step {step}")));
        }
        Ok(loss)
    }

    /// Applies the deferred updates `ops` with `values` (in [`UpdateOp::values`]' order; averaged over the ranks
    /// first when distributed), unless `run_update_ops` is off.
    pub(super) fn apply_updates(&self, ops: &[UpdateOp], values: Vec<Tensor>) -> Result<()> {
        if !self.run_update_ops {
            return Ok(());
        }
        let values = match &self.data_parallel {
            Some(data_parallel) => data_parallel.average(values)?,
            None => values,
        };
        let mut values = values.into_iter();
        ops.iter().for_each(|op| op.apply_values(&mut values));
        Ok(())
    }

    /// Averages gradients computed beforehand over the ranks (itself for a single process).
    pub(super) fn reduce_gradients(&mut self, gradients: Vec<Tensor>) -> Result<Vec<Tensor>> {
        match &mut self.data_parallel {
            Some(data_parallel) => data_parallel.reduce(&gradients),
            None => Ok(gradients),
        }
    }

    /// The rest of a step from the (averaged) gradients, one per variable to train (undefined for none):
    /// multipliers at global step `step`, clipping, the optimizer behind the numeric check, the global step, the
    /// moving averages; the loss collections are emptied for the next forward pass.
    pub(super) fn apply_gradients(&mut self, gradients: Vec<Tensor>, step: i64) -> Result<()> {
        let scale = self.loss_scaler.as_ref().map(|scaler| (scaler, scaler.current()));
        if let Some((scaler, factor)) = scale {
            scaler.unscale(&gradients, factor)?;
        }
        let updates = self.multiplied_and_clipped(gradients, step);
        let learning_rate = self.learning_rate.at(step);
        let applied = tch::no_grad(|| match self.check_numerics || self.loss_scaler.is_some() {
            true => self.optimizer.apply_if_finite(&self.store, &updates, learning_rate),
            false => self.optimizer.apply(&self.store, &updates, learning_rate).map(|()| true),
        })?;
        match scale {
            Some((scaler, before)) => {
                let after = scaler.update(before, applied)?;
                if !applied {
                    log::info!(
                        "train_op: gradients not finite at global step {step}: skipped, loss scale {before} → {after}"
                    );
                }
            }
            None if !applied => return Err(non_finite_gradient(&updates, step)),
            None => {}
        }
        if applied && self.keep_gradients {
            self.last_gradients =
                updates.iter().map(|u| (u.variable.name().to_string(), u.gradient.shallow_clone())).collect();
        }
        if self.increment_global_step {
            self.global_step.tensor().shallow_clone().f_add_scalar_(1).context("global_step").map(drop)?;
        }
        if let Some(averages) = self.moving_averages.as_ref().filter(|_| applied) {
            averages.apply(step + i64::from(self.increment_global_step))?;
        }
        self.store.clear_losses();
        Ok(())
    }

    /// `total_loss` as the backward pass takes it: times the loss scale when the op scales its loss.
    pub(super) fn scaled_for_backward(&self, total_loss: &Tensor) -> Result<Tensor> {
        match &self.loss_scaler {
            Some(scaler) => scaler.scale(total_loss),
            None => Ok(total_loss.shallow_clone()),
        }
    }

    /// The loss scale now, when the op scales its loss ([`TrainOpBuilder::loss_scale`]).
    pub fn loss_scale(&self) -> Option<f64> {
        self.loss_scaler.as_ref().map(LossScaler::current)
    }

    /// The defined gradients, multiplied (by the factors at global step `step`) and clipped, with their variables.
    fn multiplied_and_clipped(&self, gradients: Vec<Tensor>, step: i64) -> Vec<GradientAndVariable> {
        let mut updates = Vec::with_capacity(gradients.len());
        for ((gradient, variable), multiplier) in gradients.into_iter().zip(&self.variables).zip(&self.multipliers) {
            if !gradient.defined() {
                continue;
            }
            let gradient = match multiplier.as_ref().map(|multiplier| multiplier.at(step)) {
                Some(factor) if factor != 1.0 => gradient * factor,
                _ => gradient,
            };
            let gradient = clip_by_norm(gradient, self.clip_gradient_norm);
            updates.push(GradientAndVariable { gradient, variable: variable.clone() });
        }
        updates
    }

    /// Makes a distributed op's ranks agree before training: checks that every rank has the same variables (a
    /// rank with another model is an error naming the first difference, on every rank) and copies rank 0's
    /// values of all the store's variables — model variables, optimizer slots, the global step — to the others.
    /// Call it after restoring or initializing the variables and before the first forward pass;
    /// [`TrainOp::step`] and `learning::train` call it themselves. Nothing for a single-process op.
    pub fn synchronize(&mut self) -> Result<()> {
        match &mut self.data_parallel {
            Some(data_parallel) => data_parallel.synchronize(&self.store),
            None => Ok(()),
        }
    }

    /// [`TrainOp::synchronize`] unless it ran already.
    pub(super) fn synchronize_once(&mut self) -> Result<()> {
        if self.data_parallel.as_ref().is_some_and(|dp| dp.check_synchronized().is_err()) {
            self.synchronize()?;
        }
        Ok(())
    }

    /// The world the op trains in: its rank and the number of ranks ([`World::single`] unless distributed).
    pub fn world(&self) -> World {
        self.data_parallel.as_ref().map_or_else(World::single, DataParallel::world)
    }

    /// The collective a distributed op uses, for the program's own agreements between ranks.
    pub fn collective(&self) -> Option<&dyn Collective> {
        self.data_parallel.as_ref().map(DataParallel::collective)
    }

    /// A distributed op's gradient reducer: how many buckets the gradients travel in, and how many of them
    /// started their sum during the last backward pass.
    pub fn gradient_reducer(&self) -> Option<&dyn GradientReducer> {
        self.data_parallel.as_ref().map(DataParallel::reducer)
    }

    /// Whether any rank's `flag` is set (this rank's alone for a single process): ranks that stop on a signal
    /// stop together. Every rank must call it at the same step.
    pub fn any_rank(&self, flag: bool) -> Result<bool> {
        match &self.data_parallel {
            Some(data_parallel) => data_parallel.any(flag),
            None => Ok(flag),
        }
    }

    /// The global step (steps run so far, including restored ones).
    pub fn global_step(&self) -> i64 {
        self.global_step.tensor().int64_value(&[])
    }

    /// The learning rate the next step will use.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate.at(self.global_step())
    }

    /// The gradients the last step applied, by variable name, when `summarize_gradients` is on.
    pub fn last_gradients(&self) -> &[(String, Tensor)] {
        &self.last_gradients
    }

    /// The variables this op updates.
    pub fn variables_to_train(&self) -> &[Variable] {
        &self.variables
    }

    /// The store the op trains.
    pub fn store(&self) -> &VarStore {
        &self.store
    }
}

/// The value of a step's total loss, which must be a scalar.
pub(super) fn scalar_loss(total_loss: &Tensor) -> Result<f64> {
    if total_loss.numel() != 1 {
        let message = format!("the loss must be a scalar, got shape {:?}", total_loss.size());
        return Err(Error::invalid("train_op", message));
    }
    Ok(total_loss.double_value(&[]))
}

/// TF's `clip_by_norm`: `g · max_norm / max(‖g‖, max_norm)`; `max_norm` 0 leaves `g` as it is.
fn clip_by_norm(gradient: Tensor, max_norm: f64) -> Tensor {
    if max_norm <= 0.0 {
        return gradient;
    }
    let norm = gradient.norm().to_kind(Kind::Float);
    &gradient * max_norm / norm.clamp_min(max_norm)
}

/// The error for a step the optimizer refused because a gradient is not finite: the gradients are searched for
/// the first bad one (only now, on this rare path) to name its variable.
fn non_finite_gradient(updates: &[GradientAndVariable], step: i64) -> Error {
    let gradients: Vec<&Tensor> = updates.iter().map(|update| &update.gradient).collect();
    let bad = native::first_non_finite(&gradients).ok().flatten().map(|position| &updates[position]);
    let name = bad.map_or("a gradient", |u| u.variable.name());
    Error::invalid(name, format!("its gradient is not finite (NaN or infinite) at global step {step}"))
}
