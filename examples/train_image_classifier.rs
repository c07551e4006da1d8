//! TF-Slim's `train_image_classifier.py`: trains a zoo net on a dataset with the script's flags, checkpointing
//! and writing TensorBoard summaries to `--train_dir`, resuming from it when run again, or warm-starting from
//! `--checkpoint_path` minus `--checkpoint_exclude_scopes`.
//!
//! `cargo run --release --example train_image_classifier -- --help` lists the flags; `make run` runs the
//! README's recipe (LeNet on Fashion-MNIST).
//!
//! Built with the `mpi` feature and started by an MPI launcher (`mpirun -np 4 …`, Slurm's `srun`), it trains
//! data-parallel: each rank takes `--batch_size` examples of every global batch of ranks × `--batch_size`, the
//! gradients are averaged over the ranks, and rank 0 alone writes to `--train_dir` (TF-Slim's `--num_clones`,
//! with one process per clone).

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use common::{DatasetFlags, DeviceFlag, ModelFlags, Sampling, exit_status, provider};
use slim::backend::Precision;
use slim::checkpoint::{AssignOptions, Format, assign_from_checkpoint};
use slim::data::{DataPosition, DataSource, Prefetch, Split};
use slim::distributed::World;
use slim::learning::TrainOpBuilder;
use slim::learning::{ExponentialMovingAverage, StepSummaries, ctrl_c_flag, train};
use slim::model::EndPoints;
use slim::optimizers::{Adadelta, Adagrad, Adam, AdamW, Optimizer};
use slim::prelude::*;

/// The optimizers `--optimizer` names.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum OptimizerName {
    Adadelta,
    Adagrad,
    Adam,
    Adamw,
    Momentum,
    Rmsprop,
    Sgd,
}

/// How the learning rate decays.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum DecayType {
    /// `learning_rate · factor^⌊epoch / num_epochs_per_decay⌋`.
    Exponential,
    /// The same rate throughout.
    Fixed,
    /// Linear to `end_learning_rate` every `num_epochs_per_decay` epochs.
    Polynomial,
    /// A half cosine from `learning_rate` to `end_learning_rate` over `max_number_of_steps`.
    Cosine,
}

/// The formats `--checkpoint_format` names.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum CheckpointFormat {
    Safetensors,
    Tf,
}

