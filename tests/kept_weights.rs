//! Weights derived from variables and kept between inference calls (`backend::clear_kept_weights`,
//! `Config::kept_weights`): a batch norm folded into its convolution, and (tests/precision.rs) bfloat16 casts.
//! A kept value is never stale: every variable it came from is checked for in-place writes and new storage.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::backend::Config;
use slim::prelude::*;

/// Two convolutions with batch norm (the second also scaling by γ), pooling and a classifier.
#[slim::model]
struct BatchNormNet {}

#[slim::model]
impl BatchNormNet {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = conv2d(images, 8, [3, 3], normalizer_fn = Normalizer::batch_norm(), scope = "conv1");
        let net = conv2d(
            net,
            8,
            [3, 3],
            normalizer_fn = Normalizer::BatchNorm(batch_norm::Args::default().scale(true)),
            scope = "conv2",
        );
        let net = max_pool2d(net, [2, 2], scope = "pool");
        fully_connected(flatten(net), 10, activation_fn = None, scope = "logits")
    }
}

#[test]
fn a_folded_batch_norm_is_kept_until_a_weight_or_a_statistic_changes() {
    tch::manual_seed(5);
    let vs = VarStore::new(Device::Cpu);
    let model = BatchNormNet {}.build(&vs, "net", &[1, 3, 12, 12]).unwrap();
    let images = Tensor::randn([4, 3, 12, 12], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [4], (Kind::Int64, Device::Cpu));
    let _store = vs.as_default();
    let infer = || tch::no_grad(|| model.forward_t(&images, Mode::Eval)).unwrap().output;
    let unfused = || Config { fused_convolution: Some(false), ..Config::default() }.scoped(infer);
    let first = infer();
    assert!(first.equal(&infer()), "the second call, from the kept fold, gives the same logits");
    slim::backend::clear_kept_weights();
    assert!(first.equal(&infer()), "as folding afresh does");
    assert_close(&first, &unfused());

    // A moving statistic written in place (no weight changes) is seen by the next call.
    let variance = vs.variable("net/conv2/BatchNorm/moving_variance").unwrap().tensor().shallow_clone();
    let _ = tch::no_grad(|| variance.shallow_clone().f_mul_scalar_(4.0)).unwrap();
    let rescaled = infer();
    assert!(!rescaled.equal(&first), "the statistic changed the logits");
    assert_close(&rescaled, &unfused());

    // A training step moves weights, biases and statistics.
    let mut train_op = create_train_op(&vs, Adam::default(), 1e-2).build().unwrap();
    train_op
        .step(|| {
            let logits = model.forward_t(&images, Mode::Train)?.output;
            let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?;
            get_total_loss(true)
        })
        .unwrap();
    let trained = infer();
    assert_close(&trained, &unfused());
    slim::backend::clear_kept_weights();
    assert!(trained.equal(&infer()), "a kept fold is never stale");
}

#[test]
fn with_keeping_off_every_call_folds_afresh_to_the_same_values() {
    tch::manual_seed(6);
    let vs = VarStore::new(Device::Cpu);
    let model = BatchNormNet {}.build(&vs, "net", &[1, 3, 12, 12]).unwrap();
    let images = Tensor::randn([2, 3, 12, 12], (Kind::Float, Device::Cpu));
    let _store = vs.as_default();
    let infer = || tch::no_grad(|| model.forward_t(&images, Mode::Eval)).unwrap().output;
    let kept = infer();
    let afresh = Config { kept_weights: Some(false), ..Config::default() }.scoped(infer);
    assert!(kept.equal(&afresh));
}

fn assert_close(ours: &Tensor, theirs: &Tensor) {
    let worst = (ours - theirs).abs().max().double_value(&[]);
    let scale = theirs.abs().max().double_value(&[]).max(1.0);
    assert!(worst <= 1e-5 * scale, "fused and unfused differ by {worst} (scale {scale})");
}
