//! Inference with the model zoo (`get_network`) in channels-last and plain NCHW memory, interleaved: the same
//! net built twice, each pass run with its own setting of `Config::channels_last`. Prints medians
//! and the ratio, one line per net.
//!
//! `cargo bench --bench zoo_layouts [-- PASSES]`

mod common;

use std::time::Instant;

use common::{median, steps_arg};
use slim::backend::Config;
use slim::nets::get_network;
use slim::prelude::*;

/// The nets, their input side and the batch to time.
const NETS: [(&str, i64, i64); 7] = [
    ("cifarnet", 32, 128),
    ("alexnet_v2", 224, 4),
    ("vgg_16", 224, 1),
    ("mobilenet_v1", 224, 4),
    ("inception_v1", 224, 4),
    ("inception_v3", 299, 4),
    ("resnet_v1_50", 224, 4),
];

fn main() -> Result<()> {
    tch::set_num_threads(2);
    slim::backend::allocator::keep_freed_memory();
    let passes = steps_arg(6);
    println!("zoo inference, 2 threads, median of {passes} interleaved passes (after 2 warm-up passes):");
    for (name, side, batch) in NETS {
        let images = Tensor::randn([batch, 3, side, side], (Kind::Float, Device::Cpu));
        let mut nets = Vec::new();
        for channels_last in [true, false] {
            set_channels_last(channels_last);
            let vs = VarStore::new(Device::Cpu);
            nets.push((channels_last, get_network(name, &vs, 1000, 0.0, 3, Some(side))?, vs));
        }
        let mut samples = [Vec::new(), Vec::new()];
        for pass in 0..passes + 2 {
            for ((channels_last, net, _), samples) in nets.iter().zip(&mut samples) {
                set_channels_last(*channels_last);
                let start = Instant::now();
                let _logits = tch::no_grad(|| net.forward_t(&images, Mode::Eval))?;
                if pass >= 2 {
                    samples.push(start.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
        let [nhwc, nchw] = samples.map(median);
        println!(
            "  {name:<14} batch {batch:<3} channels-last {nhwc:8.1} ms   NCHW {nchw:8.1} ms   ratio {:.3}",
            nhwc / nchw
        );
    }
    Ok(())
}

/// Makes channels-last execution the process-wide setting (`on`) or not, from the next convolution on.
fn set_channels_last(on: bool) {
    Config { channels_last: Some(on), ..Config::default() }.apply();
}
