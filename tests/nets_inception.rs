//! TF-Slim's inception_v1: the base net's parameter count from TF-Slim's own test (batch-norm moving statistics
//! included), names, end-point shapes, pre-logit features and other input sizes.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{InceptionV1, Network, get_network, inception_v1_arg_scope};
use slim::prelude::*;

mod common;
use common::{assert_end_points, assert_variables};

fn build(net: InceptionV1, vs: &VarStore, side: i64) -> Result<Built<InceptionV1>> {
    arg_scope!(inception_v1_arg_scope(4e-5) => { net.build(vs, "InceptionV1", &[1, 3, side, side]) })
}

#[test]
fn the_base_net_has_tf_slims_parameter_count() {
    // inception_v1_test.testBuildOnlyUptoFinalEndpoint / total params of inception_v1_base: 5,607,184.
    let vs = VarStore::new(Device::Cpu);
    build(InceptionV1::classifier(None), &vs, 224).unwrap();
    assert_eq!(vs.num_model_parameters(), 5_607_184);
    assert!(vs.variables().iter().all(|v| !v.name().contains("Logits")));
}

#[test]
fn names_end_points_and_logits_follow_tf_slim() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(InceptionV1::classifier(Some(1001)), &vs, 224).unwrap();
    assert_variables(
        &vs,
        &[
            "InceptionV1/Conv2d_1a_7x7/weights",
            "InceptionV1/Conv2d_1a_7x7/BatchNorm/beta",
            "InceptionV1/Mixed_3b/Branch_1/Conv2d_0b_3x3/weights",
            "InceptionV1/Mixed_5b/Branch_2/Conv2d_0a_3x3/weights",
            "InceptionV1/Mixed_5c/Branch_3/Conv2d_0b_1x1/BatchNorm/moving_variance",
            "InceptionV1/Logits/Conv2d_0c_1x1/biases",
        ],
    );
    assert!(vs.variable("InceptionV1/Conv2d_1a_7x7/BatchNorm/gamma").is_none(), "batch norm without scale");
    assert_eq!(vs.variable("InceptionV1/Logits/Conv2d_0c_1x1/weights").unwrap().shape(), [1001, 1024, 1, 1]);
    let out = net.forward_t(&Tensor::rand([2, 3, 224, 224], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [2, 1001]);
    assert_end_points(
        &out,
        &[
            ("InceptionV1/Conv2d_1a_7x7", [2, 64, 112, 112]),
            ("InceptionV1/MaxPool_2a_3x3", [2, 64, 56, 56]),
            ("InceptionV1/Conv2d_2c_3x3", [2, 192, 56, 56]),
            ("InceptionV1/Mixed_3c/Branch_3/Conv2d_0b_1x1", [2, 64, 28, 28]),
            ("InceptionV1/Mixed_4f/Branch_0/Conv2d_0a_1x1", [2, 256, 14, 14]),
            ("InceptionV1/Mixed_5c/Branch_1/Conv2d_0b_3x3", [2, 384, 7, 7]),
            ("InceptionV1/Logits/AvgPool_0a_7x7", [2, 1024, 1, 1]),
        ],
    );
    // TF-Slim's inception_v1_test `testBuildEndPoints` (NHWC there), under its keys relative to the net's scope.
    let base: [(&str, [i64; 3]); 16] = [
        ("Conv2d_1a_7x7", [64, 112, 112]),
        ("MaxPool_2a_3x3", [64, 56, 56]),
        ("Conv2d_2b_1x1", [64, 56, 56]),
        ("Conv2d_2c_3x3", [192, 56, 56]),
        ("MaxPool_3a_3x3", [192, 28, 28]),
        ("Mixed_3b", [256, 28, 28]),
        ("Mixed_3c", [480, 28, 28]),
        ("MaxPool_4a_3x3", [480, 14, 14]),
        ("Mixed_4b", [512, 14, 14]),
        ("Mixed_4c", [512, 14, 14]),
        ("Mixed_4d", [512, 14, 14]),
        ("Mixed_4e", [528, 14, 14]),
        ("Mixed_4f", [832, 14, 14]),
        ("MaxPool_5a_2x2", [832, 7, 7]),
        ("Mixed_5b", [832, 7, 7]),
        ("Mixed_5c", [1024, 7, 7]),
    ];
    for (key, [c, h, w]) in base {
        assert_eq!(out.end_points.get(key).map(Tensor::size), Some(vec![2, c, h, w]), "{key}");
    }
    assert!(out.end_points.get("Logits").unwrap().equal(&out.output));
    assert!(!out.end_points.contains("PreLogits"), "inception_v1 has none in TF-Slim");
    let predictions = out.end_points.get("Predictions").unwrap();
    assert!(predictions.allclose(&out.output.softmax(-1, Kind::Float), 1e-6, 1e-7, false));
}

