//! One LeNet training step (forward, loss, backward, SGD update; batch 64 of 28×28×1) three ways, interleaved:
//! raw `tch::nn`, slim layers built once and applied with `forward`, and slim's per-step builder calls (which
//! resolve arg scopes and look variables up every step). Prints median milliseconds and the ratios to raw tch.
//!
//! `cargo bench --bench lenet_step [-- STEPS]`

use std::time::Instant;

use slim::prelude::*;
use slim::tch::nn::{self, Module, OptimizerConfig};

const BATCH: i64 = 64;

struct RawLenet {
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl RawLenet {
    fn new(vs: &nn::Path) -> Self {
        let conv = nn::ConvConfig { padding: 2, ..Default::default() };
        RawLenet {
            conv1: nn::conv2d(vs / "conv1", 1, 32, 5, conv),
            conv2: nn::conv2d(vs / "conv2", 32, 64, 5, conv),
            fc1: nn::linear(vs / "fc3", 7 * 7 * 64, 1024, Default::default()),
            fc2: nn::linear(vs / "fc4", 1024, 10, Default::default()),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let x = self.conv1.forward(x).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let x = self.conv2.forward(&x).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let x = self.fc1.forward(&x.flatten(1, -1)).relu().dropout(0.5, true);
        self.fc2.forward(&x)
    }
}

/// The LeNet of TF-Slim's tutorial with slim's builders; `build` returns the layers for reuse.
struct SlimLenet {
    conv1: Conv2d,
    pool1: Pool2d,
    conv2: Conv2d,
    pool2: Pool2d,
    fc3: FullyConnected,
    dropout3: Dropout,
    fc4: FullyConnected,
}

fn slim_lenet(images: &Tensor) -> Result<Tensor> {
    let _scope = VariableScope::new("lenet").reuse(Reuse::Auto).enter()?;
    let net = conv2d(images, 32, [5, 5]).scope("conv1").call()?;
    let net = max_pool2d(&net, [2, 2]).scope("pool1").call()?;
    let net = conv2d(&net, 64, [5, 5]).scope("conv2").call()?;
    let net = max_pool2d(&net, [2, 2]).scope("pool2").call()?;
    let net = fully_connected(&flatten(&net)?, 1024).scope("fc3").call()?;
    let net = dropout(&net, 0.5).scope("dropout3").call()?;
    fully_connected(&net, 10).activation_fn(None).scope("fc4").call()
}

impl SlimLenet {
    fn build(images: &Tensor) -> Result<Self> {
        let _scope = VariableScope::new("lenet").enter()?;
        let (conv1, net) = conv2d(images, 32, [5, 5]).scope("conv1").build()?;
        let (pool1, net) = max_pool2d(&net, [2, 2]).scope("pool1").build()?;
        let (conv2, net) = conv2d(&net, 64, [5, 5]).scope("conv2").build()?;
        let (pool2, net) = max_pool2d(&net, [2, 2]).scope("pool2").build()?;
        let (fc3, net) = fully_connected(&flatten(&net)?, 1024).scope("fc3").build()?;
        let (dropout3, net) = dropout(&net, 0.5).scope("dropout3").build()?;
        let (fc4, _) = fully_connected(&net, 10).activation_fn(None).scope("fc4").build()?;
        Ok(SlimLenet { conv1, pool1, conv2, pool2, fc3, dropout3, fc4 })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let net = self.pool1.forward(&self.conv1.forward(x)?)?;
        let net = self.pool2.forward(&self.conv2.forward(&net)?)?;
        let net = self.dropout3.forward(&self.fc3.forward(&flatten(&net)?)?)?;
        self.fc4.forward(&net)
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn timed(step: &mut dyn FnMut() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    step()?;
    Ok(start.elapsed().as_secs_f64() * 1e3)
}

fn main() -> Result<()> {
    let steps: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(30);
    tch::set_num_threads(2);
    tch::manual_seed(0);
    let images = Tensor::rand([BATCH, 1, 28, 28], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [BATCH], (Kind::Int64, Device::Cpu));
    let sgd = nn::Sgd { momentum: 0.9, ..Default::default() };
    let optimizer_error = |e| Error::Torch { context: "optimizer".into(), source: e };

    let raw_vs = nn::VarStore::new(Device::Cpu);
    let raw = RawLenet::new(&raw_vs.root());
    let mut raw_opt = sgd.build(&raw_vs, 0.01).map_err(optimizer_error)?;
    let mut raw_step = || -> Result<()> {
        let loss = raw.forward(&images).cross_entropy_for_logits(&labels);
        raw_opt.backward_step(&loss);
        let _ = loss.double_value(&[]);
        Ok(())
    };

    let built_vs = VarStore::new(Device::Cpu);
    let built = {
        let _g = built_vs.as_default();
        SlimLenet::build(&images)?
    };
    let mut built_opt = sgd.build(built_vs.tch(), 0.01).map_err(optimizer_error)?;
    let mut built_step = || -> Result<()> {
        let loss = built.forward(&images)?.cross_entropy_for_logits(&labels);
        built_opt.backward_step(&loss);
        let _ = loss.double_value(&[]);
        Ok(())
    };

    let call_vs = VarStore::new(Device::Cpu);
    let _g = call_vs.as_default();
    let _ = slim_lenet(&images)?;
    let mut call_opt = sgd.build(call_vs.tch(), 0.01).map_err(optimizer_error)?;
    let mut call_step = || -> Result<()> {
        let loss = slim_lenet(&images)?.cross_entropy_for_logits(&labels);
        call_opt.backward_step(&loss);
        let _ = loss.double_value(&[]);
        Ok(())
    };

    let (mut raw_ms, mut built_ms, mut call_ms) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..steps + 5 {
        let (r, b, c) = (timed(&mut raw_step)?, timed(&mut built_step)?, timed(&mut call_step)?);
        if i >= 5 {
            raw_ms.push(r);
            built_ms.push(b);
            call_ms.push(c);
        }
    }
    let (raw, built, call) = (median(raw_ms), median(built_ms), median(call_ms));
    println!("LeNet train step, batch {BATCH}, 2 threads, median of {steps} interleaved steps:");
    println!("  raw tch::nn                  {raw:8.2} ms");
    println!("  slim, built layers           {built:8.2} ms   ratio {:.3}", built / raw);
    println!("  slim, builder calls per step {call:8.2} ms   ratio {:.3}", call / raw);
    Ok(())
}
