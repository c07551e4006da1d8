//! TF-Slim's conv2d / fully_connected / repeat / stack cases (layers_test.py), in NCHW with OIHW weights.
#![allow(unused_must_use)] // layers are called for the variables they create
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::prelude::*;

mod common;
use common::{names, rand, shape_of};

/// x[i, j] = i + j on a 4×4 grid, one channel.
fn ramp(n: i64) -> Tensor {
    let i = Tensor::arange(n, (Kind::Float, Device::Cpu));
    (i.unsqueeze(1) + i.unsqueeze(0)).view([1, 1, n, n])
}

fn ramp_init() -> Initializer {
    Initializer::custom(|shape, _, _| Ok(ramp(shape[2]).view(shape)))
}

fn ramp_conv(stride: i64) -> Tensor {
    conv2d(&ramp(4), 1, 3).stride(stride).weights_initializer(ramp_init()).activation_fn(None).call().unwrap()
}

fn assert_values(t: &Tensor, expected: &[f32]) {
    let got: Vec<f32> = t.flatten(0, -1).try_into().unwrap();
    assert_eq!(got, expected);
}

#[test]
fn same_padding_is_tf_asymmetric_at_stride_two() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    assert_values(&ramp_conv(1), &[14., 28., 43., 26., 28., 48., 66., 37., 43., 66., 84., 46., 26., 37., 46., 22.]);
    assert_values(&ramp_conv(2), &[48., 37., 37., 22.]);
}

#[test]
fn conv2d_creates_weights_and_biases_from_the_input() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let out = conv2d(&rand(&[5, 4, 7, 9]), 32, [3, 3]).call().unwrap();
    assert_eq!(out.size(), [5, 32, 7, 9]);
    assert_eq!(names(&vs), ["Conv/weights", "Conv/biases"]);
    assert_eq!(shape_of(&vs, "Conv/weights"), [32, 4, 3, 3]);
    assert_eq!(shape_of(&vs, "Conv/biases"), [32]);
    assert!(out.min().double_value(&[]) >= 0.0, "relu by default");
}

#[test]
fn conv2d_nhwc_input_gives_nhwc_output_and_the_same_weights() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let out = conv2d(&rand(&[5, 7, 9, 4]), 32, [3, 3]).data_format(DataFormat::Nhwc).call().unwrap();
    assert_eq!(out.size(), [5, 7, 9, 32]);
    assert_eq!(shape_of(&vs, "Conv/weights"), [32, 4, 3, 3]);
}

#[test]
fn conv2d_output_shapes() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[5, 4, 7, 9]);
    assert_eq!(conv2d(&x, 32, 3).call().unwrap().size(), [5, 32, 7, 9]);
    assert_eq!(conv2d(&x, 32, [3, 1]).call().unwrap().size(), [5, 32, 7, 9]);
    assert_eq!(vs.variable("Conv_1/weights").unwrap().shape(), [32, 4, 3, 1]);
    assert_eq!(conv2d(&rand(&[5, 4, 6, 8]), 32, 3).stride(2).call().unwrap().size(), [5, 32, 3, 4]);
    assert_eq!(conv2d(&x, 32, 3).padding(Padding::Valid).call().unwrap().size(), [5, 32, 5, 7]);
    let y = rand(&[5, 32, 7, 9]);
    assert_eq!(conv2d(&y, 64, [7, 9]).padding(Padding::Valid).call().unwrap().size(), [5, 64, 1, 1]);
}

#[test]
fn conv2d_dilation_rates() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[5, 3, 10, 12]);
    assert_eq!(conv2d(&x, 32, 3).rate(2).call().unwrap().size(), [5, 32, 10, 12]);
    assert_eq!(conv2d(&x, 32, 3).rate(2).padding(Padding::Valid).call().unwrap().size(), [5, 32, 6, 8]);
    assert_eq!(conv2d(&x, 32, 3).rate([2, 3]).padding(Padding::Valid).call().unwrap().size(), [5, 32, 6, 6]);
    let x = rand(&[5, 3, 9, 11]);
    assert_eq!(conv2d(&x, 32, 3).padding(Padding::Valid).call().unwrap().size(), [5, 32, 7, 9]);
    assert_eq!(conv2d(&x, 32, 3).rate(2).padding(Padding::Valid).call().unwrap().size(), [5, 32, 5, 7]);
    let err = conv2d(&x, 32, 3).rate(2).stride(2).call().unwrap_err().to_string();
    assert!(err.contains("rate") && err.contains("stride"), "{err}");
}

#[test]
fn conv2d_scopes_and_errors() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[5, 3, 7, 9]);
    conv2d(&x, 32, 3).scope("conv1").call().unwrap();
    assert_eq!(names(&vs), ["conv1/weights", "conv1/biases"]);
    let err = conv2d(&rand(&[5, 3, 7, 9, 2]), 32, 3).scope("conv5").call().unwrap_err().to_string();
    assert!(err.contains("conv5") && err.contains("rank 4, got 5"), "{err}");
    let err = conv2d(&x, 32, 3).scope("conv1").call().unwrap_err();
    assert!(matches!(err, Error::DuplicateVariable { .. }), "{err}");
    assert!("CHWN".parse::<DataFormat>().is_err());
}

