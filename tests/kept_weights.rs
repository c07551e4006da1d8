//! Weights derived from variables and kept between inference calls (`backend::clear_kept_weights`,
//! `Config::kept_weights`): a batch norm folded into its convolution, and bfloat16 casts. A kept value is never
//! stale: every variable it came from is checked for in-place writes and new storage.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::backend::{Config, Precision};
use slim::prelude::*;

/// Two convolutions with batch norm (the second also scaling by γ), pooling and a classifier.
#[slim::model]
struct BatchNormNet {}

#[slim::model]
impl BatchNormNet {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = conv2d(images, 8, [3, 3], normalizer_fn = Normalizer::batch_norm(), scope = "conv1");
        let bn_with_gamma = Normalizer::BatchNorm(batch_norm::Args::default().scale(true));
        let net = conv2d(net, 8, [3, 3], normalizer_fn = bn_with_gamma, scope = "conv2");
        let net = max_pool2d(net, [2, 2], scope = "pool");
        fully_connected(flatten(net), 10, activation_fn = None, scope = "logits")
    }
}

/// A built net, a batch of images and their labels.
struct Setup {
    vs: VarStore,
    model: Built<BatchNormNet>,
    images: Tensor,
    labels: Tensor,
}

impl Setup {
    fn new(seed: i64) -> Setup {
        tch::manual_seed(seed);
        let vs = VarStore::new(Device::Cpu);
        let model = BatchNormNet {}.build(&vs, "net", &[1, 3, 12, 12]).unwrap();
        let images = Tensor::randn([4, 3, 12, 12], (Kind::Float, Device::Cpu));
        let labels = Tensor::randint(10, [4], (Kind::Int64, Device::Cpu));
        Setup { vs, model, images, labels }
    }

    /// Eval-mode logits without gradients, in `precision`.
    fn infer(&self, precision: Precision) -> Tensor {
        let forward = || self.model.forward_t(&self.images, Mode::Eval);
        tch::no_grad(|| precision.scoped(Device::Cpu, forward)).unwrap().output
    }

    /// One Adam step in `precision`: weights, biases and moving statistics move.
    fn train_step(&self, precision: Precision) {
        let mut train_op = create_train_op(&self.vs, Adam::default(), 1e-2).precision(precision).build().unwrap();
        train_op
            .step(|| {
                let logits = self.model.forward_t(&self.images, Mode::Train)?.output;
                let _ = sparse_softmax_cross_entropy(&logits, &self.labels).call()?;
                get_total_loss(true)
            })
            .unwrap();
    }
}

#[test]
fn a_folded_batch_norm_is_kept_until_a_weight_or_a_statistic_changes() {
    let setup = Setup::new(5);
    let _store = setup.vs.as_default();
    let infer = || setup.infer(Precision::F32);
    let unfused = || Config { fused_convolution: Some(false), ..Config::default() }.scoped(infer);
    let first = infer();
    assert!(first.equal(&infer()), "the second call, from the kept fold, gives the same logits");
    slim::backend::clear_kept_weights();
    assert!(first.equal(&infer()), "as folding afresh does");
    assert_close(&first, &unfused());

    // A moving statistic written in place (no weight changes) is seen by the next call.
    let variance = setup.vs.variable("net/conv2/BatchNorm/moving_variance").unwrap().tensor().shallow_clone();
    let _ = tch::no_grad(|| variance.shallow_clone().f_mul_scalar_(4.0)).unwrap();
    let rescaled = infer();
    assert!(!rescaled.equal(&first), "the statistic changed the logits");
    assert_close(&rescaled, &unfused());

    setup.train_step(Precision::F32);
    let trained = infer();
    assert_close(&trained, &unfused());
    slim::backend::clear_kept_weights();
    assert!(trained.equal(&infer()), "a kept fold is never stale");
}

#[test]
fn bf16_inference_reuses_weight_casts_and_sees_every_update() {
    let setup = Setup::new(3);
    let _store = setup.vs.as_default();
    let infer = || setup.infer(Precision::Bf16);
    let first = infer();
    assert!(first.equal(&infer()), "the second call, from the kept casts, gives the same logits");
    slim::backend::clear_kept_weights();
    assert!(first.equal(&infer()), "as casting afresh does");
    setup.train_step(Precision::Bf16);
    let after_step = infer();
    slim::backend::clear_kept_weights();
    assert!(after_step.equal(&infer()), "a kept cast is never stale: the step's updates are seen");
    assert!(!after_step.equal(&first), "the step changed the logits");
}

#[test]
fn with_keeping_off_every_call_derives_afresh_to_the_same_values() {
    let setup = Setup::new(6);
    let _store = setup.vs.as_default();
    for precision in [Precision::F32, Precision::Bf16] {
        let kept = setup.infer(precision);
        let afresh = Config { kept_weights: Some(false), ..Config::default() }.scoped(|| setup.infer(precision));
        assert!(kept.equal(&afresh), "{precision}");
    }
}

fn assert_close(ours: &Tensor, theirs: &Tensor) {
    let worst = (ours - theirs).abs().max().double_value(&[]);
    let scale = theirs.abs().max().double_value(&[]).max(1.0);
    assert!(worst <= 1e-5 * scale, "fused and unfused differ by {worst} (scale {scale})");
}
