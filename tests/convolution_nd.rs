//! The 1-D and 3-D layers (`conv1d`, `conv3d`, `convolution`, `conv3d_transpose`, `max_pool3d`, `avg_pool3d`):
//! TensorFlow's numbers for SAME at stride 2 (computed with TF 2.21's `tf.nn.conv3d`, `avg_pool3d` and
//! `conv3d_transpose` on the inputs below, channels last), arg scopes and keywords inside a model, and replay.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::prelude::*;

mod common;

/// `sin(0.1·i)` for i = 0, 1, … in `shape`.
fn sines(shape: &[i64]) -> Tensor {
    (Tensor::arange(shape.iter().product::<i64>(), (Kind::Float, Device::Cpu)) * 0.1).sin().reshape(shape)
}

/// `cos(step·i)` for i = 0, 1, … in `shape`.
fn cosines(shape: &[i64], step: f64) -> Tensor {
    (Tensor::arange(shape.iter().product::<i64>(), (Kind::Float, Device::Cpu)) * step).cos().reshape(shape)
}

/// Sets the variable `name` to `value`.
fn set(vs: &VarStore, name: &str, value: &Tensor) {
    tch::no_grad(|| vs.variable(name).unwrap().tensor().shallow_clone().copy_(value));
}

fn first(y: &Tensor, n: i64) -> Vec<f32> {
    Vec::<f32>::try_from(y.flatten(0, -1).narrow(0, 0, n)).unwrap()
}

fn assert_close(got: &[f32], expected: &[f32], what: &str) {
    let close = got.iter().zip(expected).all(|(g, e)| (g - e).abs() <= 1e-4 * e.abs().max(1.0));
    assert!(close && got.len() == expected.len(), "{what}: {got:?} vs TF's {expected:?}");
}

#[test]
fn conv3d_pools_and_transposed_conv3d_give_tensorflows_numbers() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let x = sines(&[1, 5, 6, 7, 2]); // NDHWC
    arg_scope!([conv3d, conv3d_transpose, avg_pool3d], data_format = Nhwc => {
        let _created = conv3d(&x, 3, 3).stride(2).activation_fn(None).scope("conv").call().unwrap();
        set(&vs, "conv/weights", &cosines(&[3, 3, 3, 2, 3], 0.05).permute([4, 3, 0, 1, 2]));
        let conv = conv3d(&x, 3, 3).stride(2).activation_fn(None).scope("conv").reuse(true).call().unwrap();
        assert_eq!(conv.size(), [1, 3, 3, 4, 3]);
        let expected = [-1.936_514, -1.437_958, -0.935_807, -9.206_396, -8.629_748, -8.031_53];
        assert_close(&first(&conv, 6), &expected, "conv3d SAME stride 2");
        assert!((conv.sum(Kind::Double).double_value(&[]) - 114.546_28).abs() < 1e-3);

        let pooled = avg_pool3d(&x, [2, 3, 3]).stride(2).padding(Same).call().unwrap();
        assert_eq!(pooled.size(), [1, 3, 3, 4, 2]);
        assert_close(&first(&pooled, 4), &[0.119_982, 0.101_227, 0.060_371, 0.039_358], "avg_pool3d SAME stride 2");
        assert!((pooled.sum(Kind::Double).double_value(&[]) - 2.591_73).abs() < 1e-4);

        let _created = conv3d_transpose(&x, 4, [2, 3, 3]).stride(2).scope("up").call().unwrap();
        set(&vs, "up/weights", &cosines(&[2, 3, 3, 4, 2], 0.07).permute([4, 3, 0, 1, 2]));
        let up = conv3d_transpose(&x, 4, [2, 3, 3]).stride(2).activation_fn(None).scope("up").reuse(true);
        let up = up.call().unwrap();
        assert_eq!(up.size(), [1, 10, 12, 14, 4]);
        assert_close(&first(&up, 4), &[0.099_589, 0.097_64, 0.093_781, 0.088_086], "conv3d_transpose SAME stride 2");
        assert!((up.sum(Kind::Double).double_value(&[]) - 71.7982).abs() < 1e-3);
    });
}

/// A small video classifier written with the 3-D layers and keywords, its defaults from arg scopes.
#[slim::model]
struct Video;

#[slim::model]
impl Video {
    fn forward(&self, clips: &Tensor) -> Result<Tensor> {
        arg_scope!([conv3d, convolution], normalizer_fn = Normalizer::batch_norm() => {
            arg_scope!([max_pool3d, avg_pool3d], padding = Same => {
                let net = conv3d(clips, 8, [3, 7, 7], stride = 2, scope = "Conv3d_1a");
                let net = max_pool3d(net, [1, 3, 3], stride = [1, 2, 2]);
                let net = convolution(net, 16, 1, scope = "Conv3d_2b");
                let net = avg_pool3d(net, [2, 2, 2], stride = 1, padding = Valid);
                let net = net.mean_dim(&[3i64, 4][..], false, Kind::Float);
                let net = conv1d(net, 4, 2, activation_fn = None, scope = "Temporal");
                net.mean_dim(&[2i64][..], false, Kind::Float)
            })
        })
    }
}

#[test]
fn the_layers_take_keywords_and_arg_scopes_inside_a_model_and_replay() {
    let vs = VarStore::new(Device::Cpu);
    let net = Video.build(&vs, "Video", &[2, 3, 8, 32, 32]).unwrap();
    assert_eq!(common::shape_of(&vs, "Video/Conv3d_1a/weights"), [8, 3, 3, 7, 7]);
    assert!(vs.variable("Video/Conv3d_2b/BatchNorm/moving_mean").is_some(), "convolution takes the arg scope");
    assert!(vs.variable("Video/Temporal/biases").is_some(), "conv1d is outside it");
    assert_eq!(common::shape_of(&vs, "Video/Temporal/weights"), [4, 16, 2]);
    let clips = sines(&[2, 3, 8, 32, 32]);
    let out = net.forward_t(&clips, Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [2, 4]);
    assert_eq!(out.end_points.get("MaxPool3D").unwrap().size(), [2, 8, 4, 8, 8]);
    assert_eq!(out.end_points.get("AvgPool3D").unwrap().size(), [2, 16, 3, 7, 7]);
    let again = net.forward_t(&clips, Mode::Eval).unwrap();
    assert!(again.output.equal(&out.output), "the replayed tape gives the same logits");
    let error = net.forward_t(&sines(&[2, 3, 32, 32]), Mode::Eval).err().unwrap().to_string();
    assert!(error.contains("Video") && error.contains("rank 5"), "{error}");
}
