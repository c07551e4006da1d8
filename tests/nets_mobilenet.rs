//! TF-Slim's mobilenet_v1: parameter counts (MobileNet 1.0 at 1000 classes: 4,231,976 trainable and 4,253,864
//! with the batch-norm moving statistics, as Keras' MobileNet, which has the same layers, reports), names,
//! end-point shapes, thinner nets by depth multiplier, pre-logit features and small inputs.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{MobilenetV1, Network, get_network, mobilenet_v1_arg_scope};
use slim::prelude::*;

mod common;
use common::{assert_end_points, assert_variables};

fn build(net: MobilenetV1, vs: &VarStore, side: i64) -> Result<Built<MobilenetV1>> {
    arg_scope!(mobilenet_v1_arg_scope(4e-5, 0.09) => { net.build(vs, "MobilenetV1", &[1, 3, side, side]) })
}

fn trainable(vs: &VarStore) -> i64 {
    vs.collection(TRAINABLE_VARIABLES).iter().map(Variable::numel).sum()
}

#[test]
fn mobilenet_1_0_has_the_published_parameter_counts_and_tf_slims_names() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(MobilenetV1::classifier(Some(1000), 1.0), &vs, 224).unwrap();
    assert_eq!(trainable(&vs), 4_231_976);
    assert_eq!(vs.num_model_parameters(), 4_253_864);
    assert_variables(
        &vs,
        &[
            "MobilenetV1/Conv2d_0/weights",
            "MobilenetV1/Conv2d_0/BatchNorm/gamma",
            "MobilenetV1/Conv2d_1_depthwise/depthwise_weights",
            "MobilenetV1/Conv2d_1_depthwise/BatchNorm/moving_mean",
            "MobilenetV1/Conv2d_13_pointwise/weights",
            "MobilenetV1/Logits/Conv2d_1c_1x1/biases",
        ],
    );
    assert!(vs.variable("MobilenetV1/Conv2d_1_depthwise/biases").is_none(), "batch norm replaces the biases");
    let regularized: Vec<String> = vs.regularization_losses().iter().map(|l| l.name().to_string()).collect();
    assert!(regularized.iter().all(|name| !name.contains("depthwise")), "depthwise weights are not regularized");
    assert_eq!(regularized.len(), 1 + 13 + 1, "Conv2d_0, the 13 pointwise convs and the logits");
    let out = net.forward_t(&Tensor::rand([2, 3, 224, 224], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [2, 1000]);
    assert_end_points(
        &out,
        &[
            ("MobilenetV1/Conv2d_0", [2, 32, 112, 112]),
            ("MobilenetV1/Conv2d_1_depthwise", [2, 32, 112, 112]),
            ("MobilenetV1/Conv2d_1_pointwise", [2, 64, 112, 112]),
            ("MobilenetV1/Conv2d_2_depthwise", [2, 64, 56, 56]),
            ("MobilenetV1/Conv2d_11_pointwise", [2, 512, 14, 14]),
            ("MobilenetV1/Conv2d_13_pointwise", [2, 1024, 7, 7]),
            ("MobilenetV1/Logits/AvgPool_1a", [2, 1024, 1, 1]),
        ],
    );
}

#[test]
fn depth_multipliers_thin_every_layer_down_to_min_depth() {
    let vs = VarStore::new(Device::Cpu);
    build(MobilenetV1::classifier(Some(10), 0.25), &vs, 128).unwrap();
    assert_eq!(vs.variable("MobilenetV1/Conv2d_0/weights").unwrap().shape(), [8, 3, 3, 3]);
    assert_eq!(vs.variable("MobilenetV1/Conv2d_13_pointwise/weights").unwrap().shape(), [256, 256, 1, 1]);
    assert_eq!(vs.variable("MobilenetV1/Conv2d_1_depthwise/depthwise_weights").unwrap().shape(), [8, 1, 3, 3]);
    let error = build(MobilenetV1::classifier(Some(10), 0.0), &VarStore::new(Device::Cpu), 128).err().unwrap();
    assert!(error.to_string().contains("depth_multiplier must be > 0"), "{error}");
}

#[test]
fn small_inputs_features_and_the_factory() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(MobilenetV1::classifier(Some(5), 0.5), &vs, 96).unwrap();
    let logits = net.forward_t(&Tensor::rand([2, 3, 96, 96], (Kind::Float, Device::Cpu)), Mode::Train).unwrap();
    assert_eq!(logits.output.size(), [2, 5], "a 3×3 final map is pooled by a 3×3 kernel");
    let vs = VarStore::new(Device::Cpu);
    let features = MobilenetV1 { global_pool: true, ..MobilenetV1::classifier(None, 1.0) };
    let pooled = build(features, &vs, 160).unwrap();
    let out = pooled.forward_t(&Tensor::rand([1, 3, 160, 160], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [1, 1024, 1, 1]);
    let vs = VarStore::new(Device::Cpu);
    assert!(matches!(get_network("mobilenet_v1_050", &vs, 1001, 4e-5, 3, Some(128)).unwrap(), Network::MobilenetV1(_)));
    assert_eq!(vs.variable("MobilenetV1/Conv2d_13_pointwise/weights").unwrap().shape(), [512, 512, 1, 1]);
}
