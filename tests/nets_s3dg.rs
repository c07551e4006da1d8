//! TF-Slim's video nets i3d and s3dg (`nets/i3d_test.py` and `nets/s3dg_test.py` ported, NCDHW, on 16-frame clips
//! where TF-Slim's tests take 64, so each temporal size is a quarter of theirs): every end point's shape, half-size
//! images, ten frames, the logits and predictions, separable temporal convs starting as the identity, self-gating
//! computed as `x · sigmoid(W · mean(x))`, and the switches' errors. Names and shapes against research/slim's own
//! nets: `tests/nets_tf_slim_names.rs`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{Network, S3dg, get_network, i3d_arg_scope, s3dg_arg_scope};
use slim::prelude::*;

mod common;
use common::rand;

fn build(net: S3dg, vs: &VarStore, clip: [i64; 5]) -> Result<Built<S3dg>> {
    let scope = match net.separable_conv3d {
        true => s3dg_arg_scope(1e-7, 0.999, 0.001),
        false => i3d_arg_scope(1e-7, 0.999, 0.001, false),
    };
    arg_scope!(scope => { net.build(vs, "InceptionV1", &clip) })
}

fn shape(out: &ModelOutput, name: &str) -> Vec<i64> {
    out.end_points.get(name).unwrap_or_else(|| panic!("{name} is no end point")).size()
}

