//! Mixed precision (`Precision::Bf16`): bfloat16 autocast through slim's layers and train op. Gradients stay
//! within bfloat16's tolerance of float32's, weights, optimizer slots and losses stay float32, slim's own kernels
//! (convolution bias gradients, oneDNN dense products, hashed dropout) take the reduced-precision path, and a
//! non-finite step is refused as in float32.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::{Mutex, MutexGuard};

use slim::backend::Precision;
use slim::nets::Lenet;
use slim::prelude::*;

/// A convolution with batch norm (bias-free), one with a bias, pooling, and a fully connected head: every
/// CPU path slim's layers take under autocast.
#[slim::model]
struct ConvNet {}

#[slim::model]
impl ConvNet {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = conv2d(images, 8, [3, 3], normalizer_fn = Normalizer::batch_norm(), scope = "conv1");
        let net = conv2d(net, 16, [3, 3], stride = 2, scope = "conv2");
        let net = max_pool2d(net, [2, 2], scope = "pool2");
        let net = fully_connected(flatten(net), 32, scope = "fc3");
        fully_connected(net, 10, activation_fn = None, scope = "logits")
    }
}

/// Serializes the tests that draw from libtorch's global generator (the harness runs tests on parallel threads),
/// so each draws the same numbers every run; seeds it with `seed`.
fn seeded(seed: i64) -> MutexGuard<'static, ()> {
    static RANDOM: Mutex<()> = Mutex::new(());
    let guard = RANDOM.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    tch::manual_seed(seed);
    guard
}

/// The relative distance `‖a − b‖ / ‖b‖`.
fn relative_distance(a: &Tensor, b: &Tensor) -> f64 {
    let norm = |t: &Tensor| t.to_kind(Kind::Double).norm().double_value(&[]);
    norm(&(a.to_kind(Kind::Double) - b.to_kind(Kind::Double))) / norm(b)
}

/// The gradients of the cross entropy of `model` on `images` with respect to every trainable variable, the
/// forward pass in `precision`.
fn gradients<M: Model>(
    vs: &VarStore,
    model: &Built<M>,
    images: &Tensor,
    labels: &Tensor,
    precision: Precision,
) -> Vec<Tensor> {
    let _store = vs.as_default();
    let logits = precision.scoped(Device::Cpu, || model.forward_t(images, Mode::Train)).unwrap().output;
    let loss = sparse_softmax_cross_entropy(&logits, labels).loss_collection(None).call().unwrap();
    assert_eq!(loss.kind(), Kind::Float, "losses are float32 whatever the logits");
    let variables: Vec<Tensor> =
        vs.collection(TRAINABLE_VARIABLES).iter().map(|v| v.tensor().shallow_clone()).collect();
    Tensor::run_backward(&[loss], &variables, false, false)
}

#[test]
fn bf16_gradients_are_within_bfloat16_tolerance_of_float32_ones() {
    if !Precision::Bf16.runs_on(Device::Cpu) {
        eprintln!("this CPU has no bfloat16 instructions: Precision::Bf16 runs float32 here, nothing to compare");
        return;
    }
    let _random = seeded(0);
    let vs = VarStore::new(Device::Cpu);
    let model = ConvNet {}.build(&vs, "net", &[1, 3, 16, 16]).unwrap();
    let images = Tensor::randn([8, 3, 16, 16], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [8], (Kind::Int64, Device::Cpu));
    let full = gradients(&vs, &model, &images, &labels, Precision::F32);
    let mixed = gradients(&vs, &model, &images, &labels, Precision::Bf16);
    let names: Vec<String> = vs.collection(TRAINABLE_VARIABLES).iter().map(|v| v.name().to_string()).collect();
    let mut largest = 0.0f64;
    for ((name, full), mixed) in names.iter().zip(&full).zip(&mixed) {
        assert_eq!(mixed.kind(), Kind::Float, "{name}: gradients of float32 weights are float32");
        let distance = relative_distance(mixed, full);
        // bfloat16 rounds to 2⁻⁹ relative; the error grows toward the first layer (3.3e-2 for conv1 here, 2e-3 to
        // 5e-3 for the fully connected layers).
        assert!(distance < 0.06, "{name}: bf16 gradient {distance:.4} away from float32's");
        largest = largest.max(distance);
    }
    eprintln!("largest relative distance from float32: {largest:.2e}");
    assert!(largest > 1e-4, "bf16 ran: the gradients differ from float32's (largest {largest:.2e})");
    assert_eq!(full.len(), 8, "conv1 weights + batch norm beta, conv2/fc3/logits weights and biases");
}

