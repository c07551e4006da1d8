//! Scores the newest checkpoint in [`LOGDIR`] on 256 new images with streaming accuracy, and writes the value as
//! a TensorBoard summary at the checkpoint's step (in `LOGDIR/eval`).

use std::path::Path;

use slim::checkpoint::latest_checkpoint;
use slim::evaluation::evaluation;
use slim::metrics::{Accuracy, StreamingMetric, aggregate_metric_map};
use slim::prelude::*;
use slim_starter::{LOGDIR, Net, SIDE, batch};

fn main() -> slim::Result<()> {
    let Some(checkpoint) = latest_checkpoint(LOGDIR)? else {
        eprintln!("no checkpoint in {LOGDIR}: run `cargo run --bin train` first");
        std::process::exit(1);
    };
    let vs = VarStore::new(Device::Cpu);
    let net = Net { num_classes: 2 }.build(&vs, "net", &[1, 1, SIDE, SIDE])?;
    let metrics: Vec<(&str, Box<dyn StreamingMetric>)> = vec![("Accuracy", Box::new(Accuracy::default()))];
    let mut metrics = aggregate_metric_map(metrics)?;
    let values = evaluation(&vs, &mut metrics, Path::new(LOGDIR).join("eval")).num_evals(4).evaluate_once(
        &checkpoint,
        |_, metrics| {
            let (images, labels) = batch(64)?;
            metrics.update(&net.forward_t(&images, Mode::Eval)?.output, &labels, None).map(drop)
        },
    )?;
    for (name, value) in values {
        println!("{name} {value:.3}");
    }
    Ok(())
}
