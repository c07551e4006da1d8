//! The training loop's own cost and checkpoint speed. (1) LeNet (batch 64) trained for a few hundred steps by a
//! bare loop calling `TrainOp::run`, and by `learning::train` (in a fresh logdir each round) logging every 10
//! steps, writing summaries every 20 and a checkpoint every 100 plus the final one; rounds alternate, and the
//! medians per step are compared. (2) Saving VGG-16's 138 M parameters as a checkpoint, against writing the
//! same number of bytes with `std::fs::write`.
//!
//! `cargo bench --bench train_loop [-- STEPS]`

mod common;

use std::time::Instant;

use common::{median, steps_arg};
use slim::backend::Config;
use slim::checkpoint::Saver;
use slim::learning::train;
use slim::nets::{Lenet, Vgg, VggDepth};
use slim::prelude::*;

fn loop_overhead(steps: i64) -> Result<()> {
    // The loop's own cost against a bare loop of `run`: without the thread trial `TrainOp::step` would add (the
    // workloads bench measures that).
    Config { tune_step_threads: Some(false), ..Config::default() }.apply();
    let images = Tensor::rand([64, 1, 28, 28], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [64], (Kind::Int64, Device::Cpu));
    let vs = VarStore::new(Device::Cpu);
    let model = Lenet { num_classes: Some(10), dropout_keep_prob: 0.5 }.build(&vs, "lenet", &[1, 1, 28, 28])?;
    let mut train_op = create_train_op(&vs, Momentum::new(0.9)?, 0.01).build()?;
    let _store = vs.as_default();
    let logdir = std::env::temp_dir().join(format!("slim-bench-loop-{}", std::process::id()));
    let (mut bare, mut looped) = (Vec::new(), Vec::new());
    let mut forward = |_step: i64| -> Result<Tensor> {
        let logits = model.forward_t(&images, Mode::Train)?.output;
        let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?;
        get_total_loss(true)
    };
    for round in 0..3 {
        // A fresh logdir each round: the loop would otherwise restore the previous round's (older) checkpoint.
        let logdir = logdir.join(format!("round{round}"));
        let start = Instant::now();
        for step in 0..steps {
            let loss = forward(step)?;
            train_op.run(&loss)?;
        }
        bare.push(start.elapsed().as_secs_f64() * 1e3 / steps as f64);
        let target = train_op.global_step() + steps;
        let start = Instant::now();
        train(&mut train_op, &logdir, &mut forward)
            .number_of_steps(target)
            .log_every_n_steps(10)
            .save_summaries_steps(20)
            .save_interval_steps(100)
            .log_to(|line| {
                let _ = std::hint::black_box(line);
            })
            .run()?;
        looped.push(start.elapsed().as_secs_f64() * 1e3 / steps as f64);
    }
    let _ = std::fs::remove_dir_all(&logdir);
    let (bare, looped) = (median(bare), median(looped));
    println!("LeNet, batch 64, {steps} steps per round, 3 alternating rounds (median ms/step):");
    println!("  bare loop calling TrainOp::run   {bare:8.3}");
    println!("  learning::train                  {looped:8.3}   ratio {:.3}", looped / bare);
    Ok(())
}

fn checkpoint_speed() -> Result<()> {
    let vs = VarStore::new(Device::Cpu);
    Vgg { depth: VggDepth::D16, num_classes: Some(1000), dropout_keep_prob: 0.5, spatial_squeeze: true }.build(
        &vs,
        "vgg_16",
        &[1, 3, 224, 224],
    )?;
    let dir = std::env::temp_dir().join(format!("slim-bench-ckpt-{}", std::process::id()));
    let saver = Saver::new(&dir)?;
    let start = Instant::now();
    let path = saver.save(&vs, 1)?;
    let seconds = start.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64;
    let raw = vec![7u8; bytes as usize];
    let start = Instant::now();
    let raw_path = dir.join("raw.bin");
    std::fs::write(&raw_path, &raw).and_then(|()| std::fs::File::open(&raw_path)?.sync_all()).ok();
    let raw_seconds = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    let mb = bytes / 1e6;
    println!("VGG-16 checkpoint ({mb:.0} MB, {} parameters):", vs.num_model_parameters());
    println!("  Saver::save (atomic, fsync)      {seconds:8.2} s   {:7.0} MB/s", mb / seconds);
    println!("  std::fs::write + fsync           {raw_seconds:8.2} s   {:7.0} MB/s", mb / raw_seconds);
    Ok(())
}

fn main() -> Result<()> {
    tch::set_num_threads(2);
    slim::backend::allocator::keep_freed_memory();
    tch::manual_seed(0);
    loop_overhead(steps_arg(200) as i64)?;
    checkpoint_speed()
}