#[test]
fn inside_the_scope_convolutions_and_products_compute_in_bfloat16_and_nothing_leaks_out() {
    let expected = if Precision::Bf16.runs_on(Device::Cpu) { Kind::BFloat16 } else { Kind::Float };
    let _random = seeded(1);
    let vs = VarStore::new(Device::Cpu);
    let model = ConvNet {}.build(&vs, "net", &[1, 3, 16, 16]).unwrap();
    let images = Tensor::randn([4, 3, 16, 16], (Kind::Float, Device::Cpu));
    let out = Precision::Bf16.scoped(Device::Cpu, || model.forward_t(&images, Mode::Eval)).unwrap();
    assert_eq!(out.output.kind(), expected);
    assert_eq!(out.end_points.get("net/conv2").unwrap().kind(), expected, "the biased convolution follows autocast");
    assert!(vs.variables().iter().all(|v| v.tensor().kind() == Kind::Float), "the weights stay float32");
    assert_eq!(Precision::current(Device::Cpu), Precision::F32);
    let after = model.forward_t(&images, Mode::Eval).unwrap().output;
    assert_eq!(after.kind(), Kind::Float, "after the scope, float32 again");
}

#[test]
fn a_bf16_train_op_trains_lenet_with_float32_weights_slots_and_loss() {
    let _random = seeded(2);
    let vs = VarStore::new(Device::Cpu);
    let model = Lenet { num_classes: Some(10), dropout_keep_prob: 0.5 }.build(&vs, "LeNet", &[1, 1, 28, 28]).unwrap();
    let images = Tensor::randn([64, 1, 28, 28], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [64], (Kind::Int64, Device::Cpu));
    let mut train_op = create_train_op(&vs, Adam::default(), 1e-3).precision(Precision::Bf16).build().unwrap();
    assert_eq!(train_op.forward_precision(), Precision::Bf16);
    let _store = vs.as_default();
    let mut losses = Vec::new();
    for _ in 0..30 {
        let loss = train_op
            .step(|| {
                let logits = model.forward_t(&images, Mode::Train)?.output;
                let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?;
                get_total_loss(true)
            })
            .unwrap();
        losses.push(loss);
    }
    assert!(losses[29] < 0.5 * losses[0], "30 Adam steps on one batch fit it: {losses:?}");
    let kinds: Vec<(String, Kind)> = vs.variables().iter().map(|v| (v.name().to_string(), v.tensor().kind())).collect();
    let not_float32: Vec<&(String, Kind)> =
        kinds.iter().filter(|(name, kind)| *kind != Kind::Float && name != "global_step").collect();
    assert!(not_float32.is_empty(), "weights and Adam slots stay float32: {not_float32:?}");
    assert!(kinds.iter().any(|(name, _)| name.ends_with("/Adam")), "the Adam slots are among them: {kinds:?}");
    assert_eq!(train_op.global_step(), 30);
}

