//! `TrainOp::step`: the forward pass inside the step, the same results as `run`, and the thread trial (three
//! warm-up steps and a block on the own count, then a block on one thread) confined to the step itself; the
//! training loop tunes only when it is not seeded.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::backend::Config;
use slim::learning::{TrainOp, train};
use slim::prelude::*;

mod common;
use common::copy_variables;

#[slim::model]
struct Mlp;

#[slim::model]
impl Mlp {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = fully_connected(inputs, 64, scope = "fc1");
        fully_connected(net, 4, activation_fn = None, scope = "fc2")
    }
}

/// A built MLP, its train op (momentum, as the benchmarks train) and its store.
fn mlp() -> (VarStore, Built<Mlp>, TrainOp) {
    let store = VarStore::new(Device::Cpu);
    let model = Mlp.build(&store, "mlp", &[1, 32]).unwrap();
    let train_op = create_train_op(&store, Momentum::new(0.9).unwrap(), 0.05).build().unwrap();
    (store, model, train_op)
}

/// The total loss of one forward pass on a fixed batch labelled by a fixed rule.
fn forward(model: &Built<Mlp>) -> Result<Tensor> {
    let inputs = (Tensor::arange(64 * 32, (Kind::Float, Device::Cpu)) * 0.37).sin().view([64, 32]);
    let labels = inputs.narrow(1, 0, 4).argmax(1, false);
    let logits = model.forward_t(&inputs, Mode::Train)?.output;
    let _cross_entropy = sparse_softmax_cross_entropy(&logits, &labels).call()?;
    get_total_loss(true)
}

// One test, because the switch it flips is process-wide.
#[test]
fn step_trains_as_run_does_and_tries_one_thread_only_inside_the_step() {
    tch::set_num_threads(2);
    let own = tch::get_num_threads();
    assert_eq!(own, 2);
    let ((by_run, run_model, mut run_op), (by_step, step_model, mut step_op)) = (mlp(), mlp());
    copy_variables(&by_run, &by_step);
    let mut threads_in_forward = Vec::new();
    for step in 0..40 {
        let expected = {
            let _store = by_run.as_default();
            run_op.run(&forward(&run_model).unwrap()).unwrap()
        };
        let _store = by_step.as_default();
        let loss = step_op
            .step(|| {
                threads_in_forward.push(tch::get_num_threads());
                forward(&step_model)
            })
            .unwrap();
        assert!((loss - expected).abs() < 1e-5, "step {step}: {loss} by step, {expected} by run");
        assert_eq!(tch::get_num_threads(), own, "the thread has its own count back after step {step}");
    }
    assert_eq!(step_op.global_step(), 40);
    assert_eq!(threads_in_forward[..7], [own; 7], "three warm-up steps, then a block on the own count");
    assert_eq!(threads_in_forward[7..11], [1; 4], "then a block on one thread");

    // The training loop tunes unless it is seeded (a seeded run must repeat bitwise).
    assert_eq!(threads_in_loop(None)[7..11], [1; 4]);
    assert_eq!(threads_in_loop(Some(3)), [own; 12]);

    let untuned = Config { tune_step_threads: Some(false), ..Config::default() };
    untuned.scoped(|| {
        let (_store, model, mut untuned) = mlp();
        let _default = _store.as_default();
        for _ in 0..12 {
            untuned.step(|| forward(&model).inspect(|_| assert_eq!(tch::get_num_threads(), own))).unwrap();
        }
        assert!(!untuned.one_thread_steps());
    });
}

/// The thread count each of 12 steps of `learning::train` saw in its forward pass.
fn threads_in_loop(seed: Option<i64>) -> Vec<i32> {
    let logdir = std::env::temp_dir().join(format!("slim-step-threads-{seed:?}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&logdir);
    let (store, model, mut train_op) = mlp();
    let _default = store.as_default();
    let mut seen = Vec::new();
    let mut loop_ = train(&mut train_op, &logdir, |_step| {
        seen.push(tch::get_num_threads());
        forward(&model)
    })
    .number_of_steps(12)
    .log_to(|_| {});
    if let Some(seed) = seed {
        loop_ = loop_.seed(seed);
    }
    loop_.run().unwrap();
    std::fs::remove_dir_all(&logdir).unwrap();
    seen
}

#[test]
fn a_failed_forward_is_the_steps_error_and_changes_nothing() {
    let (store, _model, mut train_op) = mlp();
    let _default = store.as_default();
    let before: Vec<Tensor> = store.variables().iter().map(|v| v.tensor().copy()).collect();
    let error = train_op.step(|| Err(Error::invalid("input", "no batch left"))).unwrap_err();
    assert!(error.to_string().contains("no batch left"), "{error}");
    assert_eq!(train_op.global_step(), 0);
    for (variable, value) in store.variables().iter().zip(&before) {
        assert!(variable.tensor().equal(value), "{} moved", variable.name());
    }
}
