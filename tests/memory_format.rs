//! slim's CPU speed paths change layouts and kernels, not results: channels-last execution against plain NCHW
//! (losses and trained variables equal to float rounding), whole-input convolutions computed as one matrix
//! product against libtorch's convolution (values and gradients), fully connected products through oneDNN or
//! slim's tiled kernels against `linear`, and checkpoints of channels-last weights. Each path is switched for a
//! scope on this thread (`backend::Config::scoped`); the cases still run in one test of their own binary because
//! they seed libtorch's process-wide generator.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use slim::backend::Config;
use slim::backend::memory_format::is_channels_last;
use slim::checkpoint::Saver;
use slim::nets::{CifarResNet, Lenet, Vgg, VggDepth};
use slim::prelude::*;

/// Channels-last execution on or off.
fn channels_last(on: bool) -> Config {
    Config { channels_last: Some(on), ..Config::default() }
}

/// The oneDNN route of fully connected products on or off.
fn onednn_dense(on: bool) -> Config {
    Config { onednn_dense: Some(on), ..Config::default() }
}

/// slim's summed convolution bias gradient on or off.
fn summed_bias_gradient(on: bool) -> Config {
    Config { summed_bias_gradient: Some(on), ..Config::default() }
}

/// The fused optimizer updates on or off.
fn fused_optimizer(on: bool) -> Config {
    Config { fused_optimizer: Some(on), ..Config::default() }
}

/// slim's tiled kernels for wide fully connected products on or off.
fn tiled_dense(on: bool) -> Config {
    Config { tiled_dense: Some(on), ..Config::default() }
}

/// The fused training batch norm (and ReLU) on or off.
fn fused_batch_norm(on: bool) -> Config {
    Config { fused_batch_norm: Some(on), ..Config::default() }
}

/// Trains a small pre-activation ResNet (batch norm, strided SAME convs, projections, l2 decay) for three
/// momentum steps from fixed weights; returns the losses and every variable afterwards.
fn train_three_steps(nhwc: bool) -> (Vec<f64>, Vec<(String, Tensor)>) {
    channels_last(nhwc).scoped(|| train_three_steps_in_scope(nhwc))
}

fn train_three_steps_in_scope(channels_last: bool) -> (Vec<f64>, Vec<(String, Tensor)>) {
    tch::manual_seed(7);
    let images = Tensor::randn([8, 3, 16, 16], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [8], (Kind::Int64, Device::Cpu));
    let vs = VarStore::new(Device::Cpu);
    let net = CifarResNet { n: 1, filters: 8, version: 2, num_classes: 10, weight_decay: 1e-3 };
    let model = net.build(&vs, "resnet", &[1, 3, 16, 16]).unwrap();
    let mut train_op = create_train_op(&vs, Momentum::new(0.9).unwrap(), 0.1).build().unwrap();
    let _store = vs.as_default();
    let mut losses = Vec::new();
    for _ in 0..3 {
        let logits = model.forward_t(&images, Mode::Train).unwrap().output;
        let _ = sparse_softmax_cross_entropy(&logits, &labels).call().unwrap();
        losses.push(train_op.run(&get_total_loss(true).unwrap()).unwrap());
    }
    let conv = vs.variable("resnet/stage2/block0/conv1/weights").unwrap().tensor().shallow_clone();
    assert_eq!(is_channels_last(&conv), channels_last, "conv weights follow the switch");
    let slot = vs.variable("resnet/stage2/block0/conv1/weights/Momentum").unwrap().tensor().shallow_clone();
    assert_eq!(is_channels_last(&slot), channels_last, "a slot is laid out like its variable");
    let variables = vs.variables().iter().map(|v| (v.name().to_string(), v.tensor().detach().copy())).collect();
    (losses, variables)
}

