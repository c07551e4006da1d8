//! TF-Slim's mobilenet_v3 (`nets/mobilenet/mobilenet_v3_test.py` ported, NCHW): the large and small nets'
//! parameter counts (5,483,032 and 2,542,856 trainable at 1000 classes, as torchvision's MobileNetV3 with the same
//! layers reports), TF-Slim's names, the squeeze-and-excite gate and hard swish checked numerically, the
//! minimalistic and EdgeTPU variants, and the factory's names.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{MobilenetV3, MobilenetV3Version, Network, get_network, mobilenet_training_scope};
use slim::prelude::*;

mod common;
use common::{assert_variables, rand};

fn build(net: MobilenetV3, vs: &VarStore, side: i64) -> Result<Built<MobilenetV3>> {
    let scope = net.version.default_scope();
    arg_scope!(mobilenet_training_scope(4e-5, 0.09, 0.997) => { net.build(vs, scope, &[1, 3, side, side]) })
}

fn trainable(vs: &VarStore) -> i64 {
    vs.collection(TRAINABLE_VARIABLES).iter().map(Variable::numel).sum()
}

fn shape(out: &ModelOutput, name: &str) -> Vec<i64> {
    out.end_points.get(name).unwrap_or_else(|| panic!("{name} is no end point")).size()
}

#[test]
fn mobilenet_v3_large_has_the_published_parameter_count_and_tf_slims_names() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(MobilenetV3::classifier(MobilenetV3Version::Large, Some(1000), 1.0), &vs, 224).unwrap();
    assert_eq!(trainable(&vs), 5_483_032);
    assert_variables(
        &vs,
        &[
            "MobilenetV3/Conv/weights",
            "MobilenetV3/Conv/BatchNorm/beta",
            "MobilenetV3/expanded_conv/depthwise/depthwise_weights",
            "MobilenetV3/expanded_conv/project/weights",
            "MobilenetV3/expanded_conv_3/expand/weights",
            "MobilenetV3/expanded_conv_3/squeeze_excite/Conv/weights",
            "MobilenetV3/expanded_conv_3/squeeze_excite/Conv/biases",
            "MobilenetV3/expanded_conv_3/squeeze_excite/Conv_1/biases",
            "MobilenetV3/expanded_conv_14/project/BatchNorm/gamma",
            "MobilenetV3/Conv_1/BatchNorm/moving_mean",
            "MobilenetV3/Conv_2/weights",
            "MobilenetV3/Conv_2/biases",
            "MobilenetV3/Logits/Conv2d_1c_1x1/biases",
        ],
    );
    assert!(vs.variable("MobilenetV3/Conv_2/BatchNorm/gamma").is_none(), "the last conv has no batch norm");
    assert!(vs.variable("MobilenetV3/expanded_conv_2/squeeze_excite/Conv/weights").is_none(), "no gate there");
    assert_eq!(vs.variable("MobilenetV3/expanded_conv_3/squeeze_excite/Conv/weights").unwrap().shape(), [24, 72, 1, 1]);
    assert_eq!(vs.variable("MobilenetV3/expanded_conv_3/depthwise/depthwise_weights").unwrap().shape(), [72, 1, 5, 5]);
    let out = net.forward_t(&rand(&[1, 3, 224, 224]), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [1, 1000]);
    assert_eq!(shape(&out, "layer_17"), [1, 960, 7, 7], "testMobilenetV3BaseOnly");
    assert_eq!(shape(&out, "layer_18"), [1, 960, 1, 1]);
    assert_eq!(shape(&out, "layer_19"), [1, 1280, 1, 1], "testMobilenetV3Large");
    assert_eq!(shape(&out, "layer_16/output"), [1, 160, 7, 7]);
}

