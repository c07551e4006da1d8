//! The data provider alone: 60,000 synthetic 28×28 images (Fashion-MNIST's size and layout), batch 64, lenet
//! preprocessing, shuffled; images/s on the calling thread and with 1 and 2 reader threads, to set against what a
//! LeNet training step consumes (see `lenet_step`).
//!
//! `cargo bench --bench provider [-- BATCHES]`

mod common;

use std::time::Instant;

use common::steps_arg;
use slim::data::Provider;
use slim::datasets::synthetic;
use slim::prelude::*;
use slim::preprocessing::LenetPreprocessing;

fn rate(batches: impl Iterator<Item = Result<slim::data::Batch>>, count: usize) -> Result<f64> {
    let start = Instant::now();
    let mut images = 0;
    for batch in batches.take(count) {
        images += batch?.len();
    }
    Ok(images as f64 / start.elapsed().as_secs_f64())
}

fn main() -> Result<()> {
    tch::set_num_threads(2);
    slim::backend::allocator::keep_freed_memory();
    let count = steps_arg(500);
    let dataset = synthetic(60_000, 10, 28, 0)?;
    let lenet = LenetPreprocessing { size: 28 };
    let provider = || -> Result<Provider> { Ok(Provider::new(&dataset, 64)?.shuffle(1).preprocess(lenet)) };
    println!("Provider, 60,000 images of 28×28, batch 64, lenet preprocessing, {count} batches:");
    println!("  calling thread      {:10.0} images/s", rate(provider()?, count)?);
    for threads in [1, 2] {
        println!("  {threads} reader thread(s) {:10.0} images/s", rate(provider()?.prefetch(threads, 8), count)?);
    }
    Ok(())
}