#[test]
fn a_non_finite_bf16_step_is_refused_as_a_float32_one_is() {
    let _random = seeded(3);
    let vs = VarStore::new(Device::Cpu);
    let model = ConvNet {}.build(&vs, "net", &[1, 3, 16, 16]).unwrap();
    let images = Tensor::randn([4, 3, 16, 16], (Kind::Float, Device::Cpu));
    let _ = images.get(0).get(0).get(0).fill_(f64::NAN);
    let labels = Tensor::randint(10, [4], (Kind::Int64, Device::Cpu));
    let before: Vec<Tensor> = vs.variables().iter().map(|v| v.tensor().copy()).collect();
    let mut train_op = create_train_op(&vs, GradientDescent, 0.1).precision(Precision::Bf16).build().unwrap();
    let _store = vs.as_default();
    let error = train_op
        .step(|| {
            let logits = model.forward_t(&images, Mode::Train)?.output;
            let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?;
            get_total_loss(true)
        })
        .unwrap_err()
        .to_string();
    assert!(error.contains("the loss is NaN at global step 0"), "{error}");
    let after: Vec<Tensor> = vs.variables().iter().map(|v| v.tensor().copy()).collect();
    assert!(before.iter().zip(&after).all(|(b, a)| b.equal(a)), "no variable moved");
}

#[test]
fn losses_take_reduced_precision_predictions_in_float32() {
    let logits = Tensor::from_slice(&[2.0f32, 0.5, -1.0, 0.0, 1.0, 3.0]).reshape([2, 3]);
    let labels = Tensor::from_slice(&[0i64, 2]);
    let full = sparse_softmax_cross_entropy(&logits, &labels).loss_collection(None).call().unwrap();
    let reduced = logits.to_kind(Kind::BFloat16);
    let mixed = sparse_softmax_cross_entropy(&reduced, &labels).loss_collection(None).call().unwrap();
    assert_eq!(mixed.kind(), Kind::Float);
    // These logits are exact in bfloat16, so the float32 loss is the same to the last bit.
    assert_eq!(mixed.double_value(&[]), full.double_value(&[]));
    let squared = mean_squared_error(&reduced, &logits).loss_collection(None).call().unwrap();
    assert_eq!((squared.kind(), squared.double_value(&[])), (Kind::Float, 0.0));
}

/// The layers that call `aten::convolution` (outside autocast's list) cast as autocast would: a transposed
/// convolution after an autocast convolution (pix2pix, CycleGAN, DCGAN) and a 3-D convolution run in bfloat16,
/// forward and backward, instead of meeting float32 weights with a bfloat16 input.
#[test]
fn transposed_and_3d_convolutions_follow_autocast() {
    if !Precision::Bf16.runs_on(Device::Cpu) {
        return; // nothing to check where bfloat16 falls back
    }
    let _random = seeded(4);
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let images = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
    let volumes = Tensor::randn([2, 3, 4, 6, 6], (Kind::Float, Device::Cpu));
    let forward = || -> Result<(Tensor, Tensor)> {
        let net = conv2d(&images, 4, [3, 3]).scope("conv").call()?;
        let up = conv2d_transpose(&net, 4, [3, 3]).stride(2).scope("up").call()?;
        let volume = conv3d(&volumes, 4, [3, 3, 3]).scope("conv3d").call()?;
        Ok((up, volume))
    };
    let (up, volume) = Precision::Bf16.scoped(Device::Cpu, forward).unwrap();
    assert_eq!((up.kind(), volume.kind()), (Kind::BFloat16, Kind::BFloat16));
    let loss = up.to_kind(Kind::Float).square().mean(Kind::Float) + volume.to_kind(Kind::Float).mean(Kind::Float);
    let variables: Vec<Tensor> =
        vs.collection(TRAINABLE_VARIABLES).iter().map(|v| v.tensor().shallow_clone()).collect();
    for gradient in Tensor::run_backward(&[loss], &variables, false, false) {
        assert_eq!(gradient.kind(), Kind::Float, "gradients reach the float32 variables");
        assert!(gradient.isfinite().all().int64_value(&[]) == 1);
    }
}

