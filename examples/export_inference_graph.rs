//! TF-Slim's `export_inference_graph.py` (with `freeze_graph` folded in): a zoo net for a dataset's classes,
//! its weights restored from a checkpoint, traced in eval mode into one TorchScript file that PyTorch's
//! `torch.jit.load` and tch's `CModule::load` run without slim. Input: float images `[batch, channels, size,
//! size]` (NCHW), preprocessed as for evaluation; output: the logits.
//!
//! `cargo run --release --example export_inference_graph -- --help` lists the flags.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use common::{DatasetFlags, DeviceFlag, ModelFlags, exit_status};
use slim::checkpoint::{AssignOptions, VariableMap, assign_from_checkpoint, resolve_checkpoint};
use slim::data::Split;
use slim::learning::average_names;
use slim::model::TorchScriptOptions;
use slim::nets::get_network;
use slim::prelude::*;

/// Exports a zoo net as TF-Slim's export_inference_graph.py does, to TorchScript.
#[derive(Debug, Parser)]
#[command(rename_all = "snake_case")]
struct Flags {
    #[command(flatten)]
    model: ModelFlags,
    #[command(flatten)]
    dataset: DatasetFlags,
    /// The side of the input images (the dataset's, else the net's default, when not given).
    #[arg(long)]
    image_size: Option<i64>,
    /// A fixed batch size for the module; any batch size when not given (TF-Slim's `None`).
    #[arg(long)]
    batch_size: Option<i64>,
    /// One input channel instead of the dataset's (TF-Slim's grayscale export).
    #[arg(long)]
    use_grayscale: bool,
    /// The checkpoint whose weights the module holds (a file, or a train_dir for its latest); without it the
    /// module holds freshly initialized weights, as TF-Slim's graph holds none.
    #[arg(long)]
    checkpoint_path: Option<PathBuf>,
    /// Export the moving averages training kept with `--moving_average_decay` (any value turns it on).
    #[arg(long)]
    moving_average_decay: Option<f64>,
    /// Where the TorchScript module is written; an existing file is refused.
    #[arg(long)]
    output_file: PathBuf,
    /// cpu, cuda or auto: where the trace runs, and where the module's weights live.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceFlag,
}

fn main() -> ExitCode {
    exit_status("export_inference_graph", || run(&Flags::parse()))
}

fn run(flags: &Flags) -> Result<()> {
    if let Some(batch) = flags.batch_size.filter(|&batch| batch < 1) {
        return Err(Error::invalid("--batch_size", format!("must be at least 1, got {batch}")));
    }
    if flags.moving_average_decay.is_some() && flags.checkpoint_path.is_none() {
        return Err(Error::invalid("--moving_average_decay", "needs a --checkpoint_path holding the averages"));
    }
    let device = flags.device.device()?;
    let dataset = flags.dataset.load(Split::Train)?;
    let size = common::image_size(&dataset, &flags.model.model_name, flags.image_size)?;
    let channels = if flags.use_grayscale { 1 } else { dataset.channels() };
    let vs = VarStore::new(device);
    let net = get_network(&flags.model.model_name, &vs, dataset.num_classes(), 0.0, channels, Some(size))?;
    match &flags.checkpoint_path {
        Some(path) => {
            let checkpoint = resolve_checkpoint(path)?;
            let variables = vs.collection(MODEL_VARIABLES);
            let map = match flags.moving_average_decay {
                Some(_) => average_names(variables),
                None => VariableMap::renamed(variables, str::to_string),
            };
            let report = assign_from_checkpoint(&checkpoint, map, AssignOptions::default())?;
            println!("restored {} variables from {}", report.applied.len(), checkpoint.display());
        }
        None => println!("no --checkpoint_path: the module holds freshly initialized weights"),
    }
    let batch = flags.batch_size.unwrap_or(1);
    let count = batch * channels * size * size;
    let example =
        ((Tensor::f_arange(count, (Kind::Float, device))? * 0.37).f_sin()?).f_view([batch, channels, size, size])?;
    let options = TorchScriptOptions { fixed_batch: flags.batch_size.is_some(), ..TorchScriptOptions::default() };
    net.export_torchscript_with(&flags.output_file, &example, options)?;
    let batch = flags.batch_size.map_or("any".to_string(), |batch| batch.to_string());
    println!(
        "wrote {}: {} as TorchScript; input float [{batch}, {channels}, {size}, {size}] (NCHW), output logits \
         [{batch}, {}]",
        flags.output_file.display(),
        flags.model.model_name,
        dataset.num_classes()
    );
    Ok(())
}
