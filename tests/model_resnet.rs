//! The seed-004 CIFAR ResNet of `slim::nets` (6n+2 layers, filters 16/32/64, v1 and v2 blocks, projection
//! shortcut when the stage changes), written with `#[slim::model]`, `arg_scope!` and a `#[slim::add_arg_scope]`
//! block.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::prelude::*;

use slim::nets::CifarResNet;

fn weight_names(net: &Built<CifarResNet>) -> Vec<String> {
    net.model_variables().iter().map(|v| v.name().to_string()).filter(|n| n.ends_with("/weights")).collect()
}

#[test]
fn resnet_v1_has_6n_plus_2_layers_and_two_projections() {
    let vs = VarStore::new(Device::Cpu);
    let net = CifarResNet { n: 3, filters: 16, version: 1, num_classes: 10, weight_decay: 2e-4 }
        .build(&vs, "resnet", &[1, 3, 32, 32])
        .unwrap();
    let weights = weight_names(&net);
    let projections: Vec<&String> = weights.iter().filter(|n| n.contains("shortcut")).collect();
    assert_eq!(weights.len() - projections.len(), 6 * 3 + 2);
    assert_eq!(projections, ["resnet/stage2/block0/shortcut/weights", "resnet/stage3/block0/shortcut/weights"]);
    assert_eq!(vs.variable("resnet/stage3/block2/conv2/weights").unwrap().shape(), [64, 64, 3, 3]);
    assert_eq!(vs.variable("resnet/stage2/block0/shortcut/weights").unwrap().shape(), [32, 16, 1, 1]);
    assert!(vs.variable("resnet/stage1/block0/conv1/BatchNorm/gamma").is_some(), "scale = true from the arg scope");
    assert!(vs.variable("resnet/stage1/block0/conv1/biases").is_none(), "the normalizer replaces biases");
    assert_eq!(vs.variable("resnet/logits/weights").unwrap().shape(), [10, 64]);
    let images = Tensor::rand([4, 3, 32, 32], (Kind::Float, Device::Cpu));
    let out = net.forward_t(&images, Mode::Train).unwrap();
    assert_eq!(out.output.size(), [4, 10]);
    assert_eq!(out.end_points.get("resnet/stage3/block0/conv1").unwrap().size(), [4, 64, 8, 8]);
    assert_eq!(out.end_points.get("resnet/stage2/block0/shortcut").unwrap().size(), [4, 32, 16, 16]);
}

#[test]
fn resnet_v2_preactivates_and_normalizes_at_the_end() {
    let vs = VarStore::new(Device::Cpu);
    let net = CifarResNet { n: 2, filters: 16, version: 2, num_classes: 10, weight_decay: 2e-4 }
        .build(&vs, "resnet_v2", &[1, 3, 32, 32])
        .unwrap();
    assert_eq!(weight_names(&net).len(), 6 * 2 + 2 + 2);
    assert!(vs.variable("resnet_v2/conv1/biases").is_some(), "v2's first conv has no normalizer");
    assert!(vs.variable("resnet_v2/stage1/block0/preact/gamma").is_some());
    assert!(vs.variable("resnet_v2/stage1/block1/conv2/biases").is_some());
    assert!(vs.variable("resnet_v2/postnorm/moving_variance").is_some());
    let out = net.forward_t(&Tensor::rand([2, 3, 32, 32], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [2, 10]);
}

/// A few SGD steps through the replayed model reduce the loss on a fixed batch: gradients reach the variables
/// and the replayed layers read the updated values.
#[test]
fn resnet_trains_through_replayed_layers() {
    tch::manual_seed(0);
    let vs = VarStore::new(Device::Cpu);
    let net = CifarResNet { n: 1, filters: 8, version: 1, num_classes: 4, weight_decay: 2e-4 }
        .build(&vs, "resnet", &[1, 3, 16, 16])
        .unwrap();
    let images = Tensor::rand([8, 3, 16, 16], (Kind::Float, Device::Cpu));
    let labels = Tensor::from_slice(&[0i64, 1, 2, 3, 0, 1, 2, 3]);
    let mut optimizer = tch::nn::OptimizerConfig::build(tch::nn::Sgd::default(), vs.tch(), 0.1).unwrap();
    let mut losses = Vec::new();
    for _ in 0..15 {
        let logits = net.forward_t(&images, Mode::Train).unwrap().output;
        let loss = logits.cross_entropy_for_logits(&labels);
        losses.push(loss.double_value(&[]));
        optimizer.backward_step(&loss);
        vs.run_update_ops();
    }
    assert!(losses[14] < losses[0] * 0.5, "loss went from {} to {}", losses[0], losses[14]);
}
