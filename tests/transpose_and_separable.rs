//! TF-Slim's conv2d_transpose and separable_conv2d cases: output sizes, names, and numerics checked against
//! their definitions (the gradient of the forward convolution; depthwise then pointwise).
#![allow(unused_must_use)] // layers are called for the variables they create
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::prelude::*;

mod common;
use common::{names, rand, shape_of};

/// An initializer giving a copy of `t` (kept as values: tensors are not `Sync`).
fn fixed(t: &Tensor) -> Initializer {
    let values: Vec<f32> = t.flatten(0, -1).try_into().unwrap();
    let shape = t.size();
    Initializer::custom(move |_, _, _| Ok(Tensor::from_slice(&values).view(shape.as_slice())))
}

fn assert_close(a: &Tensor, b: &Tensor) {
    assert_eq!(a.size(), b.size());
    let diff = (a - b).abs().max().double_value(&[]);
    assert!(diff < 1e-4, "max difference {diff}");
}

/// One L20 row: input, kernel, stride, padding, output.
type SizeCase = (&'static [i64], [i64; 2], [i64; 2], Padding, &'static [i64]);

#[test]
fn conv2d_transpose_output_sizes_are_tfs() {
    // L20, NHWC as in TF-Slim's tests.
    let cases: [SizeCase; 9] = [
        (&[5, 10, 12, 3], [3, 3], [1, 1], Padding::Same, &[5, 10, 12, 32]),
        (&[5, 10, 12, 3], [3, 3], [1, 1], Padding::Valid, &[5, 12, 14, 32]),
        (&[5, 9, 11, 3], [3, 3], [2, 2], Padding::Valid, &[5, 19, 23, 32]),
        (&[1, 1, 1, 1], [2, 2], [2, 2], Padding::Same, &[1, 2, 2, 1]),
        (&[1, 1, 1, 1], [2, 2], [2, 2], Padding::Valid, &[1, 2, 2, 1]),
        (&[1, 3, 2, 1], [2, 4], [2, 1], Padding::Valid, &[1, 6, 5, 1]),
        (&[1, 3, 2, 1], [2, 4], [2, 4], Padding::Valid, &[1, 6, 8, 1]),
        (&[1, 3, 2, 1], [2, 4], [2, 5], Padding::Valid, &[1, 6, 10, 1]),
        (&[5, 9, 11, 3], [3, 3], [2, 2], Padding::Same, &[5, 18, 22, 32]),
    ];
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    for (input, kernel, stride, padding, output) in cases {
        let outputs = *output.last().unwrap();
        let out = conv2d_transpose(&rand(input), outputs, kernel)
            .stride(stride)
            .padding(padding)
            .data_format(DataFormat::Nhwc)
            .call()
            .unwrap();
        assert_eq!(out.size(), output, "{input:?} k{kernel:?} s{stride:?} {padding:?}");
    }
}

#[test]
fn conv2d_transpose_names_weights_in_out_and_applies_relu() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let out = conv2d_transpose(&(rand(&[5, 3, 10, 12]) - 0.5), 32, 3).call().unwrap();
    assert_eq!(names(&vs), ["Conv2d_transpose/weights", "Conv2d_transpose/biases"]);
    assert_eq!(shape_of(&vs, "Conv2d_transpose/weights"), [3, 32, 3, 3]);
    assert_eq!(shape_of(&vs, "Conv2d_transpose/biases"), [32]);
    assert!(out.min().double_value(&[]) >= 0.0);
    conv2d_transpose(&rand(&[5, 3, 10, 12]), 32, 3).call().unwrap();
    assert!(vs.variable("Conv2d_transpose_1/weights").is_some());
}

/// The transposed convolution of `x` is the gradient, with respect to the forward convolution's input, of
/// `<conv(input), x>`: checked for SAME (asymmetric) and VALID, kernels larger and smaller than the stride.
#[test]
fn conv2d_transpose_is_the_gradient_of_the_forward_convolution() {
    let cases = [(3, 2, Padding::Same), (4, 2, Padding::Same), (3, 2, Padding::Valid), (2, 3, Padding::Valid)];
    for (kernel, stride, padding) in cases {
        let vs = VarStore::new(Device::Cpu);
        let _g = vs.as_default();
        let x = rand(&[2, 4, 3, 5]);
        let weights = rand(&[4, 3, kernel, kernel]) - 0.5;
        let transposed = conv2d_transpose(&x, 3, kernel)
            .stride(stride)
            .padding(padding)
            .weights_initializer(fixed(&weights))
            .biases_initializer(None)
            .activation_fn(None)
            .call()
            .unwrap();
        let size = transposed.size();
        let forward_input = Tensor::zeros([2, 3, size[2], size[3]], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let forward = conv2d(&forward_input, 4, kernel)
            .stride(stride)
            .padding(padding)
            .weights_initializer(fixed(&weights))
            .biases_initializer(None)
            .activation_fn(None)
            .call()
            .unwrap();
        assert_eq!(forward.size(), x.size(), "the forward conv maps the output size back to the input's");
        let inner = (forward * &x).sum(Kind::Float);
        let grad = Tensor::run_backward(&[inner], &[&forward_input], false, false).pop().unwrap();
        assert_close(&transposed, &grad);
    }
}

#[test]
fn conv2d_transpose_errors_name_the_scope() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let err = conv2d_transpose(&rand(&[5, 3, 10]), 8, 3).scope("up").call().unwrap_err().to_string();
    assert!(err.contains("up") && err.contains("rank 4, got 3"), "{err}");
    let (layer, _) = conv2d_transpose(&rand(&[5, 3, 10, 12]), 8, 3).scope("up1").build().unwrap();
    let err = layer.forward(&rand(&[5, 4, 10, 12])).unwrap_err().to_string();
    assert!(err.contains("up1") && err.contains("expects 3 input channels") && err.contains("got 4"), "{err}");
}

