//! TF-Slim's `eval_image_classifier.py`: scores a checkpoint of a zoo net on a dataset split with streaming
//! Accuracy and Recall_5, prints them, and writes them as TensorBoard summaries to `--eval_dir` at the
//! checkpoint's global step.
//!
//! `cargo run --release --example eval_image_classifier -- --help` lists the flags.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use common::{DatasetFlags, DeviceFlag, ModelFlags, Sampling, exit_status, provider};
use slim::backend::Precision;
use slim::checkpoint::latest_checkpoint;
use slim::data::Split;
use slim::evaluation::{evaluation, mirror_averaged_logits};
use slim::learning::average_names;
use slim::metrics::{Accuracy, RecallAtK, StreamingMetric, aggregate_metric_map};
use slim::prelude::*;

/// Evaluates a zoo net's checkpoint as TF-Slim's eval_image_classifier.py does.
#[derive(Debug, Parser)]
#[command(rename_all = "snake_case")]
struct Flags {
    /// A checkpoint file, or a train_dir (its latest checkpoint).
    #[arg(long, default_value = "train_logs")]
    checkpoint_path: PathBuf,
    /// Where the eval summaries go.
    #[arg(long, default_value = "eval_logs")]
    eval_dir: PathBuf,
    #[command(flatten)]
    dataset: DatasetFlags,
    #[command(flatten)]
    model: ModelFlags,
    /// The side images are preprocessed to (the dataset's when not given); use training's size.
    #[arg(long)]
    eval_image_size: Option<i64>,
    /// Examples per batch.
    #[arg(long, default_value_t = 100)]
    batch_size: i64,
    /// Evaluate at most this many batches (the whole split when not given).
    #[arg(long)]
    max_num_batches: Option<usize>,
    /// Evaluate the moving averages that training kept with `--moving_average_decay` (any value turns it on).
    #[arg(long)]
    moving_average_decay: Option<f64>,
    /// Score each image by the mean of its logits and its left-right mirror image's (test-time augmentation, two
    /// forward passes per batch; for nets trained with random flips, as `cifarnet` preprocessing does).
    #[arg(long)]
    test_time_flip: bool,
    /// cpu, cuda or auto.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceFlag,
    /// fp32, bf16 or fp16: the forward pass's convolutions and matrix products in bfloat16 or float16 autocast
    /// (the metrics score its logits in float32).
    #[arg(long, default_value_t = Precision::F32)]
    precision: Precision,
}

fn main() -> ExitCode {
    slim::backend::allocator::keep_freed_memory(); // a script owns its process: malloc may keep freed memory
    exit_status("eval_image_classifier", || run(&Flags::parse()))
}

fn run(flags: &Flags) -> Result<()> {
    if flags.batch_size < 1 {
        return Err(Error::invalid("--batch_size", format!("must be at least 1, got {}", flags.batch_size)));
    }
    if flags.max_num_batches == Some(0) {
        return Err(Error::invalid("--max_num_batches", "must be at least 1 (0 would score no image)"));
    }
    let device = flags.device.device()?;
    common::say_precision_fallback(flags.precision, device);
    let checkpoint = match flags.checkpoint_path.is_dir() {
        true => latest_checkpoint(&flags.checkpoint_path)?
            .ok_or_else(|| Error::NotFound(format!("{} holds no checkpoint", flags.checkpoint_path.display())))?,
        false if flags.checkpoint_path.is_file() => flags.checkpoint_path.clone(),
        false => return Err(Error::NotFound(format!("no checkpoint at {}", flags.checkpoint_path.display()))),
    };
    let dataset = flags.dataset.load(Split::Test)?;
    let vs = VarStore::new(device);
    let size = common::image_size(&dataset, &flags.model.model_name, flags.eval_image_size)?;
    let net = common::network(&flags.model.model_name, &vs, &dataset, 0.0, size)?;
    let preprocessing = flags.model.preprocessing();
    // Batches are made as the evaluation asks for them: preprocessed images (224×224 for the ImageNet nets) of a
    // whole split need not fit in memory.
    let batch_size = flags.batch_size.min(dataset.len());
    let num_batches = ((dataset.len() + batch_size - 1) / batch_size) as usize;
    let num_batches = num_batches.min(flags.max_num_batches.unwrap_or(usize::MAX));
    let mut batches = provider(&dataset, batch_size, preprocessing, Sampling::evaluation(size))?.num_epochs(1);
    let mut metrics = aggregate_metric_map(vec![
        ("Accuracy", Box::new(Accuracy::default()) as Box<dyn StreamingMetric>),
        ("Recall_5", Box::new(RecallAtK::new(5.min(dataset.num_classes()))?)),
    ])?;
    let mut eval = evaluation(&vs, &mut metrics, &flags.eval_dir).num_evals(num_batches);
    if flags.moving_average_decay.is_some() {
        eval = eval.variables_to_restore(average_names(vs.collection(MODEL_VARIABLES)));
    }
    let started = Instant::now();
    let mut examples = 0;
    let values = eval.evaluate_once(&checkpoint, |i, metrics| {
        let batch = batches.next().ok_or_else(|| Error::invalid(dataset.name(), format!("batch {i} is missing")))??;
        examples += batch.labels.size()[0];
        let images = batch.images.to_device(device);
        let forward = |images: &Tensor| flags.precision.scoped(device, || net.forward_t(images, Mode::Eval));
        let logits = match flags.test_time_flip {
            true => mirror_averaged_logits(&images, forward)?,
            false => forward(&images)?.to_kind(Kind::Float),
        };
        metrics.update(&logits, &batch.labels.to_device(device), None).map(drop)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    println!("evaluated {} on {examples} {} images in {seconds:.1} s:", checkpoint.display(), dataset.name());
    if dataset.skipped_records() > 0 {
        println!("  skipped {} bad records", dataset.skipped_records());
    }
    for (name, value) in &values {
        println!("  eval/{name:<10} {value:.4}");
    }
    println!("eval summaries in {}", flags.eval_dir.display());
    Ok(())
}
