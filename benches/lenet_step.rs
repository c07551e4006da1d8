//! One LeNet training step (forward, loss, backward, SGD update; batch 64 of 28×28×1 unless given), interleaved:
//! raw `tch::nn` (in slim's memory layout: channels-last on CPU unless `SLIM_CHANNELS_LAST=0`); the same net as a
//! `#[slim::model]` (built once, replayed each step); and slim's builder calls made afresh every step (arg-scope
//! resolution and variable lookups each time). Prints medians and ratios.
//!
//! `cargo bench --bench lenet_step [-- STEPS [BATCH]]`

mod common;

use common::raw_nets::{RawLenet, raw_layout};
use common::{Variant, compare, numeric_arg, steps_arg};
use slim::nets::Lenet;
use slim::prelude::*;
use slim::tch::nn::{self, OptimizerConfig};

/// The same net through builder calls made every step.
fn lenet_builder_calls(images: &Tensor) -> Result<Tensor> {
    let _scope = VariableScope::new("lenet").reuse(Reuse::Auto).enter()?;
    let net = conv2d(images, 32, [5, 5]).scope("conv1").call()?;
    let net = max_pool2d(&net, [2, 2]).scope("pool1").call()?;
    let net = conv2d(&net, 64, [5, 5]).scope("conv2").call()?;
    let net = max_pool2d(&net, [2, 2]).scope("pool2").call()?;
    let net = fully_connected(&flatten(&net)?, 1024).scope("fc3").call()?;
    let net = dropout(&net, 0.5).scope("dropout3").call()?;
    fully_connected(&net, 10).activation_fn(None).scope("fc4").call()
}

fn main() -> Result<()> {
    tch::set_num_threads(2);
    slim::backend::allocator::keep_freed_memory();
    tch::manual_seed(0);
    let batch = numeric_arg(1).unwrap_or(64) as i64;
    let images = Tensor::rand([batch, 1, 28, 28], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [batch], (Kind::Int64, Device::Cpu));
    let sgd = nn::Sgd { momentum: 0.9, ..Default::default() };

    let raw_vs = nn::VarStore::new(Device::Cpu);
    let raw = RawLenet::new(&raw_vs.root());
    // Raw tch in slim's layout (channels-last on CPU unless SLIM_CHANNELS_LAST=0), as PyTorch users set it.
    let raw_images = raw_layout(&raw_vs, slim::backend::Config::effective().channels_last == Some(true), &images)?;
    let mut raw_opt = sgd.build(&raw_vs, 0.01)?;

    let model_vs = VarStore::new(Device::Cpu);
    let model = Lenet { num_classes: Some(10), dropout_keep_prob: 0.5 }.build(&model_vs, "lenet", &[1, 1, 28, 28])?;
    let mut model_opt = sgd.build(model_vs.tch(), 0.01)?;

    let call_vs = VarStore::new(Device::Cpu);
    let _store = call_vs.as_default();
    let _ = lenet_builder_calls(&images)?;
    let mut call_opt = sgd.build(call_vs.tch(), 0.01)?;

    let mut variants = [
        Variant {
            name: "raw tch::nn",
            step: Box::new(|| {
                let loss = raw.forward(&raw_images).cross_entropy_for_logits(&labels);
                raw_opt.backward_step(&loss);
                Ok(())
            }),
        },
        Variant {
            name: "#[slim::model], built once",
            step: Box::new(|| {
                let logits = model.forward_t(&images, Mode::Train)?.output;
                model_opt.backward_step(&logits.cross_entropy_for_logits(&labels));
                Ok(())
            }),
        },
        Variant {
            name: "slim builder calls every step",
            step: Box::new(|| {
                let loss = lenet_builder_calls(&images)?.cross_entropy_for_logits(&labels);
                call_opt.backward_step(&loss);
                Ok(())
            }),
        },
    ];
    compare(&format!("LeNet train step, batch {batch}, 2 threads"), steps_arg(40), 5, &mut variants)
}