#[test]
fn mobilenet_v3_small_has_the_published_parameter_count() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(MobilenetV3::classifier(MobilenetV3Version::Small, Some(1000), 1.0), &vs, 224).unwrap();
    assert_eq!(trainable(&vs), 2_542_856);
    let out = net.forward_t(&rand(&[1, 3, 224, 224]), Mode::Eval).unwrap();
    assert_eq!(shape(&out, "layer_15"), [1, 1024, 1, 1], "testMobilenetV3Small");
    assert_eq!(shape(&out, "layer_2/depthwise_output"), [1, 16, 56, 56], "the first block strides");
    assert_eq!(vs.variable("MobilenetV3/expanded_conv/squeeze_excite/Conv/weights").unwrap().shape(), [8, 16, 1, 1]);
}

#[test]
fn the_gate_and_hard_swish_compute_tf_slims_functions() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(MobilenetV3::classifier(MobilenetV3Version::Large, Some(10), 1.0), &vs, 64).unwrap();
    let images = rand(&[2, 3, 64, 64]);
    let out = net.forward_t(&images, Mode::Eval).unwrap();
    let padded = images.constant_pad_nd([0, 1, 0, 1]); // TF's SAME at stride 2 pads the end
    let first = padded.conv2d(
        vs.variable("MobilenetV3/Conv/weights").unwrap().tensor(),
        None::<Tensor>,
        [2, 2],
        [0, 0],
        [1, 1],
        1,
    );
    let get =
        |name: &str| vs.variable(&format!("MobilenetV3/Conv/BatchNorm/{name}")).unwrap().tensor().view([1, -1, 1, 1]);
    let normalized = (first - get("moving_mean")) / (get("moving_variance") + 1e-3).sqrt() * get("gamma") + get("beta");
    let swished = &normalized * (&normalized + 3.0).clamp(0.0, 6.0) / 6.0;
    let conv = out.end_points.get("Conv").unwrap();
    assert!(conv.allclose(&swished, 1e-4, 1e-5, false), "Conv: batch norm, then x·relu6(x + 3)/6");

    let depthwise = out.end_points.get("layer_5/depthwise_output").unwrap();
    let weights = |name: &str| {
        vs.variable(&format!("MobilenetV3/expanded_conv_3/squeeze_excite/{name}")).unwrap().tensor().shallow_clone()
    };
    let pooled = depthwise.mean_dim(&[2i64, 3][..], true, Kind::Float);
    let squeezed =
        pooled.conv2d(&weights("Conv/weights"), Some(weights("Conv/biases")), [1, 1], [0, 0], [1, 1], 1).relu();
    let excite = squeezed.conv2d(&weights("Conv_1/weights"), Some(weights("Conv_1/biases")), [1, 1], [0, 0], [1, 1], 1);
    let gate = (excite + 3.0).clamp(0.0, 6.0) * 0.16667;
    let gated = out.end_points.get("expanded_conv_3/squeeze_excite/Conv_1").unwrap();
    assert!(gated.allclose(&gate, 1e-5, 1e-6, false), "the gate is relu6(x + 3)·0.16667");
    let project_weights = vs.variable("MobilenetV3/expanded_conv_3/project/weights").unwrap().tensor().shallow_clone();
    let projected = (depthwise * gate).conv2d(&project_weights, None::<Tensor>, [1, 1], [0, 0], [1, 1], 1);
    let project = out.end_points.get("expanded_conv_3/project").unwrap();
    let get = |name: &str| {
        vs.variable(&format!("MobilenetV3/expanded_conv_3/project/BatchNorm/{name}"))
            .unwrap()
            .tensor()
            .view([1, -1, 1, 1])
    };
    let expected =
        (projected - get("moving_mean")) / (get("moving_variance") + 1e-3).sqrt() * get("gamma") + get("beta");
    assert!(project.allclose(&expected, 1e-4, 1e-5, false), "the projection sees the gated depthwise output");
}

