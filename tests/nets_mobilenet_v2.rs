//! TF-Slim's mobilenet_v2 (`nets/mobilenet/mobilenet_v2_test.py` ported, NCHW): the published parameter count
//! (3,504,872 trainable at 1000 classes, as torchvision's and Keras' MobileNetV2 with the same layers report),
//! TF-Slim's variable names, end points, image sizes, output strides, `divisible_by`/`min_depth`, the fine-grain
//! mode, the residual connections and the factory's three names.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;

use slim::nets::{MobilenetV2, Network, get_network, mobilenet_training_scope};
use slim::prelude::*;

mod common;
use common::{assert_end_points, assert_variables, rand};

fn build(net: MobilenetV2, vs: &VarStore, shape: [i64; 4]) -> Result<Built<MobilenetV2>> {
    arg_scope!(mobilenet_training_scope(4e-5, 0.09, 0.997) => { net.build(vs, "MobilenetV2", &shape) })
}

fn trainable(vs: &VarStore) -> i64 {
    vs.collection(TRAINABLE_VARIABLES).iter().map(Variable::numel).sum()
}

/// The output depths of every conv that is not depthwise (TF's `Conv2D` ops), as the TF-Slim tests collect them.
fn conv_depths(vs: &VarStore) -> BTreeSet<i64> {
    vs.variables().iter().filter(|v| v.name().ends_with("/weights")).map(|v| v.shape()[0]).collect()
}

#[test]
fn mobilenet_v2_has_the_published_parameter_count_and_tf_slims_names() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(MobilenetV2::classifier(Some(1000), 1.0), &vs, [1, 3, 224, 224]).unwrap();
    assert_eq!(trainable(&vs), 3_504_872);
    assert_variables(
        &vs,
        &[
            "MobilenetV2/Conv/weights",
            "MobilenetV2/Conv/BatchNorm/gamma",
            "MobilenetV2/expanded_conv/depthwise/depthwise_weights",
            "MobilenetV2/expanded_conv/depthwise/BatchNorm/moving_variance",
            "MobilenetV2/expanded_conv/project/weights",
            "MobilenetV2/expanded_conv_1/expand/weights",
            "MobilenetV2/expanded_conv_1/expand/BatchNorm/beta",
            "MobilenetV2/expanded_conv_16/project/BatchNorm/moving_mean",
            "MobilenetV2/Conv_1/weights",
            "MobilenetV2/Logits/Conv2d_1c_1x1/weights",
            "MobilenetV2/Logits/Conv2d_1c_1x1/biases",
        ],
    );
    assert!(vs.variable("MobilenetV2/expanded_conv/expand/weights").is_none(), "the first block does not expand");
    assert!(vs.variable("MobilenetV2/expanded_conv_17/project/weights").is_none(), "17 blocks");
    assert_eq!(vs.variable("MobilenetV2/expanded_conv_16/expand/weights").unwrap().shape(), [960, 160, 1, 1]);
    let regularized = vs.regularization_losses().len();
    assert_eq!(regularized, 1 + 16 + 17 + 1 + 1, "Conv, 16 expansions, 17 projections, Conv_1, the logits");
    let out = net.forward_t(&rand(&[2, 3, 224, 224]), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [2, 1000]);
    assert_end_points(
        &out,
        &[
            ("layer_1", [2, 32, 112, 112]),
            ("layer_2/depthwise_output", [2, 32, 112, 112]),
            ("layer_2/output", [2, 16, 112, 112]),
            ("layer_3/expansion_output", [2, 96, 112, 112]),
            ("layer_3/depthwise_output", [2, 96, 56, 56]),
            ("layer_3", [2, 24, 56, 56]),
            ("layer_18/output", [2, 320, 7, 7]),
            ("layer_19", [2, 1280, 7, 7]),
            ("global_pool", [2, 1280, 1, 1]),
        ],
    );
    for layer in 2..=17 {
        assert!(out.end_points.get(&format!("layer_{layer}/depthwise_output")).is_some(), "layer_{layer}");
    }
    assert!(out.end_points.get("layer_2/expansion_output").is_none());
    let predictions = out.end_points.get("Predictions").unwrap().sum_dim_intlist(1, false, Kind::Float);
    assert!(predictions.allclose(&Tensor::ones([2], (Kind::Float, Device::Cpu)), 1e-5, 1e-5, false));
}

#[test]
fn blocks_add_their_input_back_only_at_stride_one_and_equal_depth() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(MobilenetV2::classifier(Some(10), 1.0), &vs, [1, 3, 64, 64]).unwrap();
    let out = net.forward_t(&rand(&[1, 3, 64, 64]), Mode::Eval).unwrap();
    let ends = &out.end_points;
    let project = ends.get("expanded_conv_2/project").unwrap();
    let residual = project + ends.get("layer_3").unwrap();
    assert!(ends.get("layer_4").unwrap().allclose(&residual, 1e-5, 1e-5, false), "24 → 24 at stride 1 adds");
    let strided = ends.get("expanded_conv_1/project").unwrap();
    assert!(ends.get("layer_3").unwrap().equal(strided), "stride 2 does not add");
    let deeper = ends.get("expanded_conv_10/project").unwrap();
    assert!(ends.get("layer_12").unwrap().equal(deeper), "64 → 96 does not add");
}