/// TF-Slim's `testBuildAndCheckAllEndPointsUptoMixed5c` shapes, NCDHW, for `frames` frames of `side`×`side`.
fn expected_end_points(frames: i64) -> [(&'static str, [i64; 4]); 16] {
    let (t1, t2, t3) = (frames / 2, frames / 4, frames / 8);
    [
        ("Conv2d_1a_7x7", [64, t1, 112, 112]),
        ("MaxPool_2a_3x3", [64, t1, 56, 56]),
        ("Conv2d_2b_1x1", [64, t1, 56, 56]),
        ("Conv2d_2c_3x3", [192, t1, 56, 56]),
        ("MaxPool_3a_3x3", [192, t1, 28, 28]),
        ("Mixed_3b", [256, t1, 28, 28]),
        ("Mixed_3c", [480, t1, 28, 28]),
        ("MaxPool_4a_3x3", [480, t2, 14, 14]),
        ("Mixed_4b", [512, t2, 14, 14]),
        ("Mixed_4c", [512, t2, 14, 14]),
        ("Mixed_4d", [512, t2, 14, 14]),
        ("Mixed_4e", [528, t2, 14, 14]),
        ("Mixed_4f", [832, t2, 14, 14]),
        ("MaxPool_5a_2x2", [832, t3, 7, 7]),
        ("Mixed_5b", [832, t3, 7, 7]),
        ("Mixed_5c", [1024, t3, 7, 7]),
    ]
}

#[test]
fn i3d_and_s3dg_end_points_logits_and_predictions() {
    for net in [S3dg::i3d(Some(400)), S3dg::classifier(Some(400))] {
        let separable = net.separable_conv3d;
        let vs = VarStore::new(Device::Cpu);
        let built = build(net, &vs, [1, 3, 16, 224, 224]).unwrap();
        let out = built.forward_t(&rand(&[1, 3, 16, 224, 224]), Mode::Eval).unwrap();
        for (name, [channels, frames, height, width]) in expected_end_points(16) {
            assert_eq!(shape(&out, name), [1, channels, frames, height, width], "{name} (separable {separable})");
        }
        assert_eq!(out.output.size(), [1, 400]);
        let total = out.end_points.get("Predictions").unwrap().sum(Kind::Float).double_value(&[]);
        assert!((total - 1.0).abs() < 1e-5, "the predictions are a softmax");
        let gates = vs.variables().iter().filter(|v| v.name().contains("self_gating")).count();
        assert_eq!(gates, if separable { 1 + 9 * 4 } else { 0 }, "Conv2d_2c_3x3 and every branch of 9 blocks");
        assert_eq!(
            vs.collection("moving_vars").len(),
            vs.variables().iter().filter(|v| v.name().contains("moving_")).count()
        );
    }
}

#[test]
fn half_size_images_and_ten_frames() {
    let vs = VarStore::new(Device::Cpu);
    let built = build(S3dg::classifier(None), &vs, [1, 3, 16, 112, 112]).unwrap();
    let out = built.forward_t(&rand(&[1, 3, 16, 112, 112]), Mode::Eval).unwrap();
    assert_eq!(shape(&out, "Mixed_5c"), [1, 1024, 2, 4, 4], "testHalfSizeImages");
    assert_eq!(out.output.size(), [1, 1024, 1, 1, 1], "no classes: the pooled features");
    let vs = VarStore::new(Device::Cpu);
    let built = build(S3dg::i3d(Some(5)), &vs, [1, 3, 10, 160, 160]).unwrap();
    let out = built.forward_t(&rand(&[2, 3, 10, 160, 160]), Mode::Train).unwrap();
    assert_eq!(shape(&out, "Mixed_5c"), [2, 1024, 2, 5, 5], "testTenFrames (at 160×160)");
    assert_eq!(out.output.size(), [2, 5]);
}

#[test]
fn separable_convs_start_as_identity_in_time_and_gates_scale_by_a_sigmoid() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(S3dg::classifier(Some(3)), &vs, [1, 3, 8, 64, 64]).unwrap();
    let out = net.forward_t(&rand(&[1, 3, 8, 64, 64]), Mode::Eval).unwrap();
    let ends = &out.end_points;
    let spatial = ends.get("Mixed_3b/Branch_1/Conv2d_0b_3x3").unwrap();
    let temporal = ends.get("Mixed_3b/Branch_1/Conv2d_0b_3x3/temporal").unwrap();
    assert!(temporal.equal(spatial), "relu(centred identity over relu'd features) is the spatial output");

    let weights = vs.variable("InceptionV1/Mixed_3b/Branch_1/Conv2d_0b_3x3/self_gating/transformer_W/weights").unwrap();
    assert_eq!(weights.shape(), [128, 128, 1, 1, 1]);
    let mean = temporal.mean_dim(&[2i64, 3, 4][..], true, Kind::Float);
    let gate = mean.conv3d(weights.tensor(), None::<Tensor>, [1, 1, 1], [0, 0, 0], [1, 1, 1], 1).sigmoid();
    let gated = ends.get("Mixed_3b").unwrap().narrow(1, 64, 128);
    assert!(gated.allclose(&(temporal * gate), 1e-5, 1e-6, false), "Branch_1 of Mixed_3b is gated");
}

#[test]
fn the_switches_are_checked_and_the_factory_builds_both() {
    let net = S3dg { first_temporal_kernel_size: 4, ..S3dg::classifier(Some(3)) };
    let error = build(net, &VarStore::new(Device::Cpu), [1, 3, 8, 32, 32]).err().unwrap().to_string();
    assert!(error.contains("first_temporal_kernel_size must be 1, 3, 5 or 7, got 4"), "{error}");
    let net = S3dg { gating_startat: Some("Mixed_6a".into()), ..S3dg::classifier(Some(3)) };
    let error = build(net, &VarStore::new(Device::Cpu), [1, 3, 8, 32, 32]).err().unwrap().to_string();
    assert!(error.contains("\"Mixed_6a\"") && error.contains("Mixed_4b"), "{error}");
    let vs = VarStore::new(Device::Cpu);
    let network = get_network("s3dg", &vs, 7, 1e-7, 3, Some(64)).unwrap();
    assert!(matches!(network, Network::S3dg(_)));
    assert_eq!(network.forward_t(&rand(&[1, 3, 16, 64, 64]), Mode::Eval).unwrap().size(), [1, 7]);
    let error = network.forward_t(&rand(&[1, 3, 64, 64]), Mode::Eval).err().unwrap().to_string();
    assert!(error.contains("rank 5"), "{error}");
}