#[test]
fn minimalistic_and_edgetpu_variants() {
    let vs = VarStore::new(Device::Cpu);
    let minimal = MobilenetV3::classifier(MobilenetV3Version::LargeMinimalistic, Some(1001), 1.0);
    let net = build(minimal, &vs, 224).unwrap();
    assert!(vs.variables().iter().all(|v| !v.name().contains("squeeze_excite")), "no gates");
    assert_eq!(vs.variable("MobilenetV3/expanded_conv_3/depthwise/depthwise_weights").unwrap().shape(), [72, 1, 3, 3]);
    let out = net.forward_t(&rand(&[1, 3, 224, 224]), Mode::Eval).unwrap();
    assert_eq!(shape(&out, "layer_19"), [1, 1280, 1, 1]);
    let conv = out.end_points.get("Conv").unwrap();
    assert!(conv.min().double_value(&[]) >= 0.0, "relu, not hard swish");

    let vs = VarStore::new(Device::Cpu);
    let edge = build(MobilenetV3::classifier(MobilenetV3Version::EdgeTpu, Some(1001), 1.0), &vs, 224).unwrap();
    let out = edge.forward_t(&rand(&[1, 3, 224, 224]), Mode::Eval).unwrap();
    assert_eq!(shape(&out, "layer_24"), [1, 1280, 7, 7], "testMobilenetEdgeTpu");
    assert_variables(
        &vs,
        &["MobilenetEdgeTPU/expanded_conv/project/weights", "MobilenetEdgeTPU/Conv_1/BatchNorm/gamma"],
    );
    assert!(vs.variable("MobilenetEdgeTPU/expanded_conv/expand/weights").is_none(), "32 → 32 does not expand");
    assert_eq!(vs.variable("MobilenetEdgeTPU/expanded_conv_1/expand/weights").unwrap().shape(), [128, 16, 3, 3]);
    assert!(vs.variable("MobilenetEdgeTPU/expanded_conv_1/depthwise/depthwise_weights").is_none(), "fused blocks");
    assert_eq!(shape(&out, "layer_3/expansion_output"), [1, 128, 56, 56], "the fused expansion strides");
    let no_residual = out.end_points.get("expanded_conv_13/project").unwrap();
    assert!(out.end_points.get("layer_15").unwrap().equal(no_residual), "residual=False");
}

#[test]
fn the_factory_knows_every_v3_name() {
    for (name, scope, last) in [
        ("mobilenet_v3_large", "MobilenetV3", 1280),
        ("mobilenet_v3_small", "MobilenetV3", 1024),
        ("mobilenet_v3_large_minimalistic", "MobilenetV3", 1280),
        ("mobilenet_v3_small_minimalistic", "MobilenetV3", 1024),
        ("mobilenet_edgetpu", "MobilenetEdgeTPU", 1280),
        ("mobilenet_edgetpu_075", "MobilenetEdgeTPU", 1280),
    ] {
        let vs = VarStore::new(Device::Cpu);
        let network = get_network(name, &vs, 11, 4e-5, 3, Some(64)).unwrap();
        assert!(matches!(network, Network::MobilenetV3(_)), "{name}");
        let weights = vs.variable(&format!("{scope}/Logits/Conv2d_1c_1x1/weights")).unwrap();
        assert_eq!(weights.shape(), [11, last, 1, 1], "{name}");
        let logits = network.forward_t(&rand(&[2, 3, 64, 64]), Mode::Train).unwrap();
        assert_eq!(logits.size(), [2, 11], "{name}");
    }
    let vs = VarStore::new(Device::Cpu);
    get_network("mobilenet_edgetpu_075", &vs, 11, 4e-5, 3, Some(64)).unwrap();
    assert_eq!(vs.variable("MobilenetEdgeTPU/Conv/weights").unwrap().shape()[0], 24, "32 × 0.75");
}

#[test]
fn a_non_square_map_smaller_than_seven_is_refused_by_the_pool() {
    let net = MobilenetV3::classifier(MobilenetV3Version::Small, Some(5), 1.0);
    let shape = [1, 3, 64, 96];
    let result = arg_scope!(mobilenet_training_scope(4e-5, 0.09, 0.997) => {
        net.build(&VarStore::new(Device::Cpu), "MobilenetV3", &shape)
    });
    let error = result.err().unwrap().to_string();
    assert!(error.contains("MobilenetV3/AvgPool2D") && error.contains("got 2×3"), "{error}");
}