#[test]
fn weights_regularizer_registers_one_loss_of_half_the_squared_sum() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    conv2d(&rand(&[5, 3, 7, 9]), 32, 3).weights_regularizer(l2_regularizer(0.01)).call().unwrap();
    let losses = vs.regularization_losses();
    assert_eq!(losses.len(), 1);
    assert_eq!(losses[0].name(), "Conv/weights/Regularizer");
    let w = vs.variable("Conv/weights").unwrap();
    let expected = 0.01 * w.tensor().square().sum(Kind::Float).double_value(&[]) / 2.0;
    assert!((losses[0].value().double_value(&[]) - expected).abs() < 1e-6);
    conv2d(&rand(&[5, 3, 7, 9]), 32, 3).call().unwrap();
    assert_eq!(vs.regularization_losses().len(), 1);
}

#[test]
fn negative_regularizer_scale_is_an_error_naming_the_variable() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let err = conv2d(&rand(&[1, 3, 4, 4]), 2, 3).scope("c").weights_regularizer(l2_regularizer(-1.0)).call();
    let err = err.unwrap_err().to_string();
    assert!(err.contains("c/weights") && err.contains("less than 0"), "{err}");
}

#[test]
fn reuse_shares_variables_and_registers_no_new_losses() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let _a = ArgScope::current().with(conv2d::Args::default().weights_regularizer(l2_regularizer(0.01))).enter();
    let x = rand(&[5, 3, 7, 9]);
    conv2d(&x, 32, 3).scope("conv1").call().unwrap();
    conv2d(&x, 32, 3).scope("conv1").reuse(true).call().unwrap();
    assert_eq!(vs.variables().len(), 2);
    assert_eq!(vs.regularization_losses().len(), 1);
    conv2d(&x, 32, 3).call().unwrap();
    conv2d(&x, 32, 3).call().unwrap();
    assert_eq!(names(&vs)[2..], ["Conv/weights", "Conv/biases", "Conv_1/weights", "Conv_1/biases"]);
}

#[test]
fn reused_scope_rejects_a_changed_channel_count() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    conv2d(&rand(&[1, 3, 5, 5]), 8, 3).scope("conv1").call().unwrap();
    let err = conv2d(&rand(&[1, 4, 5, 5]), 8, 3).scope("conv1").reuse(true).call().unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { ref name, .. } if name == "conv1/weights"), "{err}");
    let (layer, _) = conv2d(&rand(&[1, 3, 5, 5]), 8, 3).scope("conv2").build().unwrap();
    let err = layer.forward(&rand(&[1, 4, 5, 5])).unwrap_err().to_string();
    assert!(err.contains("conv2") && err.contains("expects 3 input channels"), "{err}");
}

#[test]
fn reuse_of_a_missing_scope_is_an_error() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let err = conv2d(&rand(&[1, 3, 5, 5]), 8, 3).scope("nothing").reuse(true).call().unwrap_err().to_string();
    assert!(err.contains("nothing"), "{err}");
}

#[test]
fn batch_norm_normalizer_nests_and_drops_biases() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let bn = Normalizer::BatchNorm(batch_norm::Args::default().decay(0.9));
    let _a = ArgScope::current().with(conv2d::Args::default().normalizer_fn(bn)).enter();
    let x = rand(&[5, 32, 7, 9]);
    conv2d(&x, 32, 3).call().unwrap();
    conv2d(&x, 32, 3).call().unwrap();
    assert_eq!(vs.variables().len(), 8);
    assert_eq!(get_variables(Some("Conv/BatchNorm"), None, GLOBAL_VARIABLES).unwrap().len(), 3);
    assert_eq!(get_variables(Some("Conv_1/BatchNorm"), None, GLOBAL_VARIABLES).unwrap().len(), 3);
    assert!(get_variables_by_name("biases", None).unwrap().is_empty());
    conv2d(&x, 32, 3).scope("Conv").reuse(true).call().unwrap();
    assert_eq!(vs.variables().len(), 8);
}

#[test]
fn outputs_collections_use_the_scope_name_as_alias() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let _outer = VariableScope::new("fe").enter().unwrap();
    let out = conv2d(&rand(&[5, 3, 7, 9]), 8, 3).scope("Conv").outputs_collections("outputs").call().unwrap();
    let collected = vs.outputs("outputs");
    assert_eq!(collected.len(), 1);
    assert_eq!(collected[0].0, "fe/Conv");
    assert!(collected[0].1.equal(&out));
}

