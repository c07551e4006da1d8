//! Deployment export: `Built::export_torchscript` traces a built model into a TorchScript file that
//! `tch::CModule` (and, with `SLIM_TORCH_PYTHON`, PyTorch's `torch.jit.load`) runs to the model's outputs; moving
//! averages on request; forward passes a trace cannot capture, and existing files, refused with nothing written.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use slim::learning::ExponentialMovingAverage;
use slim::model::{Built, Model, TorchScriptOptions};
use slim::nets::{Lenet, MobilenetV1, lenet_arg_scope, mobilenet_v1_arg_scope};
use slim::prelude::*;
use slim::tch::CModule;

mod common;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-torchscript-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn images(shape: &[i64], seed: f64) -> Tensor {
    let count = shape.iter().product::<i64>();
    (Tensor::arange(count, (Kind::Float, Device::Cpu)) * seed).sin().view(shape)
}

/// The module at `path` gives `net`'s eval-mode output on `input` within 1e-5 (relative to the largest, at least
/// 1: the model's eager pass may take slim's oneDNN dense route, the trace takes `linear`).
fn assert_module_matches<M: Model>(path: &Path, net: &Built<M>, input: &Tensor) {
    let module = CModule::load(path).unwrap();
    let traced = module.forward_ts(&[input]).unwrap();
    let eager = net.forward_t(input, Mode::Eval).unwrap().output;
    assert_eq!(traced.size(), eager.size());
    let scale = eager.abs().max().double_value(&[]).max(1.0);
    let difference = (&traced - &eager).abs().max().double_value(&[]) / scale;
    assert!(difference <= 1e-5, "traced vs eager: {difference} (relative)");
}