/// Trains a zoo net as TF-Slim's train_image_classifier.py does.
#[derive(Debug, Parser)]
#[command(rename_all = "snake_case")]
struct Flags {
    /// Where checkpoints and event files go; training resumes from its latest checkpoint that restores.
    #[arg(long, default_value = "train_logs")]
    train_dir: PathBuf,
    /// When train_dir holds checkpoints and none restores, set them aside (`<name>.unrestorable`) and start
    /// again from step 0, instead of stopping with an error.
    #[arg(long)]
    fresh_start_if_unrestorable: bool,
    #[command(flatten)]
    dataset: DatasetFlags,
    #[command(flatten)]
    model: ModelFlags,
    /// The side images are preprocessed to and the net is built for (the dataset's when not given).
    #[arg(long)]
    train_image_size: Option<i64>,
    /// Examples per step.
    #[arg(long, default_value_t = 32)]
    batch_size: i64,
    /// The optimizer.
    #[arg(long, value_enum, default_value = "rmsprop")]
    optimizer: OptimizerName,
    /// Adadelta's decay.
    #[arg(long, default_value_t = 0.95)]
    adadelta_rho: f64,
    /// Adagrad's starting accumulator.
    #[arg(long, default_value_t = 0.1)]
    adagrad_initial_accumulator_value: f64,
    /// Adam's β1.
    #[arg(long, default_value_t = 0.9)]
    adam_beta1: f64,
    /// Adam's β2.
    #[arg(long, default_value_t = 0.999)]
    adam_beta2: f64,
    /// ε of adadelta, adam and rmsprop.
    #[arg(long, default_value_t = 1.0)]
    opt_epsilon: f64,
    /// The momentum optimizer's momentum.
    #[arg(long, default_value_t = 0.9)]
    momentum: f64,
    /// RMSProp's momentum.
    #[arg(long, default_value_t = 0.9)]
    rmsprop_momentum: f64,
    /// RMSProp's decay.
    #[arg(long, default_value_t = 0.9)]
    rmsprop_decay: f64,
    /// AdamW's decoupled weight decay.
    #[arg(long, default_value_t = 0.0)]
    adamw_weight_decay: f64,
    /// The initial learning rate.
    #[arg(long, default_value_t = 0.01)]
    learning_rate: f64,
    /// How it decays.
    #[arg(long, value_enum, default_value = "exponential")]
    learning_rate_decay_type: DecayType,
    /// The last rate of polynomial and cosine decay.
    #[arg(long, default_value_t = 0.0001)]
    end_learning_rate: f64,
    /// The exponential decay's factor.
    #[arg(long, default_value_t = 0.94)]
    learning_rate_decay_factor: f64,
    /// Epochs between decays.
    #[arg(long, default_value_t = 2.0)]
    num_epochs_per_decay: f64,
    /// Label smoothing of the cross entropy.
    #[arg(long, default_value_t = 0.0)]
    label_smoothing: f64,
    /// Random erasing after the preprocessing: the probability that a training image has a random rectangle
    /// (2–40% of its area) set to 0 (0: off).
    #[arg(long, default_value_t = 0.0)]
    random_erasing: f64,
    /// L2 weight decay of the net's arg scope.
    #[arg(long, default_value_t = 0.00004)]
    weight_decay: f64,
    /// Keeps exponential moving averages of the model variables with this decay (checkpointed as
    /// `<var>/ExponentialMovingAverage`; eval_image_classifier evaluates them with the same flag).
    #[arg(long)]
    moving_average_decay: Option<f64>,
    /// Stop at this global step (train until Ctrl-C when not given).
    #[arg(long)]
    max_number_of_steps: Option<i64>,
    /// Steps between log lines.
    #[arg(long, default_value_t = 10)]
    log_every_n_steps: i64,
    /// Seconds between summaries.
    #[arg(long, default_value_t = 600.0)]
    save_summaries_secs: f64,
    /// Writes a Chrome trace (`tf_trace-<step>.json` in train_dir: libtorch's operators with their shapes) of
    /// every step starting at a multiple of this (none when not given).
    #[arg(long)]
    trace_every_n_steps: Option<i64>,
    /// Seconds between checkpoints.
    #[arg(long, default_value_t = 600.0)]
    save_interval_secs: f64,
    /// The checkpoints' format: safetensors (slim's; keeps the data position), or tf (TF V2 checkpoints that
    /// TensorFlow and TF-Slim read; a resume starts the data from the global step).
    #[arg(long, value_enum, default_value_t = CheckpointFormat::Safetensors)]
    checkpoint_format: CheckpointFormat,
    /// TFRecord shards read at once, taking turns (streamed sets).
    #[arg(long, default_value_t = 4)]
    num_readers: usize,
    /// Threads that make batches ahead of the training step (reading, decoding and preprocessing images).
    #[arg(long, default_value_t = 1)]
    num_preprocessing_threads: usize,
    /// A checkpoint (file or folder) to start from when `train_dir` has none.
    #[arg(long)]
    checkpoint_path: Option<PathBuf>,
    /// Comma-separated scopes not restored from `checkpoint_path` (`LeNet/fc4`).
    #[arg(long, value_delimiter = ',')]
    checkpoint_exclude_scopes: Vec<String>,
    /// Comma-separated scopes to train (all trainable variables when not given).
    #[arg(long, value_delimiter = ',')]
    trainable_scopes: Vec<String>,
    /// Leave variables missing from `checkpoint_path` at their initial values instead of failing.
    #[arg(long)]
    ignore_missing_vars: bool,
    /// cpu, cuda or auto.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceFlag,
    /// fp32, bf16 or fp16: convolutions and matrix products in bfloat16 or float16 autocast, with float32
    /// weights, optimizer state and losses; fp16 also scales the loss dynamically (float32 where the device has
    /// no instructions for the type, said once).
    #[arg(long, default_value_t = Precision::F32)]
    precision: Precision,
    /// Seeds the initial weights, the order of the data, preprocessing and dropout.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Under an MPI launcher: how long a rank waits for the others at each step before failing (it must exceed
    /// the time rank 0 spends saving a checkpoint).
    #[arg(long, default_value_t = 600.0)]
    collective_timeout_secs: f64,
}