fn channels_last_trains_as_nchw_does() {
    let (nhwc_losses, nhwc_variables) = train_three_steps(true);
    let (nchw_losses, nchw_variables) = train_three_steps(false);
    for (a, b) in nhwc_losses.iter().zip(&nchw_losses) {
        assert!((a - b).abs() < 1e-4 * b.abs().max(1.0), "losses {nhwc_losses:?} against {nchw_losses:?}");
    }
    assert_eq!(nhwc_variables.len(), nchw_variables.len());
    for ((name, a), (_, b)) in nhwc_variables.iter().zip(&nchw_variables) {
        assert!(a.allclose(b, 1e-4, 1e-5, false), "{name} differs between layouts");
    }
}

/// VGG's fc6 (a 7×7 VALID conv over a 7×7 input) and fc7 (1×1 over 1×1) take the matrix-product path; its
/// values and input gradients match libtorch's own convolution, in both layouts.
fn whole_input_convolutions_match_libtorch(channels_last: bool) {
    tch::manual_seed(3);
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let x = Tensor::randn([2, 16, 7, 7], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let biases = Initializer::RandomNormal { mean: 0.0, stddev: 1.0 };
    let (layer, y) = conv2d(&x, 12, [7, 7])
        .padding(Valid)
        .activation_fn(None)
        .biases_initializer(Some(biases.clone()))
        .scope("fc6")
        .build()
        .unwrap();
    let reference = x.conv2d(layer.weights(), layer.biases(), [1, 1], [0, 0], [1, 1], 1);
    assert_eq!(y.size(), vec![2, 12, 1, 1]);
    assert!(y.allclose(&reference, 1e-4, 1e-5, false), "fc6 values, channels_last {channels_last}");
    let probe = Tensor::randn([2, 12, 1, 1], (Kind::Float, Device::Cpu));
    let ours = Tensor::run_backward(&[(&y * &probe).sum(Kind::Float)], &[&x], false, false);
    let theirs = Tensor::run_backward(&[(&reference * &probe).sum(Kind::Float)], &[&x], false, false);
    assert!(ours[0].allclose(&theirs[0], 1e-4, 1e-5, false), "fc6 input gradients");
    let (fc7, z) = conv2d(&y, 5, [1, 1]).biases_initializer(Some(biases)).scope("fc7").build().unwrap();
    let reference = y.conv2d(fc7.weights(), fc7.biases(), [1, 1], [0, 0], [1, 1], 1).relu();
    assert!(z.allclose(&reference, 1e-4, 1e-5, false), "fc7 values");
}

/// A channels-last VGG-16 predicts what a plain one with the same weights does, and its checkpoint restores
/// into a plain one.
fn vgg_checkpoints_cross_layouts() {
    let dir = std::env::temp_dir().join(format!("slim-memory-format-{}", std::process::id()));
    let vgg = Vgg { depth: VggDepth::A, num_classes: Some(10), dropout_keep_prob: 0.5, spatial_squeeze: true };
    let image = Tensor::randn([1, 3, 224, 224], (Kind::Float, Device::Cpu));
    let (expected, path) = channels_last(true).scoped(|| {
        let nhwc_vs = VarStore::new(Device::Cpu);
        let nhwc = vgg.clone().build(&nhwc_vs, "vgg_a", &[1, 3, 224, 224]).unwrap();
        let expected = nhwc.forward_t(&image, Mode::Eval).unwrap().output;
        (expected, Saver::new(&dir).unwrap().save(&nhwc_vs, 1).unwrap())
    });
    channels_last(false).scoped(|| {
        let nchw_vs = VarStore::new(Device::Cpu);
        let nchw = vgg.build(&nchw_vs, "vgg_a", &[1, 3, 224, 224]).unwrap();
        slim::checkpoint::restore(&nchw_vs, &path, false).unwrap();
        let weights = nchw_vs.variable("vgg_a/conv3/conv3_1/weights").unwrap().tensor().shallow_clone();
        assert!(!is_channels_last(&weights));
        let got = nchw.forward_t(&image, Mode::Eval).unwrap().output;
        assert!(got.allclose(&expected, 1e-4, 1e-5, false), "{got:?} against {expected:?}");
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// A large fully connected layer (the oneDNN route when it is on) against libtorch's `linear`: values with and
/// without gradients recorded, input and weight gradients, for a 2-D and a 3-D input.
fn dense_products_match_linear(onednn: bool) {
    tch::manual_seed(5);
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let biases = Initializer::RandomNormal { mean: 0.0, stddev: 1.0 };
    for shape in [vec![64, 3136], vec![4, 16, 3136]] {
        let x = Tensor::randn(shape.as_slice(), (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let (layer, y) = fully_connected(&x, 1024)
            .activation_fn(None)
            .biases_initializer(Some(biases.clone()))
            .scope(format!("fc{}", shape.len()))
            .build()
            .unwrap();
        let reference = x.linear(layer.weights(), layer.biases());
        assert_eq!(y.size(), reference.size());
        assert!(y.allclose(&reference, 1e-4, 1e-3, false), "values, oneDNN route {onednn}");
        // Without gradients (inference) the route computes the product another way.
        let inferred = tch::no_grad(|| layer.forward(&x)).unwrap();
        assert!(!inferred.requires_grad());
        assert!(inferred.allclose(&reference, 1e-4, 1e-3, false), "inference values, oneDNN route {onednn}");
        let probe = Tensor::randn(reference.size().as_slice(), (Kind::Float, Device::Cpu));
        let sources = [&x, layer.weights()];
        let ours = Tensor::run_backward(&[(&y * &probe).sum(Kind::Float)], &sources, false, false);
        let theirs = Tensor::run_backward(&[(&reference * &probe).sum(Kind::Float)], &sources, false, false);
        for (a, b) in ours.iter().zip(&theirs) {
            assert!(a.allclose(b, 1e-4, 1e-3, false), "gradients, oneDNN route {onednn}");
        }
    }
}

/// Three LeNet training steps' losses (its 3136×1024 layer takes the oneDNN route when it is on, its 1024×10 layer
/// slim's tiled kernels; its convolutions have biases).
fn lenet_losses() -> Vec<f64> {
    tch::manual_seed(11);
    let images = Tensor::randn([16, 1, 28, 28], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [16], (Kind::Int64, Device::Cpu));
    let vs = VarStore::new(Device::Cpu);
    let lenet = Lenet { num_classes: Some(10), dropout_keep_prob: 1.0 };
    let model = lenet.build(&vs, "LeNet", &[1, 1, 28, 28]).unwrap();
    let mut train_op = create_train_op(&vs, Momentum::new(0.9).unwrap(), 0.01).build().unwrap();
    let _store = vs.as_default();
    (0..3)
        .map(|_| {
            let logits = model.forward_t(&images, Mode::Train).unwrap().output;
            let _ = sparse_softmax_cross_entropy(&logits, &labels).call().unwrap();
            train_op.run(&get_total_loss(true).unwrap()).unwrap()
        })
        .collect()
}

/// LeNet trains to the same losses with a switch on and off.
fn lenet_trains_the_same_either_way(what: &str, switch: fn(bool) -> Config) {
    let on = switch(true).scoped(lenet_losses);
    let off = switch(false).scoped(lenet_losses);
    for (a, b) in on.iter().zip(&off) {
        assert!((a - b).abs() < 1e-4 * b.abs().max(1.0), "{what}: {on:?} against {off:?}");
    }
}

/// A biased convolution's values and gradients (input, weights, biases) with the summed bias gradient on,
/// against libtorch's conv2d, channels-last and NCHW.
fn biased_convolutions_match_libtorch() {
    tch::manual_seed(3);
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    for nhwc in [true, false] {
        let config = Config { channels_last: Some(nhwc), summed_bias_gradient: Some(true), ..Config::default() };
        config.scoped(|| biased_convolution_matches_libtorch(nhwc));
    }
}

fn biased_convolution_matches_libtorch(channels_last: bool) {
    let biases = Initializer::RandomNormal { mean: 0.0, stddev: 1.0 };
    let x = Tensor::randn([4, 3, 14, 14], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let scope = format!("biased{channels_last}");
    let (layer, y) = conv2d(&x, 6, [3, 3])
        .stride(2)
        .activation_fn(None)
        .biases_initializer(Some(biases.clone()))
        .scope(scope)
        .build()
        .unwrap();
    let biases = layer.biases().unwrap();
    let reference =
        x.pad([0, 1, 0, 1], "constant", Some(0.0)).conv2d(layer.weights(), Some(biases), [2, 2], [0, 0], [1, 1], 1);
    assert!(y.allclose(&reference, 1e-4, 1e-4, false), "values, channels-last {channels_last}");
    let probe = Tensor::randn(reference.size().as_slice(), (Kind::Float, Device::Cpu));
    let sources = [&x, layer.weights(), biases];
    let ours = Tensor::run_backward(&[(&y * &probe).sum(Kind::Float)], &sources, false, false);
    let theirs = Tensor::run_backward(&[(&reference * &probe).sum(Kind::Float)], &sources, false, false);
    for (a, b) in ours.iter().zip(&theirs) {
        assert!(a.allclose(b, 1e-4, 1e-3, false), "gradients, channels-last {channels_last}");
    }
}

/// A pre-activation ResNet (batch norm and its ReLU before each convolution) trains to the same losses and
/// variables with the fused training batch norm on and off.
fn resnet_trains_the_same_with_the_fused_batch_norm() {
    let (fused_losses, fused_variables) = fused_batch_norm(true).scoped(|| train_three_steps(true));
    let (losses, variables) = fused_batch_norm(false).scoped(|| train_three_steps(true));
    for (a, b) in fused_losses.iter().zip(&losses) {
        assert!((a - b).abs() < 1e-4 * b.abs().max(1.0), "losses {fused_losses:?} against {losses:?}");
    }
    for ((name, a), (_, b)) in fused_variables.iter().zip(&variables) {
        assert!(a.allclose(b, 1e-4, 1e-5, false), "{name} differs with the fused batch norm");
    }
}

/// A conv2d whose batch-norm normalizer takes the layer's ReLU into its fused call: values, gradients and moving
/// statistics as unfused; and a batch norm that publishes its output (outputs collections) publishes it before
/// the ReLU, as unfused.
fn convolution_tails_fuse_batch_norm_and_relu() {
    let run = |fused: bool| {
        fused_batch_norm(fused).scoped(|| {
            tch::manual_seed(5);
            let vs = VarStore::new(Device::Cpu);
            let _store = vs.as_default();
            let _train = Mode::Train.enter();
            let x = Tensor::randn([6, 3, 9, 9], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            let published = batch_norm::Args::default().scale(true).outputs_collections("normalized");
            let (layer, _) = conv2d(&x, 8, [3, 3]).normalizer_fn(Normalizer::BatchNorm(published)).build().unwrap();
            vs.clear_outputs("normalized");
            let y = layer.forward(&x).unwrap();
            let normalized = vs.outputs("normalized").remove(0).1;
            let probe = Tensor::randn(y.size().as_slice(), (Kind::Float, Device::Cpu));
            let sources: Vec<Tensor> = vs.variables().iter().map(|v| v.tensor().shallow_clone()).collect();
            let mut sources: Vec<&Tensor> = sources.iter().filter(|t| t.requires_grad()).collect();
            sources.push(&x);
            let grads = Tensor::run_backward(&[(&y * &probe).sum(Kind::Float)], &sources, false, false);
            vs.run_update_ops();
            let statistics = vs.variables().iter().map(|v| v.tensor().detach().copy()).collect::<Vec<_>>();
            (y.detach(), normalized.detach(), grads, statistics)
        })
    };
    let (fused, fused_normalized, fused_grads, fused_statistics) = run(true);
    let (plain, plain_normalized, plain_grads, plain_statistics) = run(false);
    assert!(is_channels_last(&fused), "the layer ran channels-last");
    assert!(fused.allclose(&plain, 1e-5, 1e-5, false), "values");
    assert!(fused_normalized.min().double_value(&[]) < 0.0, "the published batch norm output precedes the ReLU");
    assert!(fused_normalized.allclose(&plain_normalized, 1e-5, 1e-5, false), "published values");
    for (a, b) in fused_grads.iter().zip(&plain_grads) {
        assert!(a.allclose(b, 1e-4, 1e-4, false), "gradients");
    }
    for (a, b) in fused_statistics.iter().zip(&plain_statistics) {
        assert!(a.allclose(b, 1e-5, 1e-6, false), "variables and moving statistics");
    }
}

#[test]
fn layouts_and_matrix_products_leave_results_unchanged() {
    let before = Config::effective();
    channels_last_trains_as_nchw_does();
    for nhwc in [true, false] {
        channels_last(nhwc).scoped(|| whole_input_convolutions_match_libtorch(nhwc));
    }
    vgg_checkpoints_cross_layouts();
    for onednn in [true, false] {
        onednn_dense(onednn).scoped(|| dense_products_match_linear(onednn));
    }
    lenet_trains_the_same_either_way("oneDNN route", onednn_dense);
    biased_convolutions_match_libtorch();
    lenet_trains_the_same_either_way("summed bias gradient", summed_bias_gradient);
    lenet_trains_the_same_either_way("fused optimizer", fused_optimizer);
    lenet_trains_the_same_either_way("tiled dense products", tiled_dense);
    resnet_trains_the_same_with_the_fused_batch_norm();
    convolution_tails_fuse_batch_norm_and_relu();
    assert_eq!(Config::effective(), before, "the scopes leave the settings as they were");
}

/// `flatten` of an NHWC-memory tensor: the values of the NCHW-memory flatten (both in TF's H, W, C order), a view
/// of its memory, and a gradient that comes back in NHWC memory with the NCHW gradient's values (asked of a non-leaf tensor, whose gradient is
/// handed back as the layer before would get it, not re-laid out as a leaf's `.grad` is).
#[test]
fn flatten_is_the_same_in_either_memory_format_and_hands_back_an_nhwc_gradient() {
    // Values from no generator: the other test of this file seeds libtorch's process-wide one.
    let leaf = (Tensor::arange(360, (Kind::Float, Device::Cpu)) * 0.7).sin().view([3, 4, 5, 6]).set_requires_grad(true);
    let nchw = &leaf * 1.0;
    let nhwc = slim::backend::memory_format::to_channels_last(&nchw).unwrap();
    assert!(is_channels_last(&nhwc));
    let (flat, expected) = (flatten(&nhwc).unwrap(), flatten(&nchw).unwrap());
    assert_eq!(flat.size(), [3, 120]);
    assert!(flat.equal(&expected), "the same values in either memory format");
    assert_eq!(flat.data_ptr(), nhwc.data_ptr(), "a view of the NHWC memory");
    let weights = (Tensor::arange(360, (Kind::Float, Device::Cpu)) * 0.3).cos().view([3, 120]);
    let gradient_of = |flat: &Tensor, input: &Tensor| {
        let loss = (flat * &weights).sum(Kind::Float);
        Tensor::run_backward(&[&loss], &[input], true, false).remove(0)
    };
    let (gradient, expected) = (gradient_of(&flat, &nhwc), gradient_of(&expected, &nchw));
    assert!(is_channels_last(&gradient), "strides {:?}", gradient.stride());
    assert!(gradient.equal(&expected));
}
