//! `inception_resnet_v2` of `models/research/slim/nets/inception_resnet_v2.py`: the base's end-point shapes at
//! 299×299 (in slim's NCHW) as its layer comments give them, TF-Slim's scope names for the repeated residual blocks
//! (`Repeat/block35_1` … `Repeat_2/block8_9`, `Block8`), the residual convs' biases and their l2 decay, the
//! auxiliary and final logits, pre-logit features, and `get_network`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{InceptionResnetV2, get_network, inception_resnet_v2_arg_scope};
use slim::prelude::*;

fn build(vs: &VarStore, net: InceptionResnetV2) -> Built<InceptionResnetV2> {
    let _scope = inception_resnet_v2_arg_scope(4e-5).enter();
    net.build(vs, "InceptionResnetV2", &[1, 3, 299, 299]).unwrap()
}

fn images(batch: i64) -> Tensor {
    Tensor::rand([batch, 3, 299, 299], (Kind::Float, Device::Cpu))
}

#[test]
fn end_points_and_names_follow_tf_slims() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(&vs, InceptionResnetV2::classifier(Some(1000)));
    let out = net.forward_t(&images(1), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [1, 1000]);
    let expected: [(&str, [i64; 4]); 12] = [
        ("Conv2d_1a_3x3", [1, 32, 149, 149]),
        ("Conv2d_2a_3x3", [1, 32, 147, 147]),
        ("Conv2d_2b_3x3", [1, 64, 147, 147]),
        ("MaxPool_3a_3x3", [1, 64, 73, 73]),
        ("Conv2d_3b_1x1", [1, 80, 73, 73]),
        ("Conv2d_4a_3x3", [1, 192, 71, 71]),
        ("MaxPool_5a_3x3", [1, 192, 35, 35]),
        ("Mixed_5b", [1, 320, 35, 35]),
        ("Mixed_6a", [1, 1088, 17, 17]),
        ("PreAuxLogits", [1, 1088, 17, 17]),
        ("Mixed_7a", [1, 2080, 8, 8]),
        ("Conv2d_7b_1x1", [1, 1536, 8, 8]),
    ];
    for (name, shape) in expected {
        assert_eq!(out.end_points.get(name).unwrap_or_else(|| panic!("{name}")).size(), shape, "{name}");
    }
    for (name, shape) in [("AuxLogits", [1, 1000]), ("PreLogitsFlatten", [1, 1536]), ("Logits", [1, 1000])] {
        assert_eq!(out.end_points.get(name).unwrap().size(), shape, "{name}");
    }

    let shapes: Vec<(String, Vec<i64>)> =
        vs.variables().iter().map(|v| (v.name().to_string(), v.tensor().size())).collect();
    let shape_of = |name: &str| shapes.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name}")).1.clone();
    assert_eq!(shape_of("InceptionResnetV2/Repeat/block35_1/Branch_2/Conv2d_0c_3x3/weights"), [64, 48, 3, 3]);
    assert_eq!(shape_of("InceptionResnetV2/Repeat/block35_10/Conv2d_1x1/weights"), [320, 128, 1, 1]);
    assert_eq!(shape_of("InceptionResnetV2/Repeat/block35_10/Conv2d_1x1/biases"), [320]);
    assert_eq!(shape_of("InceptionResnetV2/Repeat_1/block17_20/Conv2d_1x1/weights"), [1088, 384, 1, 1]);
    assert_eq!(shape_of("InceptionResnetV2/Repeat_2/block8_9/Branch_1/Conv2d_0c_3x1/weights"), [256, 224, 3, 1]);
    assert_eq!(shape_of("InceptionResnetV2/Block8/Conv2d_1x1/weights"), [2080, 448, 1, 1]);
    assert_eq!(shape_of("InceptionResnetV2/Mixed_7a/Branch_2/Conv2d_1a_3x3/weights"), [320, 288, 3, 3]);
    assert_eq!(shape_of("InceptionResnetV2/AuxLogits/Conv2d_2a_5x5/weights"), [768, 128, 5, 5]);
    assert_eq!(shape_of("InceptionResnetV2/AuxLogits/Logits/weights"), [1000, 768]);
    assert_eq!(shape_of("InceptionResnetV2/Logits/Logits/weights"), [1000, 1536]);
    assert!(!shapes.iter().any(|(n, _)| n.contains("block35_11") || n.contains("block8_10")), "10, 20 and 9 blocks");
    let blocks = |prefix: &str| {
        let mut found: Vec<&str> =
            shapes.iter().filter_map(|(n, _)| n.strip_prefix(prefix)?.split('/').next()).collect();
        found.dedup();
        found.len()
    };
    assert_eq!(
        (
            blocks("InceptionResnetV2/Repeat/"),
            blocks("InceptionResnetV2/Repeat_1/"),
            blocks("InceptionResnetV2/Repeat_2/")
        ),
        (10, 20, 9)
    );
    let _store = vs.as_default();
    let regularized = get_regularization_losses(None).unwrap();
    let biases = regularized.iter().filter(|loss| loss.name().contains("Conv2d_1x1/biases")).count();
    assert_eq!(biases, 40, "the arg scope decays biases too: every residual block's 1×1 conv");
}

#[test]
fn without_classes_the_pooled_features_and_by_name_in_get_network() {
    let vs = VarStore::new(Device::Cpu);
    let out = build(&vs, InceptionResnetV2::classifier(None)).forward_t(&images(1), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [1, 1536, 1, 1]);
    assert!(out.end_points.get("AuxLogits").is_none() && out.end_points.get("Logits").is_none());
    assert_eq!(slim::nets::default_image_size("inception_resnet_v2"), 299);
    let vs = VarStore::new(Device::Cpu);
    let net = get_network("inception_resnet_v2", &vs, 7, 4e-5, 3, None).unwrap();
    assert_eq!(net.forward_t(&images(1), Mode::Eval).unwrap().size(), [1, 7]);
}
