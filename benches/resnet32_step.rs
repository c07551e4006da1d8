//! One CIFAR ResNet-32 v2 training step (forward in train mode with batch norm, loss, backward, momentum SGD
//! with weight decay 2e-4; batch 128 of 32×32×3), interleaved: raw `tch::nn` (in slim's memory layout,
//! channels-last on CPU unless `SLIM_CHANNELS_LAST=0`) against slim's `nets::CifarResNet` built once (its
//! batch-norm updates run each step). The peers' w2 workload (`shared/bench`) is this network without the
//! biases of the unnormalized convs (`benches/workloads.rs` has that one). Prints medians and ratios.
//!
//! `cargo bench --bench resnet32_step [-- STEPS [BATCH]]`

mod common;

use common::raw_nets::{RawResNet, raw_layout};
use common::{Variant, compare, numeric_arg, steps_arg};
use slim::nets::CifarResNet;
use slim::prelude::*;
use slim::tch::nn::{self, OptimizerConfig};

fn main() -> Result<()> {
    tch::set_num_threads(2);
    slim::backend::allocator::keep_freed_memory();
    tch::manual_seed(0);
    let batch = numeric_arg(1).unwrap_or(128) as i64;
    let images = Tensor::rand([batch, 3, 32, 32], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [batch], (Kind::Int64, Device::Cpu));
    let sgd = nn::Sgd { momentum: 0.9, wd: 2e-4, ..Default::default() };

    let raw_vs = nn::VarStore::new(Device::Cpu);
    let raw = RawResNet::new(&raw_vs.root(), true);
    // Raw tch in slim's layout (channels-last on CPU unless SLIM_CHANNELS_LAST=0), as PyTorch users set it.
    let raw_images = raw_layout(&raw_vs, slim::backend::Config::effective().channels_last == Some(true), &images)?;
    let mut raw_opt = sgd.build(&raw_vs, 0.1)?;

    let model_vs = VarStore::new(Device::Cpu);
    let net = CifarResNet { n: 5, filters: 16, version: 2, num_classes: 10, weight_decay: 2e-4 };
    let model = net.build(&model_vs, "resnet_cifar_32", &[1, 3, 32, 32])?;
    let mut model_opt = sgd.build(model_vs.tch(), 0.1)?;

    let mut variants = [
        Variant {
            name: "raw tch::nn",
            step: Box::new(|| {
                raw_opt.backward_step(&raw.forward(&raw_images).cross_entropy_for_logits(&labels));
                Ok(())
            }),
        },
        Variant {
            name: "slim nets::CifarResNet, built once",
            step: Box::new(|| {
                let logits = model.forward_t(&images, Mode::Train)?.output;
                model_vs.run_update_ops();
                model_opt.backward_step(&logits.cross_entropy_for_logits(&labels));
                Ok(())
            }),
        },
    ];
    compare(&format!("CIFAR ResNet-32 v2 train step, batch {batch}, 2 threads"), steps_arg(20), 3, &mut variants)
}