#[test]
fn lenet_exports_to_a_module_that_tch_runs_at_any_batch_size() {
    let dir = scratch("lenet");
    tch::manual_seed(1);
    let vs = VarStore::new(Device::Cpu);
    let definition = Lenet { num_classes: Some(10), dropout_keep_prob: 0.5 };
    let net = slim::arg_scope!(lenet_arg_scope(0.0) => { definition.build(&vs, "LeNet", &[1, 1, 28, 28]) }).unwrap();
    let path = dir.join("lenet.pt");
    net.export_torchscript(&path, &images(&[2, 1, 28, 28], 0.1)).unwrap();
    for batch in [1, 2, 5] {
        assert_module_matches(&path, &net, &images(&[batch, 1, 28, 28], 0.37));
    }
    assert!(net.trainable_variables().iter().all(|v| v.tensor().requires_grad()), "requires_grad comes back");
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["lenet.pt"], "no staging file left behind");

    let again = net.export_torchscript(&path, &images(&[1, 1, 28, 28], 0.1));
    let message = again.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("lenet.pt") && message.contains("exists already"), "{message}");
    let overwrite = TorchScriptOptions { overwrite: true, ..TorchScriptOptions::default() };
    net.export_torchscript_with(&path, &images(&[1, 1, 28, 28], 0.1), overwrite).unwrap();

    if let Ok(python) = std::env::var("SLIM_TORCH_PYTHON") {
        let input = images(&[3, 1, 28, 28], 0.21);
        let logits = net.forward_t(&input, Mode::Eval).unwrap().output;
        common::torch_jit_runs(&python, &dir, &path, &input, &logits);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Batch norm (its moving statistics in eval mode), depthwise convolutions, SAME padding and the logits' squeeze.
#[test]
fn mobilenet_with_batch_norm_exports_its_eval_mode() {
    let dir = scratch("mobilenet");
    tch::manual_seed(2);
    let vs = VarStore::new(Device::Cpu);
    let definition = MobilenetV1::classifier(Some(7), 0.25);
    let net = slim::arg_scope!(mobilenet_v1_arg_scope(0.0, 0.09) => {
        definition.build(&vs, "MobilenetV1", &[1, 3, 96, 96])
    })
    .unwrap();
    tch::no_grad(|| {
        for variable in vs.variables().iter().filter(|v| v.name().contains("moving_")) {
            variable.tensor().shallow_clone().copy_(&(Tensor::rand_like(variable.tensor()) + 0.5));
        }
    });
    let path = dir.join("mobilenet.pt");
    net.export_torchscript(&path, &images(&[1, 3, 96, 96], 0.05)).unwrap();
    assert_module_matches(&path, &net, &images(&[3, 3, 96, 96], 0.011));
    if let Ok(python) = std::env::var("SLIM_TORCH_PYTHON") {
        let input = images(&[2, 3, 96, 96], 0.03);
        let logits = net.forward_t(&input, Mode::Eval).unwrap().output;
        common::torch_jit_runs(&python, &dir, &path, &input, &logits);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A small dense net: one layer, so its moving averages are easy to check by hand.
struct Dense;

impl Model for Dense {
    const NAME: &'static str = "Dense";

    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        fully_connected(inputs, 3).activation_fn(None).scope("fc").call()
    }
}

#[test]
fn moving_averages_are_traced_when_asked_and_the_values_come_back() {
    let dir = scratch("averages");
    let vs = VarStore::new(Device::Cpu);
    let net = Dense.build(&vs, "dense", &[1, 4]).unwrap();
    let input = images(&[2, 4], 0.3);
    let asked = TorchScriptOptions { moving_averages: true, ..TorchScriptOptions::default() };
    let missing = net.export_torchscript_with(dir.join("none.pt"), &input, asked);
    let message = missing.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("ExponentialMovingAverage"), "{message}");
    assert!(!dir.join("none.pt").exists());

    let ema = ExponentialMovingAverage::new(&vs, 0.5, net.trainable_variables()).unwrap();
    let weights = vs.variable("dense/fc/weights").unwrap();
    let before = weights.tensor().copy();
    let _ = tch::no_grad(|| weights.tensor().shallow_clone().fill_(1.0));
    ema.apply(1000).unwrap(); // decay min(0.5, 1001/1010): the weights' average is (before + 1) / 2
    let averaged = (&before + 1.0) / 2.0;
    let path = dir.join("averaged.pt");
    net.export_torchscript_with(&path, &input, asked).unwrap();
    assert!(weights.tensor().equal(&Tensor::ones_like(&before)), "the variable keeps its own value");
    let traced = CModule::load(&path).unwrap().forward_ts(&[&input]).unwrap();
    let biases = vs.variable("dense/fc/biases").unwrap().tensor().copy();
    let expected = input.matmul(&averaged.tr()) + biases;
    assert!(traced.allclose(&expected, 1e-5, 1e-6, false), "{traced:?} vs {expected:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A forward pass that branches on an input value read in Rust: the trace keeps its example's branch only.
struct Branching;

impl Model for Branching {
    const NAME: &'static str = "Branching";

    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = fully_connected(inputs, 2).activation_fn(None).scope("fc").call()?;
        Ok(if inputs.double_value(&[0, 0]) > 0.0 { net * 2.0 } else { net * -3.0 })
    }
}

/// A forward pass that reshapes to a batch size read in Rust.
struct FixedBatch;

impl Model for FixedBatch {
    const NAME: &'static str = "FixedBatch";

    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let batch = inputs.size()[0];
        let net = inputs.f_view([batch, -1])?;
        fully_connected(&net, 2).activation_fn(None).scope("fc").call()
    }
}

#[test]
fn forward_passes_the_trace_cannot_capture_are_refused_with_nothing_written() {
    let dir = scratch("refused");
    let vs = VarStore::new(Device::Cpu);
    let branching = Branching.build(&vs, "branching", &[1, 3]).unwrap();
    let path = dir.join("branching.pt");
    let refused = branching.export_torchscript(&path, &Tensor::from_slice(&[1.0f32, 0.5, -1.0]).view([1, 3]));
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("branching") && message.contains("does not compute the model"), "{message}");
    assert!(std::fs::read_dir(&dir).unwrap().next().is_none(), "nothing written, no staging file left");

    let fixed = FixedBatch.build(&vs, "fixed", &[1, 2, 3]).unwrap();
    let path = dir.join("fixed.pt");
    let refused = fixed.export_torchscript(&path, &images(&[2, 2, 3], 0.4));
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("twice the example's size") && message.contains("fixed_batch"), "{message}");
    assert!(!path.exists());
    let one_size = TorchScriptOptions { fixed_batch: true, ..TorchScriptOptions::default() };
    fixed.export_torchscript_with(&path, &images(&[2, 2, 3], 0.4), one_size).unwrap();
    assert_module_matches(&path, &fixed, &images(&[2, 2, 3], 0.9));
    std::fs::remove_dir_all(&dir).unwrap();
}