fn main() -> ExitCode {
    slim::backend::allocator::keep_freed_memory(); // a script owns its process: malloc may keep freed memory
    exit_status("train_image_classifier", || run(&Flags::parse()))
}

fn run(flags: &Flags) -> Result<()> {
    check(flags)?;
    let device = flags.device.device()?;
    common::say_precision_fallback(flags.precision, device);
    tch::manual_seed(flags.seed as i64);
    let dataset = flags.dataset.load(Split::Train)?;
    let vs = VarStore::new(device);
    let size = common::image_size(&dataset, &flags.model.model_name, flags.train_image_size)?;
    let net = common::network(&flags.model.model_name, &vs, &dataset, flags.weight_decay, size)?;
    let launched = World::from_env()?.filter(|world| world.size() > 1).unwrap_or_else(World::single);
    let global_batch = flags.batch_size * launched.size() as i64;
    let mut train_op = create_train_op(&vs, optimizer(flags)?, learning_rate(flags, dataset.len(), global_batch))
        .variables_to_train(variables_to_train(&vs, &flags.trainable_scopes)?)
        .precision(flags.precision);
    if let Some(decay) = flags.moving_average_decay {
        train_op = train_op.moving_averages(ExponentialMovingAverage::new(&vs, decay, vs.collection(MODEL_VARIABLES))?);
    }
    let (train_op, world) = distribute(train_op, launched, flags)?;
    let mut train_op = train_op.build()?;
    let mut batches = Batches::new(flags, &dataset, size, world)?;
    let position = batches.position.clone();
    if world.is_chief() {
        println!(
            "training {} on {} ({} images, {} classes) on {device:?}{}; checkpoints and TensorBoard events in {}",
            flags.model.model_name,
            dataset.name(),
            dataset.len(),
            dataset.num_classes(),
            match world.size() {
                1 => String::new(),
                ranks => format!(", {ranks} ranks × batch {} (global batch {global_batch})", flags.batch_size),
            },
            flags.train_dir.display()
        );
    }
    let started = Instant::now();
    let num_classes = dataset.num_classes();
    let _store = vs.as_default();
    let summaries = StepSummaries::new();
    let image_tag = slim::preprocessing::preprocessed_image_tag(flags.model.preprocessing());
    let mut loop_ = train(&mut train_op, &flags.train_dir, |step| {
        let (images, labels) = batches.at(step, device)?;
        let out = net.forward_with_end_points(&images, Mode::Train)?;
        summarize(&summaries, (&images, image_tag), &out.end_points, &vs)?;
        let logits = out.output;
        let onehot = labels.one_hot(num_classes).to_kind(Kind::Float);
        let _ = softmax_cross_entropy(&logits, &onehot).label_smoothing(flags.label_smoothing).call()?;
        get_total_loss(true)
    })
    .log_every_n_steps(flags.log_every_n_steps)
    .save_summaries_secs(flags.save_summaries_secs)
    .save_interval_secs(flags.save_interval_secs)
    .seed(flags.seed as i64)
    .stop_when(ctrl_c_flag()?)
    .fresh_start_if_unrestorable(flags.fresh_start_if_unrestorable)
    .checkpoint_format(match flags.checkpoint_format {
        CheckpointFormat::Safetensors => Format::SafeTensors,
        CheckpointFormat::Tf => Format::TfBundle,
    })
    .data_position(position)
    .step_summaries(summaries.clone())
    .init_fn(|_| warm_start(flags));
    if let Some(steps) = flags.max_number_of_steps {
        loop_ = loop_.number_of_steps(steps);
    }
    if let Some(n) = flags.trace_every_n_steps {
        loop_ = loop_.trace_every_n_steps(n);
    }
    let loss = loop_.run()?;
    if !world.is_chief() {
        return Ok(());
    }
    if dataset.skipped_records() > 0 {
        println!("skipped {} bad records", dataset.skipped_records());
    }
    println!(
        "trained to global step {} in {:.1} s; last loss {loss:.4}; checkpoints and events in {}",
        train_op.global_step(),
        started.elapsed().as_secs_f64(),
        flags.train_dir.display()
    );
    Ok(())
}

