//! A run interrupted and resumed from its checkpoint ends with bitwise the same variables (weights, optimizer
//! slots, Adam's beta powers, batch norm's moving statistics, the global step) as a run never interrupted, for a
//! dense net and for a conv net with batch norm and dropout, with every optimizer, channels-last and the fused
//! updates each on and off. Its own test binary: it seeds libtorch's process-wide generator, which tests
//! running beside it would disturb.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;

use slim::backend::Config;
use slim::learning::train;
use slim::prelude::*;

#[slim::model]
struct Net;

#[slim::model]
impl Net {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = fully_connected(inputs, 16, scope = "fc1");
        let net = dropout(net, 0.7, scope = "dropout1");
        fully_connected(net, 1, activation_fn = None, scope = "fc2")
    }
}

/// A small conv net with batch norm and dropout: channels-last weights and slots on the CPU by default.
#[slim::model]
struct ConvNet;

#[slim::model]
impl ConvNet {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = conv2d(inputs, 4, [3, 3], normalizer_fn = Normalizer::batch_norm(), scope = "conv1");
        let net = max_pool2d(net, [2, 2], scope = "pool1");
        let net = flatten(net);
        let net = dropout(net, 0.7, scope = "dropout1");
        fully_connected(net, 1, activation_fn = None, scope = "fc2")
    }
}

/// A fresh program: builds the model (`conv` picks the conv net), trains to `steps` in `logdir` with
/// `optimizer` (resuming what is there), returns the store.
fn program<O: Optimizer + 'static>(logdir: &Path, steps: i64, conv: bool, optimizer: O) -> VarStore {
    tch::manual_seed(1234); // the initial weights; a resumed run overwrites them from the checkpoint
    let vs = VarStore::new(Device::Cpu);
    let input_shape: &[i64] = if conv { &[1, 2, 6, 6] } else { &[1, 5] };
    let dense = (!conv).then(|| Net.build(&vs, "net", input_shape).unwrap());
    let convolutional = conv.then(|| ConvNet.build(&vs, "net", input_shape).unwrap());
    let mut train_op = create_train_op(&vs, optimizer, 0.01).build().unwrap();
    let _store = vs.as_default();
    train(&mut train_op, logdir, |_step| {
        // Random batches: the loop seeds the generator with seed + step, so batch and dropout depend on the
        // step alone.
        let mut shape = input_shape.to_vec();
        shape[0] = 8;
        let x = Tensor::randn(&shape, (Kind::Float, Device::Cpu));
        let y = x.flatten(1, -1).sum_dim_intlist(1, true, Kind::Float).sin();
        let output = match (&dense, &convolutional) {
            (Some(net), _) => net.forward_t(&x, Mode::Train)?.output,
            (_, Some(net)) => net.forward_t(&x, Mode::Train)?.output,
            _ => unreachable!("one of the nets is built"),
        };
        let _ = mean_squared_error(&output, &y).call()?;
        get_total_loss(true)
    })
    .number_of_steps(steps)
    .seed(42)
    .save_interval_steps(5)
    .log_to(|_| {})
    .run()
    .unwrap();
    vs
}

/// Trains 12 steps straight, and 5 then 7 more in a fresh program, and compares every variable bitwise.
fn assert_exact_resume<O: Optimizer + 'static>(case: &str, conv: bool, optimizer: impl Fn() -> O) -> Vec<String> {
    let base = std::env::temp_dir().join(format!("slim-exact-resume-{case}-{}", std::process::id()));
    let (straight, interrupted) = (base.join("straight"), base.join("interrupted"));
    let _ = std::fs::remove_dir_all(&base);
    let uninterrupted = program(&straight, 12, conv, optimizer());
    program(&interrupted, 5, conv, optimizer());
    let resumed = program(&interrupted, 12, conv, optimizer());
    let names: Vec<String> = uninterrupted.variables().iter().map(|v| v.name().to_string()).collect();
    for name in &names {
        let a = uninterrupted.variable(name).unwrap();
        let b = resumed.variable(name).unwrap_or_else(|| panic!("the resumed run lacks {name}"));
        assert!(a.tensor().equal(b.tensor()), "{name} differs after resuming ({case})");
    }
    assert_eq!(resumed.variable("global_step").unwrap().tensor().int64_value(&[]), 12);
    std::fs::remove_dir_all(&base).unwrap();
    names
}

/// Every optimizer, on the dense and the conv net, with channels-last and the fused updates each on and off:
/// the configurations whose restored state could be laid out unlike the state it replaces.
fn assert_exact_resume_everywhere<O: Optimizer + 'static>(optimizer: &str, make: impl Fn() -> O + Copy) {
    for conv in [false, true] {
        for channels_last in [true, false] {
            for fused in [true, false] {
                let case = format!(
                    "{optimizer}-{}-cl{}-fused{}",
                    if conv { "conv" } else { "dense" },
                    u8::from(channels_last),
                    u8::from(fused)
                );
                let config =
                    Config { channels_last: Some(channels_last), fused_optimizer: Some(fused), ..Config::default() };
                config.scoped(|| assert_exact_resume(&case, conv, make));
            }
        }
    }
}

/// Dropout's masks (slim's hashed kernel on the CPU) follow `tch::manual_seed`: what a resumed run relies on.
fn assert_dropout_masks_follow_the_seed() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let x = Tensor::ones([64, 1024], (Kind::Float, Device::Cpu));
    tch::manual_seed(3);
    let first = dropout(&x, 0.5).call().unwrap();
    tch::manual_seed(3);
    let again = dropout(&x, 0.5).call().unwrap();
    assert!(first.equal(&again) && !first.equal(&x), "a seeded mask is drawn again the same");
}

/// One test: the cases share libtorch's process-wide generator, so they must not run side by side.
#[test]
fn a_resumed_run_ends_bitwise_where_an_uninterrupted_one_does() {
    assert_dropout_masks_follow_the_seed();
    let names = assert_exact_resume("dense-adam", false, Adam::default);
    assert!(names.contains(&"net/fc1/weights/Adam_1".to_string()) && names.contains(&"beta1_power".to_string()));
    // A conv net with batch norm: channels-last weights and slots, fused updates.
    let names = assert_exact_resume("conv-adam", true, Adam::default);
    assert!(names.contains(&"net/conv1/weights/Adam".to_string()));
    assert!(names.contains(&"net/conv1/BatchNorm/moving_mean".to_string()));
    let names = assert_exact_resume("conv-momentum", true, || Momentum::new(0.9).unwrap());
    assert!(names.contains(&"net/conv1/weights/Momentum".to_string()));
    assert_exact_resume_everywhere("sgd", || GradientDescent);
    assert_exact_resume_everywhere("momentum", || Momentum::new(0.9).unwrap());
    assert_exact_resume_everywhere("adam", Adam::default);
    assert_exact_resume_everywhere("adamw", || AdamW::new(0.01).unwrap());
    assert_exact_resume_everywhere("adagrad", Adagrad::default);
    assert_exact_resume_everywhere("adadelta", Adadelta::default);
    assert_exact_resume_everywhere("rmsprop", RmsProp::default);
}
