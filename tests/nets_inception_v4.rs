//! `inception_v4` of `models/research/slim/nets/inception_v4.py`, ported from its `inception_v4_test.py`: every
//! end point's shape at 299×299 (in slim's NCHW), the pre-logits network, no auxiliary logits on request, half-size
//! and 350×400 images, no batch-norm gamma by default; plus TF-Slim's variable names and `get_network`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{InceptionV4, get_network, inception_v4_arg_scope};
use slim::prelude::*;

fn build(vs: &VarStore, net: InceptionV4, side: [i64; 2]) -> Built<InceptionV4> {
    let _scope = inception_v4_arg_scope(4e-5).enter();
    net.build(vs, "InceptionV4", &[1, 3, side[0], side[1]]).unwrap()
}

fn images(batch: i64, side: [i64; 2]) -> Tensor {
    Tensor::rand([batch, 3, side[0], side[1]], (Kind::Float, Device::Cpu))
}

#[test]
fn every_end_point_has_tf_slims_shape_at_299() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(&vs, InceptionV4::classifier(Some(1000)), [299, 299]);
    let out = net.forward_t(&images(2, [299, 299]), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [2, 1000]);
    let mut expected: Vec<(&str, Vec<i64>)> = vec![
        ("Conv2d_1a_3x3", vec![2, 32, 149, 149]),
        ("Conv2d_2a_3x3", vec![2, 32, 147, 147]),
        ("Conv2d_2b_3x3", vec![2, 64, 147, 147]),
        ("Mixed_3a", vec![2, 160, 73, 73]),
        ("Mixed_4a", vec![2, 192, 71, 71]),
        ("Mixed_5a", vec![2, 384, 35, 35]),
        ("Mixed_6a", vec![2, 1024, 17, 17]),
        ("Mixed_7a", vec![2, 1536, 8, 8]),
        ("AuxLogits", vec![2, 1000]),
        ("global_pool", vec![2, 1536, 1, 1]),
        ("PreLogitsFlatten", vec![2, 1536]),
        ("Logits", vec![2, 1000]),
        ("Predictions", vec![2, 1000]),
    ];
    expected.extend(["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_5e"].map(|n| (n, vec![2, 384, 35, 35])));
    expected.extend(
        ["Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_6f", "Mixed_6g", "Mixed_6h"]
            .map(|n| (n, vec![2, 1024, 17, 17])),
    );
    expected.extend(["Mixed_7b", "Mixed_7c", "Mixed_7d"].map(|n| (n, vec![2, 1536, 8, 8])));
    for (name, shape) in expected {
        let tensor = out.end_points.get(name).unwrap_or_else(|| panic!("{name} is no end point"));
        assert_eq!(tensor.size(), shape, "{name}");
    }
    let predictions = out.end_points.get("Predictions").unwrap().sum_dim_intlist(1, false, Kind::Float);
    assert!(predictions.allclose(&Tensor::ones([2], (Kind::Float, Device::Cpu)), 1e-5, 1e-5, false));

    let names: Vec<String> = vs.variables().iter().map(|v| v.name().to_string()).collect();
    for name in [
        "InceptionV4/Conv2d_1a_3x3/weights",
        "InceptionV4/Conv2d_1a_3x3/BatchNorm/beta",
        "InceptionV4/Mixed_3a/Branch_1/Conv2d_0a_3x3/weights",
        "InceptionV4/Mixed_4a/Branch_1/Conv2d_0c_7x1/BatchNorm/moving_variance",
        "InceptionV4/Mixed_5e/Branch_3/Conv2d_0b_1x1/weights",
        "InceptionV4/Mixed_6h/Branch_2/Conv2d_0e_1x7/weights",
        "InceptionV4/Mixed_7a/Branch_1/Conv2d_1a_3x3/weights",
        "InceptionV4/Mixed_7d/Branch_2/Conv2d_0e_3x1/weights",
        "InceptionV4/AuxLogits/Conv2d_2a/weights",
        "InceptionV4/AuxLogits/Aux_logits/weights",
        "InceptionV4/AuxLogits/Aux_logits/biases",
        "InceptionV4/Logits/Logits/weights",
        "InceptionV4/Logits/Logits/biases",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing");
    }
    assert!(!names.iter().any(|n| n.ends_with("BatchNorm/gamma")), "no batch-norm scale by default");
    let aux = vs.variables().into_iter().find(|v| v.name() == "InceptionV4/AuxLogits/Conv2d_2a/weights").unwrap();
    assert_eq!(aux.tensor().size(), [768, 128, 5, 5], "the aux conv covers the whole 5×5 map");
}

#[test]
fn pre_logits_no_aux_logits_and_other_sizes() {
    let vs = VarStore::new(Device::Cpu);
    let features = build(&vs, InceptionV4::classifier(None), [299, 299]);
    let out = features.forward_t(&images(1, [299, 299]), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [1, 1536, 1, 1]);
    assert!(out.end_points.get("Logits").is_none() && out.end_points.get("Predictions").is_none());

    let vs = VarStore::new(Device::Cpu);
    let plain = InceptionV4 { create_aux_logits: false, ..InceptionV4::classifier(Some(10)) };
    let out = build(&vs, plain, [150, 150]).forward_t(&images(1, [150, 150]), Mode::Eval).unwrap();
    assert!(out.end_points.get("AuxLogits").is_none());
    assert!(!vs.variables().iter().any(|v| v.name().contains("AuxLogits")));
    assert_eq!(out.output.size(), [1, 10]);
    assert_eq!(out.end_points.get("Mixed_7d").unwrap().size(), [1, 1536, 3, 3], "half-size images");

    let vs = VarStore::new(Device::Cpu);
    let out = build(&vs, InceptionV4::classifier(Some(10)), [350, 400]).forward_t(&images(1, [350, 400]), Mode::Eval);
    let out = out.unwrap();
    assert_eq!(out.end_points.get("Mixed_7d").unwrap().size(), [1, 1536, 9, 11]);
    assert_eq!(out.output.size(), [1, 10], "the average pool covers the whole 9×11 map");
}

#[test]
fn get_network_builds_it_by_name_at_299() {
    assert_eq!(slim::nets::default_image_size("inception_v4"), 299);
    let vs = VarStore::new(Device::Cpu);
    let net = get_network("inception_v4", &vs, 5, 4e-5, 3, None).unwrap();
    let logits = net.forward_t(&images(1, [299, 299]), Mode::Eval).unwrap();
    assert_eq!(logits.size(), [1, 5]);
}