/// TF-Slim's script summaries, on the steps whose summaries are due: the first preprocessed image under its
/// preprocessing's tag, each end point's histogram (`activations/<name>`) and fraction of zeros
/// (`sparsity/<name>`), and each model variable's histogram.
fn summarize(
    summaries: &StepSummaries,
    (images, image_tag): (&Tensor, Option<&str>),
    end_points: &EndPoints,
    vs: &VarStore,
) -> Result<()> {
    if !summaries.due() {
        return Ok(());
    }
    if let Some(tag) = image_tag {
        summaries.images(tag, images, 1)?;
    }
    for (name, activation) in end_points.iter() {
        summaries.activation(name, activation)?;
    }
    for variable in vs.collection(MODEL_VARIABLES) {
        summaries.histogram(variable.name(), variable.tensor())?;
    }
    Ok(())
}

/// Flags that contradict each other or are out of range.
fn check(flags: &Flags) -> Result<()> {
    let bad = |flag: &str, message: String| Err(Error::invalid(flag, message));
    if flags.batch_size < 1 {
        return bad("--batch_size", format!("must be at least 1, got {}", flags.batch_size));
    }
    if !(flags.learning_rate > 0.0 && flags.learning_rate.is_finite()) {
        return bad("--learning_rate", format!("must be positive, got {}", flags.learning_rate));
    }
    if !(0.0..1.0).contains(&flags.label_smoothing) {
        return bad("--label_smoothing", format!("must be in [0, 1), got {}", flags.label_smoothing));
    }
    if !(0.0..=1.0).contains(&flags.random_erasing) {
        return bad("--random_erasing", format!("must be in [0, 1], got {}", flags.random_erasing));
    }
    if flags.checkpoint_path.is_none() && (!flags.checkpoint_exclude_scopes.is_empty() || flags.ignore_missing_vars) {
        return bad("--checkpoint_exclude_scopes / --ignore_missing_vars", "need --checkpoint_path".into());
    }
    if let Some(n) = flags.trace_every_n_steps.filter(|n| *n < 1) {
        return bad("--trace_every_n_steps", format!("must be at least 1, got {n}"));
    }
    if matches!(flags.learning_rate_decay_type, DecayType::Cosine) && flags.max_number_of_steps.is_none() {
        return bad("--learning_rate_decay_type cosine", "needs --max_number_of_steps".into());
    }
    let positive = [
        ("--num_epochs_per_decay", flags.num_epochs_per_decay),
        ("--opt_epsilon", flags.opt_epsilon),
        ("--save_summaries_secs", flags.save_summaries_secs),
        ("--save_interval_secs", flags.save_interval_secs),
        ("--learning_rate_decay_factor", flags.learning_rate_decay_factor),
    ];
    if let Some((flag, value)) = positive.into_iter().find(|(_, value)| !(*value > 0.0 && value.is_finite())) {
        return bad(flag, format!("must be a positive number, got {value}"));
    }
    let non_negative = [("--end_learning_rate", flags.end_learning_rate), ("--weight_decay", flags.weight_decay)];
    if let Some((flag, value)) = non_negative.into_iter().find(|(_, value)| !(*value >= 0.0 && value.is_finite())) {
        return bad(flag, format!("must be zero or more, got {value}"));
    }
    if flags.log_every_n_steps < 1 {
        return bad("--log_every_n_steps", format!("must be at least 1, got {}", flags.log_every_n_steps));
    }
    if let Some(steps) = flags.max_number_of_steps.filter(|steps| *steps < 1) {
        return bad("--max_number_of_steps", format!("must be at least 1, got {steps}"));
    }
    Ok(())
}

