//! TF-Slim's inception_v3: the base net's parameter count from TF-Slim's own test (21,802,784 with the
//! batch-norm moving statistics), its irregular checkpoint names, end-point shapes at 299, the auxiliary
//! logits, depth multipliers and pre-logit features.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{InceptionV3, Network, get_network, inception_v3_arg_scope};
use slim::prelude::*;

mod common;
use common::{assert_end_points, assert_variables};

fn build(net: InceptionV3, vs: &VarStore, side: i64) -> Result<Built<InceptionV3>> {
    arg_scope!(inception_v3_arg_scope(4e-5) => { net.build(vs, "InceptionV3", &[1, 3, side, side]) })
}

#[test]
fn the_base_net_has_tf_slims_parameter_count() {
    let vs = VarStore::new(Device::Cpu);
    build(InceptionV3::classifier(None), &vs, 299).unwrap();
    assert_eq!(vs.num_model_parameters(), 21_802_784);
    assert!(vs.variables().iter().all(|v| !v.name().contains("Logits")), "no logits and no auxiliary logits");
}

#[test]
fn names_end_points_and_auxiliary_logits_follow_tf_slim() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(InceptionV3::classifier(Some(1001)), &vs, 299).unwrap();
    assert_variables(
        &vs,
        &[
            "InceptionV3/Conv2d_1a_3x3/weights",
            "InceptionV3/Conv2d_1a_3x3/BatchNorm/beta",
            "InceptionV3/Mixed_5b/Branch_3/Conv2d_0b_1x1/weights",
            "InceptionV3/Mixed_5c/Branch_1/Conv_1_0c_5x5/weights",
            "InceptionV3/Mixed_5c/Branch_1/Conv2d_0b_1x1/weights",
            "InceptionV3/Mixed_6a/Branch_0/Conv2d_1a_1x1/weights",
            "InceptionV3/Mixed_6e/Branch_2/Conv2d_0e_1x7/weights",
            "InceptionV3/Mixed_7b/Branch_1/Conv2d_0b_3x1/weights",
            "InceptionV3/Mixed_7c/Branch_1/Conv2d_0c_3x1/weights",
            "InceptionV3/AuxLogits/Conv2d_2a_5x5/weights",
            "InceptionV3/AuxLogits/Conv2d_2b_1x1/biases",
            "InceptionV3/Logits/Conv2d_1c_1x1/weights",
        ],
    );
    assert!(vs.variable("InceptionV3/Conv2d_1a_3x3/BatchNorm/gamma").is_none(), "batch norm without scale");
    assert_eq!(vs.variable("InceptionV3/Mixed_6a/Branch_0/Conv2d_1a_1x1/weights").unwrap().shape(), [384, 288, 3, 3]);
    let out = net.forward_t(&Tensor::rand([1, 3, 299, 299], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [1, 1001]);
    assert_end_points(
        &out,
        &[
            ("InceptionV3/Conv2d_1a_3x3", [1, 32, 149, 149]),
            ("InceptionV3/Conv2d_2b_3x3", [1, 64, 147, 147]),
            ("InceptionV3/MaxPool_5a_3x3", [1, 192, 35, 35]),
            ("InceptionV3/Mixed_5d/Branch_3/Conv2d_0b_1x1", [1, 64, 35, 35]),
            ("InceptionV3/Mixed_6a/Branch_1/Conv2d_1a_1x1", [1, 96, 17, 17]),
            ("InceptionV3/Mixed_6e/Branch_1/Conv2d_0c_7x1", [1, 192, 17, 17]),
            ("InceptionV3/Mixed_7a/Branch_0/Conv2d_1a_3x3", [1, 320, 8, 8]),
            ("InceptionV3/Mixed_7c/Branch_2/Conv2d_0d_3x1", [1, 384, 8, 8]),
            ("InceptionV3/AuxLogits/Conv2d_2b_1x1", [1, 1001, 1, 1]),
            ("InceptionV3/Logits/AvgPool_1a_8x8", [1, 2048, 1, 1]),
        ],
    );
    // TF-Slim's inception_v3_test `testBuildEndPoints` (NHWC there), under its keys relative to the net's scope.
    let base: [(&str, [i64; 3]); 18] = [
        ("Conv2d_1a_3x3", [32, 149, 149]),
        ("Conv2d_2a_3x3", [32, 147, 147]),
        ("Conv2d_2b_3x3", [64, 147, 147]),
        ("MaxPool_3a_3x3", [64, 73, 73]),
        ("Conv2d_3b_1x1", [80, 73, 73]),
        ("Conv2d_4a_3x3", [192, 71, 71]),
        ("MaxPool_5a_3x3", [192, 35, 35]),
        ("Mixed_5b", [256, 35, 35]),
        ("Mixed_5c", [288, 35, 35]),
        ("Mixed_5d", [288, 35, 35]),
        ("Mixed_6a", [768, 17, 17]),
        ("Mixed_6b", [768, 17, 17]),
        ("Mixed_6c", [768, 17, 17]),
        ("Mixed_6d", [768, 17, 17]),
        ("Mixed_6e", [768, 17, 17]),
        ("Mixed_7a", [1280, 8, 8]),
        ("Mixed_7b", [2048, 8, 8]),
        ("Mixed_7c", [2048, 8, 8]),
    ];
    for (key, [c, h, w]) in base {
        assert_eq!(out.end_points.get(key).map(Tensor::size), Some(vec![1, c, h, w]), "{key}");
    }
    assert!(out.end_points.get("Mixed_7c").unwrap().equal(out.end_points.get("InceptionV3/Mixed_7c").unwrap()));
    let head = [("AuxLogits", vec![1, 1001]), ("PreLogits", vec![1, 2048, 1, 1]), ("Logits", vec![1, 1001])];
    for (key, shape) in head {
        assert_eq!(out.end_points.get(key).map(Tensor::size), Some(shape), "{key}");
    }
    assert!(out.end_points.get("Logits").unwrap().equal(&out.output));
    let predictions = out.end_points.get("Predictions").unwrap();
    assert!(predictions.allclose(&out.output.softmax(-1, Kind::Float), 1e-6, 1e-7, false));
}

#[test]
fn thinner_nets_small_inputs_and_features() {
    let vs = VarStore::new(Device::Cpu);
    let thin = InceptionV3 { depth_multiplier: 0.5, ..InceptionV3::classifier(Some(10)) };
    let net = build(thin, &vs, 150).unwrap();
    assert_eq!(vs.variable("InceptionV3/Conv2d_4a_3x3/weights").unwrap().shape(), [96, 40, 3, 3]);
    assert!(vs.variable("InceptionV3/Logits/Conv2d_1c_1x1/weights").is_some());
    let out = net.forward_t(&Tensor::rand([2, 3, 150, 150], (Kind::Float, Device::Cpu)), Mode::Train).unwrap();
    assert_eq!(out.output.size(), [2, 10], "a 3×3 final map is pooled by a 3×3 kernel");
    assert!(out.end_points.contains("InceptionV3/Logits/AvgPool_1a_3x3"));

    let vs = VarStore::new(Device::Cpu);
    let features = InceptionV3 { global_pool: true, ..InceptionV3::classifier(None) };
    let pooled = build(features, &vs, 160).unwrap();
    let out = pooled.forward_t(&Tensor::rand([1, 3, 160, 160], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [1, 2048, 1, 1]);

    let vs = VarStore::new(Device::Cpu);
    assert!(matches!(get_network("inception_v3", &vs, 5, 4e-5, 3, Some(139)).unwrap(), Network::InceptionV3(_)));
}