#[test]
fn separable_conv2d_creates_depthwise_pointwise_and_biases() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let out = separable_conv2d(&rand(&[5, 3, 6, 6]), 32, 3).depth_multiplier(2).call().unwrap();
    assert_eq!(out.size(), [5, 32, 6, 6]);
    assert_eq!(
        names(&vs),
        ["SeparableConv2d/depthwise_weights", "SeparableConv2d/pointwise_weights", "SeparableConv2d/biases"]
    );
    assert_eq!(shape_of(&vs, "SeparableConv2d/depthwise_weights"), [6, 1, 3, 3]);
    assert_eq!(shape_of(&vs, "SeparableConv2d/pointwise_weights"), [32, 6, 1, 1]);
    assert_eq!(shape_of(&vs, "SeparableConv2d/biases"), [32]);
    assert_eq!(get_model_variables(None, None).unwrap().len(), 3);
}

#[test]
fn separable_conv2d_without_num_outputs_is_depthwise_only() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let out = separable_conv2d(&rand(&[5, 3, 6, 6]), None, 3).depth_multiplier(4).stride(2).call().unwrap();
    assert_eq!(out.size(), [5, 12, 3, 3]);
    assert_eq!(names(&vs), ["SeparableConv2d/depthwise_weights", "SeparableConv2d/biases"]);
    assert_eq!(shape_of(&vs, "SeparableConv2d/biases"), [12]);
    let with_bn = separable_conv2d(&rand(&[5, 3, 6, 6]), None, 3)
        .normalizer_fn(Normalizer::BatchNorm(batch_norm::Args::default()))
        .scope("dw")
        .call()
        .unwrap();
    assert_eq!(with_bn.size(), [5, 3, 6, 6]);
    assert!(vs.variable("dw/biases").is_none(), "a normalizer replaces the biases");
    assert!(vs.variable("dw/BatchNorm/beta").is_some());
}

/// Depthwise: output channel `c·multiplier + m` convolves input channel `c` alone, as TF orders it; then the
/// pointwise weights mix those channels.
#[test]
fn separable_conv2d_is_depthwise_then_pointwise() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[2, 3, 5, 5]);
    let depthwise = rand(&[6, 1, 3, 3]) - 0.5;
    let pointwise = rand(&[4, 6, 1, 1]) - 0.5;
    let (layer, out) = separable_conv2d(&x, 4, 3)
        .depth_multiplier(2)
        .padding(Padding::Valid)
        .weights_initializer(fixed(&depthwise))
        .pointwise_initializer(fixed(&pointwise))
        .biases_initializer(constant_initializer(0.25))
        .activation_fn(None)
        .build()
        .unwrap();
    let per_channel: Vec<Tensor> = (0..6)
        .map(|out_channel| {
            let input = x.narrow(1, out_channel / 2, 1);
            input.conv2d(&depthwise.narrow(0, out_channel, 1), None::<&Tensor>, [1, 1], [0, 0], [1, 1], 1)
        })
        .collect();
    let expected = Tensor::cat(&per_channel, 1).conv2d(&pointwise, None::<&Tensor>, [1, 1], [0, 0], [1, 1], 1) + 0.25;
    assert_close(&out, &expected);
    assert_close(&layer.forward(&x).unwrap(), &expected);
    assert_eq!(layer.pointwise_weights().unwrap().size(), [4, 6, 1, 1]);
}

#[test]
fn separable_conv2d_depthwise_fans_are_tfs() {
    // TF's depthwise weights [kh, kw, in, multiplier]: fan_in = in·k, fan_out = multiplier·k.
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[1, 64, 4, 4]);
    let fan_in = variance_scaling_initializer(2.0, FanMode::FanIn, true);
    separable_conv2d(&x, None, 3).depth_multiplier(4).weights_initializer(fan_in).scope("a").call().unwrap();
    let variance = vs.variable("a/depthwise_weights").unwrap().tensor().var(true).double_value(&[]);
    let expected = 2.0 / (64.0 * 9.0);
    assert!((variance / expected - 1.0).abs() < 0.1, "variance {variance}, expected {expected}");
    let fan_out = variance_scaling_initializer(2.0, FanMode::FanOut, true);
    separable_conv2d(&x, None, 3).depth_multiplier(4).weights_initializer(fan_out).scope("b").call().unwrap();
    let variance = vs.variable("b/depthwise_weights").unwrap().tensor().var(true).double_value(&[]);
    let expected = 2.0 / (4.0 * 9.0);
    assert!((variance / expected - 1.0).abs() < 0.1, "variance {variance}, expected {expected}");
}

#[test]
fn separable_conv2d_rejects_bad_arguments_and_channel_changes() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[2, 3, 5, 5]);
    let err = separable_conv2d(&x, 4, 3).depth_multiplier(0).scope("s").call().unwrap_err().to_string();
    assert!(err.contains("s") && err.contains("depth_multiplier must be positive"), "{err}");
    let err = separable_conv2d(&x, 0, 3).scope("t").call().unwrap_err().to_string();
    assert!(err.contains("num_outputs"), "{err}");
    let (layer, _) = separable_conv2d(&x, None, 3).scope("dw").build().unwrap();
    let err = layer.forward(&rand(&[2, 6, 5, 5])).unwrap_err().to_string();
    assert!(err.contains("dw") && err.contains("expects 3 input channels"), "{err}");
}