/// TF-Slim's `_configure_optimizer`.
fn optimizer(flags: &Flags) -> Result<Box<dyn Optimizer>> {
    Ok(match flags.optimizer {
        OptimizerName::Adadelta => Box::new(Adadelta::new(flags.adadelta_rho, flags.opt_epsilon)?),
        OptimizerName::Adagrad => Box::new(Adagrad::new(flags.adagrad_initial_accumulator_value)?),
        OptimizerName::Adam => {
            Box::new(Adam::default().betas(flags.adam_beta1, flags.adam_beta2)?.epsilon(flags.opt_epsilon))
        }
        OptimizerName::Adamw => Box::new(
            AdamW::new(flags.adamw_weight_decay)?
                .adam(|adam| Ok(adam.betas(flags.adam_beta1, flags.adam_beta2)?.epsilon(flags.opt_epsilon)))?,
        ),
        OptimizerName::Momentum => Box::new(Momentum::new(flags.momentum)?),
        OptimizerName::Rmsprop => {
            Box::new(RmsProp::new(flags.rmsprop_decay, flags.rmsprop_momentum)?.epsilon(flags.opt_epsilon))
        }
        OptimizerName::Sgd => Box::new(GradientDescent),
    })
}

/// TF-Slim's `_configure_learning_rate`: decays every `num_epochs_per_decay` epochs of `examples`, read
/// `global_batch` a step (TF-Slim's model_deploy divided by the batch of one clone instead, so its epochs of
/// decay were `num_clones` times shorter; here a run's schedule does not depend on how many ranks share a batch).
fn learning_rate(flags: &Flags, examples: i64, global_batch: i64) -> LearningRate {
    let steps_per_epoch = examples as f64 / global_batch as f64;
    let decay_steps = ((steps_per_epoch * flags.num_epochs_per_decay) as i64).max(1);
    let initial = flags.learning_rate;
    match flags.learning_rate_decay_type {
        DecayType::Fixed => LearningRate::Fixed(initial),
        DecayType::Exponential => LearningRate::ExponentialDecay {
            initial,
            decay_steps,
            decay_rate: flags.learning_rate_decay_factor,
            staircase: true,
        },
        DecayType::Polynomial => LearningRate::PolynomialDecay {
            initial,
            decay_steps,
            end: flags.end_learning_rate,
            power: 1.0,
            cycle: false,
        },
        DecayType::Cosine => LearningRate::CosineDecay {
            initial,
            decay_steps: flags.max_number_of_steps.unwrap_or(decay_steps).max(1),
            alpha: flags.end_learning_rate / initial,
        },
    }
}

/// Makes the train op data-parallel over the ranks an MPI launcher started (`launched`, from its environment),
/// with the `mpi` feature; returns it with the world it trains in.
#[cfg(feature = "mpi")]
fn distribute(train_op: TrainOpBuilder, launched: World, flags: &Flags) -> Result<(TrainOpBuilder, World)> {
    if launched.size() == 1 {
        return Ok((train_op, launched));
    }
    if !(flags.collective_timeout_secs > 0.0 && flags.collective_timeout_secs.is_finite()) {
        let message = format!("must be a positive number, got {}", flags.collective_timeout_secs);
        return Err(Error::invalid("--collective_timeout_secs", message));
    }
    let timeout = std::time::Duration::from_secs_f64(flags.collective_timeout_secs);
    let mpi = slim::distributed::Mpi::init()?.timeout(timeout);
    let world = slim::distributed::Collective::world(&mpi);
    Ok((train_op.distributed(mpi), world))
}