#[test]
fn image_sizes_give_tf_slims_final_maps() {
    for (input, output) in [(224, 7), (192, 6), (160, 5), (128, 4), (96, 3)] {
        let vs = VarStore::new(Device::Cpu);
        let net = build(MobilenetV2::classifier(Some(1001), 1.0), &vs, [1, 3, input, input]).unwrap();
        let out = net.forward_t(&rand(&[2, 3, input, input]), Mode::Eval).unwrap();
        assert_eq!(out.end_points.get("layer_18/output").unwrap().size()[2..], [output, output], "{input}");
        assert_eq!(out.output.size(), [2, 1001]);
    }
}

#[test]
fn divisible_by_min_depth_and_finegrain_mode_set_the_depths() {
    let vs = VarStore::new(Device::Cpu);
    let net = MobilenetV2 { divisible_by: 16, min_depth: 32, ..MobilenetV2::classifier(Some(1001), 1.0) };
    build(net, &vs, [1, 16, 224, 224]).unwrap();
    let expected = BTreeSet::from([32, 64, 96, 160, 192, 320, 384, 576, 960, 1280, 1001]);
    assert_eq!(conv_depths(&vs), expected, "testDivisibleBy");

    let vs = VarStore::new(Device::Cpu);
    let net = MobilenetV2 { min_depth: 32, ..MobilenetV2::classifier(Some(1001), 0.1) };
    let base = build(net, &vs, [1, 2, 224, 224]).unwrap();
    assert_eq!(conv_depths(&vs), BTreeSet::from([32, 192, 128, 1001]), "testDivisibleByWithArgScope");
    let out = base.forward_t(&rand(&[10, 2, 224, 224]), Mode::Eval).unwrap();
    assert_eq!(out.end_points.get("layer_19").unwrap().size(), [10, 128, 7, 7], "testMobilenetBase");

    let vs = VarStore::new(Device::Cpu);
    let net = MobilenetV2 { finegrain_classification_mode: true, ..MobilenetV2::classifier(Some(1001), 0.01) };
    build(net, &vs, [1, 2, 224, 224]).unwrap();
    assert_eq!(conv_depths(&vs), BTreeSet::from([8, 48, 1001, 1280]), "testFineGrained");
}

#[test]
fn output_strides_keep_the_resolution_with_dilated_depthwise_convs() {
    for (output_stride, side) in [(8, 28), (16, 14), (32, 7)] {
        let vs = VarStore::new(Device::Cpu);
        let net = MobilenetV2 { output_stride: Some(output_stride), ..MobilenetV2::classifier(None, 1.0) };
        let built = build(net, &vs, [1, 16, 224, 224]).unwrap();
        let out = built.forward_t(&rand(&[1, 16, 224, 224]), Mode::Eval).unwrap();
        assert_eq!(out.end_points.get("layer_19").unwrap().size(), [1, 1280, side, side], "{output_stride}");
        assert_eq!(out.output.size(), [1, 1280, 1, 1], "no classes: the pooled features");
    }
    for bad in [0, 3] {
        let net = MobilenetV2 { output_stride: Some(bad), ..MobilenetV2::classifier(None, 1.0) };
        let error = build(net, &VarStore::new(Device::Cpu), [1, 3, 64, 64]).err().unwrap().to_string();
        assert!(error.contains("MobilenetV2") && error.contains("output_stride"), "{error}");
    }
    let net = MobilenetV2::classifier(Some(5), 0.0);
    let error = build(net, &VarStore::new(Device::Cpu), [1, 3, 64, 64]).err().unwrap().to_string();
    assert!(error.contains("depth_multiplier must be > 0"), "{error}");
    let net = MobilenetV2 { divisible_by: 0, ..MobilenetV2::classifier(Some(5), 1.0) };
    let error = build(net, &VarStore::new(Device::Cpu), [1, 3, 64, 64]).err().unwrap().to_string();
    assert!(error.contains("divisible_by and min_depth must be ≥ 1"), "{error}");
}

#[test]
fn the_factory_builds_v2_140_and_the_fine_grained_035() {
    let vs = VarStore::new(Device::Cpu);
    let network = get_network("mobilenet_v2_140", &vs, 1001, 4e-5, 3, Some(96)).unwrap();
    assert!(matches!(network, Network::MobilenetV2(_)));
    assert_eq!(vs.variable("MobilenetV2/Conv/weights").unwrap().shape()[0], 48);
    assert_eq!(vs.variable("MobilenetV2/Conv_1/weights").unwrap().shape()[0], 1792, "1280 × 1.4");
    let vs = VarStore::new(Device::Cpu);
    let network = get_network("mobilenet_v2_035", &vs, 1001, 4e-5, 3, Some(96)).unwrap();
    assert_eq!(vs.variable("MobilenetV2/Conv/weights").unwrap().shape()[0], 16);
    assert_eq!(vs.variable("MobilenetV2/Conv_1/weights").unwrap().shape()[0], 1280, "fine-grain mode");
    let logits = network.forward_t(&rand(&[2, 3, 96, 96]), Mode::Train).unwrap();
    assert_eq!(logits.size(), [2, 1001]);
}