#[test]
fn features_and_other_sizes() {
    let vs = VarStore::new(Device::Cpu);
    let features = build(InceptionV1 { global_pool: true, ..InceptionV1::classifier(None) }, &vs, 160).unwrap();
    let pooled = features.forward_t(&Tensor::rand([1, 3, 160, 160], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(pooled.output.size(), [1, 1024, 1, 1]);

    let vs = VarStore::new(Device::Cpu);
    let error = build(InceptionV1::classifier(Some(10)), &vs, 320).err().unwrap().to_string();
    assert!(error.contains("spatial_squeeze needs 1×1 logits, got [4, 4]"), "{error}");
    let dense = InceptionV1 { spatial_squeeze: false, ..InceptionV1::classifier(Some(10)) };
    let net = build(dense, &VarStore::new(Device::Cpu), 320).unwrap();
    let logits = net.forward_t(&Tensor::rand([1, 3, 320, 320], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(logits.output.size(), [1, 10, 4, 4]);

    let vs = VarStore::new(Device::Cpu);
    assert!(matches!(get_network("inception_v1", &vs, 1001, 4e-5, 3, None).unwrap(), Network::InceptionV1(_)));
}

/// TF-Slim's inception_v2 tests: `testBuildAndCheckAllEndPointsUptoMixed5c`'s shapes (NHWC there) under its
/// keys, `testModelHasExpectedNumberOfParameters` (10,173,112 in `inception_v2_base`), the moving statistics in
/// `moving_vars` as its arg scope puts them, and logits with `Logits` and `Predictions` end points.
#[test]
fn inception_v2_follows_tf_slims_tests() {
    use slim::nets::{InceptionV2, inception_v2_arg_scope};
    let vs = VarStore::new(Device::Cpu);
    let base = InceptionV2 { num_classes: None, ..InceptionV2::classifier(None) };
    let net =
        arg_scope!(inception_v2_arg_scope(4e-5) => { base.build(&vs, "InceptionV2", &[1, 3, 224, 224]) }).unwrap();
    assert_eq!(net.num_parameters(), 10_173_112);
    let moving = vs.collection("moving_vars");
    assert!(!moving.is_empty() && moving.iter().all(|v| v.name().contains("/moving_")), "{moving:?}");
    let out = net.forward_t(&Tensor::rand([2, 3, 224, 224], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    let shapes: [(&str, [i64; 3]); 15] = [
        ("Mixed_3b", [256, 28, 28]),
        ("Mixed_3c", [320, 28, 28]),
        ("Mixed_4a", [576, 14, 14]),
        ("Mixed_4b", [576, 14, 14]),
        ("Mixed_4c", [576, 14, 14]),
        ("Mixed_4d", [576, 14, 14]),
        ("Mixed_4e", [576, 14, 14]),
        ("Mixed_5a", [1024, 7, 7]),
        ("Mixed_5b", [1024, 7, 7]),
        ("Mixed_5c", [1024, 7, 7]),
        ("Conv2d_1a_7x7", [64, 112, 112]),
        ("MaxPool_2a_3x3", [64, 56, 56]),
        ("Conv2d_2b_1x1", [64, 56, 56]),
        ("Conv2d_2c_3x3", [192, 56, 56]),
        ("MaxPool_3a_3x3", [192, 28, 28]),
    ];
    for (key, [c, h, w]) in shapes {
        assert_eq!(out.end_points.get(key).map(Tensor::size), Some(vec![2, c, h, w]), "{key}");
    }
    assert_eq!(out.output.size(), [2, 1024, 1, 1], "the pooled features without classes");

    let vs = VarStore::new(Device::Cpu);
    let classifier = InceptionV2::classifier(Some(1001));
    let net = arg_scope!(inception_v2_arg_scope(4e-5) => { classifier.build(&vs, "InceptionV2", &[1, 3, 224, 224]) })
        .unwrap();
    let out = net.forward_t(&Tensor::rand([1, 3, 224, 224], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [1, 1001]);
    assert!(out.end_points.get("Logits").unwrap().equal(&out.output));
    let predictions = out.end_points.get("Predictions").unwrap();
    assert!(predictions.allclose(&out.output.softmax(-1, Kind::Float), 1e-6, 1e-7, false));
}