#[test]
fn fully_connected_acts_on_the_last_axis() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let out = fully_connected(&rand(&[5, 27]), 32).call().unwrap();
    assert_eq!(out.size(), [5, 32]);
    assert_eq!(shape_of(&vs, "fully_connected/weights"), [32, 27]);
    assert_eq!(shape_of(&vs, "fully_connected/biases"), [32]);
    assert_eq!(fully_connected(&rand(&[5, 4, 27]), 7).call().unwrap().size(), [5, 4, 7]);
    fully_connected(&rand(&[5, 27]), 32).scope("fc1").call().unwrap();
    fully_connected(&rand(&[5, 27]), 32).scope("fc1").reuse(true).call().unwrap();
    assert_eq!(get_variables(Some("fc1"), None, GLOBAL_VARIABLES).unwrap().len(), 2);
    let err = fully_connected(&rand(&[5]), 3).call().unwrap_err().to_string();
    assert!(err.contains("rank 2 or more"), "{err}");
}

#[test]
fn fully_connected_with_batch_norm() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let _a = ArgScope::current().with(fully_connected::Args::default().normalizer_fn(Normalizer::batch_norm())).enter();
    fully_connected(&rand(&[5, 27]), 32).call().unwrap();
    fully_connected(&rand(&[5, 27]), 32).call().unwrap();
    assert_eq!(vs.variables().len(), 8);
    assert_eq!(get_variables(Some("fully_connected/BatchNorm"), None, GLOBAL_VARIABLES).unwrap().len(), 3);
    assert_eq!(get_variables(Some("fully_connected_1/BatchNorm"), None, GLOBAL_VARIABLES).unwrap().len(), 3);
}

#[test]
fn repeat_names_layers_scope_underscore_index() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[5, 3, 3, 3]);
    let out = repeat(&x, 3, None, |net| conv2d(net, 32, [3, 3])).unwrap();
    assert_eq!(out.size(), [5, 32, 3, 3]);
    assert!(vs.variable("Repeat/convolution2d_3/weights").is_some());
    repeat(&x, 3, Some("conv1"), |net| conv2d(net, 32, [3, 3])).unwrap();
    assert!(vs.variable("conv1/conv1_3/weights").is_some());
    assert!(vs.variable("conv1/conv1_4/weights").is_none());
}

#[test]
fn stack_names_layers_and_fails_under_reuse() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let out = stack(&rand(&[5, 27]), None, &[10, 20, 30], |net, &n| fully_connected(net, n)).unwrap();
    assert_eq!(out.size(), [5, 30]);
    assert_eq!(shape_of(&vs, "Stack/fully_connected_3/weights"), [30, 20]);
    let x = rand(&[5, 3, 3, 3]);
    let out = stack(&x, Some("conv1"), &[10, 20, 30], |net, &n| conv2d(net, n, [3, 3]).padding(Padding::Same)).unwrap();
    assert_eq!(out.size(), [5, 30, 3, 3]);
    assert!(vs.variable("conv1/conv1_3/weights").is_some());
    let _reuse = VariableScope::new("conv1").reuse(Reuse::Yes).enter().unwrap();
    assert!(stack(&x, Some("other"), &[10], |net, &n| conv2d(net, n, [3, 3])).is_err());
}

#[test]
fn default_names_restart_when_a_network_is_called_again_in_its_scope() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let net = |x: &Tensor| -> Result<Tensor> {
        let _s = VariableScope::new("net").reuse(Reuse::Auto).enter()?;
        let y = conv2d(x, 4, 3).call()?;
        conv2d(&y, 4, 3).call()
    };
    let x = rand(&[1, 2, 5, 5]);
    net(&x).unwrap();
    net(&x).unwrap();
    assert_eq!(names(&vs), ["net/Conv/weights", "net/Conv/biases", "net/Conv_1/weights", "net/Conv_1/biases"]);
}

#[test]
fn a_valid_kernel_larger_than_the_map_is_an_error_naming_the_layer_and_both_sizes() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let small = rand(&[2, 4, 2, 3]);
    let message = |result: Result<Tensor>| result.err().map(|e| e.to_string()).unwrap_or_default();
    let plain = message(conv2d(&small, 8, [5, 5]).padding(Padding::Valid).scope("fc6").call());
    assert!(
        plain.contains("fc6") && plain.contains("a VALID 5×5 window needs a map at least that large, got 2×3"),
        "{plain}"
    );
    let dilated = message(conv2d(&small, 8, 2).rate(3).padding(Padding::Valid).scope("atrous").call());
    assert!(dilated.contains("atrous") && dilated.contains("VALID 4×4 window"), "{dilated}");
    let volume = message(conv3d(&rand(&[1, 2, 3, 8, 8]), 4, 4).padding(Padding::Valid).scope("c3").call());
    assert!(
        volume.contains("c3") && volume.contains("VALID 4×4×4 window needs a map at least that large, got 3×8×8"),
        "{volume}"
    );
    assert_eq!(conv2d(&small, 8, [5, 5]).scope("same").call().unwrap().size(), [2, 8, 2, 3], "SAME pads instead");
}