/// Without the `mpi` feature: an error when an MPI launcher started several ranks, which would each train alone.
#[cfg(not(feature = "mpi"))]
fn distribute(train_op: TrainOpBuilder, launched: World, _flags: &Flags) -> Result<(TrainOpBuilder, World)> {
    match launched.size() {
        1 => Ok((train_op, launched)),
        ranks => Err(Error::invalid(
            "the MPI launcher",
            format!("started {ranks} ranks, but this build has no MPI: build with `--features mpi`"),
        )),
    }
}

/// The trainable variables under `scopes` (all of them when `scopes` is empty).
fn variables_to_train(vs: &VarStore, scopes: &[String]) -> Result<Vec<Variable>> {
    let _store = vs.as_default();
    if scopes.is_empty() {
        return get_trainable_variables(None, None);
    }
    let mut variables = Vec::new();
    for scope in scopes {
        let found = get_trainable_variables(Some(scope.trim()), None)?;
        if found.is_empty() {
            return Err(Error::invalid("--trainable_scopes", format!("no trainable variable lies under {scope:?}")));
        }
        variables.extend(found);
    }
    Ok(variables)
}

/// TF-Slim's `_get_init_fn`: restores the model variables from `--checkpoint_path` minus the excluded scopes
/// (the global step and this run's optimizer slots are not in another model's checkpoint) and prints the report.
fn warm_start(flags: &Flags) -> Result<()> {
    let Some(path) = &flags.checkpoint_path else { return Ok(()) };
    let exclude: Vec<VariablePattern> = flags.checkpoint_exclude_scopes.iter().map(|s| s.trim().into()).collect();
    let variables = filter_variables(get_model_variables(None, None)?, &[], &exclude);
    let options = AssignOptions { ignore_missing_vars: flags.ignore_missing_vars, reshape_variables: false };
    let report = assign_from_checkpoint(path, variables, options)?;
    print!("warm start from {}:\n{report}", path.display());
    Ok(())
}

/// The training batches: made ahead on preprocessing threads, starting where the checkpoint training resumes
/// from left the data (its saved position, or else its global step). A streamed set goes through a shuffle
/// buffer of 10 batches (TF-Slim's `common_queue_min`).
struct Batches {
    pending: Option<slim::data::Provider>,
    threads: usize,
    stream: Option<Prefetch>,
    /// Where the next batch starts, kept with each checkpoint.
    position: DataPosition,
}

impl Batches {
    /// This rank's part of every global batch (`world` from the launcher).
    fn new(flags: &Flags, dataset: &DataSource, size: i64, world: World) -> Result<Self> {
        let preprocessing = flags.model.preprocessing();
        let sampling = Sampling { training: true, size, seed: flags.seed, random_erasing: flags.random_erasing };
        let provider = provider(dataset, flags.batch_size, preprocessing, sampling)?
            .shuffle(flags.seed)
            .shuffle_buffer(10 * flags.batch_size as usize * world.size())
            .num_readers(flags.num_readers)
            .drop_remainder(true);
        Ok(Batches {
            pending: Some(provider.shard(world.rank(), world.size())?),
            threads: flags.num_preprocessing_threads,
            stream: None,
            position: DataPosition::new(),
        })
    }

    /// The batch of global step `step`, on `device`.
    fn at(&mut self, step: i64, device: Device) -> Result<(Tensor, Tensor)> {
        if let Some(provider) = self.pending.take() {
            let provider = match self.position.get() {
                Some(saved) => provider.starting_at(saved),
                None => provider.starting_at_batch(step.max(0) as u64),
            };
            self.stream = Some(provider.prefetch(self.threads, 4));
        }
        let stream = self.stream.as_mut().ok_or_else(|| Error::invalid("train_image_classifier", "no stream"))?;
        let batch = stream.next_batch()?;
        self.position.set(Prefetch::position(stream));
        Ok((batch.images.to_device(device), batch.labels.to_device(device)))
    }
}