/// oneDNN's bfloat16 backward pass of a 3-D convolution whose kernel is deeper than its input writes garbage
/// weight gradients (NaN or huge, depending on memory; libtorch 2.13): such a convolution runs float32, so its
/// gradients are float32's exactly.
#[test]
fn a_3d_kernel_larger_than_its_input_runs_float32_under_bf16() {
    let _random = seeded(5);
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let volumes = Tensor::randn([2, 16, 2, 8, 8], (Kind::Float, Device::Cpu));
    let layer = |reuse: bool| conv3d(&volumes, 16, [3, 3, 3]).activation_fn(None).scope("shallow").reuse(reuse).call();
    let gradients = |precision: Precision| {
        let reuse = !vs.collection(TRAINABLE_VARIABLES).is_empty();
        let out = precision.scoped(Device::Cpu, || layer(reuse)).unwrap();
        let loss = out.to_kind(Kind::Float).square().sum(Kind::Float);
        let variables: Vec<Tensor> =
            vs.collection(TRAINABLE_VARIABLES).iter().map(|v| v.tensor().shallow_clone()).collect();
        (out.kind(), Tensor::run_backward(&[loss], &variables, false, false))
    };
    let (kind, float32) = gradients(Precision::F32);
    assert_eq!(kind, Kind::Float);
    let (kind, bf16) = gradients(Precision::Bf16);
    assert_eq!(kind, Kind::Float, "the overhanging kernel's convolution ran float32");
    for (a, b) in float32.iter().zip(&bf16) {
        assert!(a.equal(b), "float32's gradients exactly");
    }
}

/// On the CPU, oneDNN's bfloat16 depthwise convolutions are slower than its float32 ones, so under autocast a
/// depthwise convolution (a separable one's first half) runs float32: its output and gradients are float32's
/// exactly, while the pointwise half and plain convolutions still run bfloat16.
#[test]
fn depthwise_convolutions_run_float32_under_bf16_on_the_cpu() {
    if !Precision::Bf16.runs_on(Device::Cpu) {
        return;
    }
    let _random = seeded(6);
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let images = Tensor::randn([2, 8, 9, 9], (Kind::Float, Device::Cpu));
    let depthwise = |reuse: bool| {
        separable_conv2d(&images, None, 3).depth_multiplier(1).activation_fn(None).scope("dw").reuse(reuse).call()
    };
    let gradients = |precision: Precision| {
        let reuse = !vs.collection(TRAINABLE_VARIABLES).is_empty();
        let out = precision.scoped(Device::Cpu, || depthwise(reuse)).unwrap();
        let loss = out.to_kind(Kind::Float).square().sum(Kind::Float);
        let variables: Vec<Tensor> =
            vs.collection(TRAINABLE_VARIABLES).iter().map(|v| v.tensor().shallow_clone()).collect();
        (out.kind(), out.copy(), Tensor::run_backward(&[loss], &variables, false, false))
    };
    let (kind, float32_out, float32) = gradients(Precision::F32);
    assert_eq!(kind, Kind::Float);
    let (kind, bf16_out, bf16) = gradients(Precision::Bf16);
    assert_eq!(kind, Kind::Float, "the depthwise convolution ran float32");
    assert!(bf16_out.equal(&float32_out), "float32's output exactly");
    for (a, b) in float32.iter().zip(&bf16) {
        assert!(a.equal(b), "float32's gradients exactly");
    }
    let separable = Precision::Bf16.scoped(Device::Cpu, || separable_conv2d(&images, 4, 3).scope("sep").call());
    assert_eq!(separable.unwrap().kind(), Kind::BFloat16, "the pointwise half runs bfloat16");
    let plain = Precision::Bf16.scoped(Device::Cpu, || conv2d(&images, 4, 3).scope("plain").call());
    assert_eq!(plain.unwrap().kind(), Kind::BFloat16, "a plain convolution runs bfloat16");
}
