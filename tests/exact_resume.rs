//! A run interrupted and resumed from its checkpoint ends with bitwise the same variables (weights, Adam's
//! slots and beta powers, the global step) as a run never interrupted. Its own test binary: it seeds
//! libtorch's process-wide generator, which tests running beside it would disturb.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;

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

/// A fresh program: builds the model, trains to `steps` in `logdir` (resuming what is there), returns the store.
fn program(logdir: &Path, steps: i64) -> VarStore {
    tch::manual_seed(1234); // the initial weights; a resumed run overwrites them from the checkpoint
    let vs = VarStore::new(Device::Cpu);
    let model = Net.build(&vs, "net", &[1, 5]).unwrap();
    let mut train_op = create_train_op(&vs, Adam::default(), 0.01).build().unwrap();
    let _store = vs.as_default();
    train(&mut train_op, logdir, |_step| {
        // Random batches: the loop seeds the generator with seed + step, so batch and dropout depend on the
        // step alone.
        let x = Tensor::randn([8, 5], (Kind::Float, Device::Cpu));
        let y = x.sum_dim_intlist(1, true, Kind::Float).sin();
        let _ = mean_squared_error(&model.forward_t(&x, Mode::Train)?.output, &y).call()?;
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

#[test]
fn a_resumed_run_ends_bitwise_where_an_uninterrupted_one_does() {
    let base = std::env::temp_dir().join(format!("slim-exact-resume-{}", std::process::id()));
    let (straight, interrupted) = (base.join("straight"), base.join("interrupted"));
    let _ = std::fs::remove_dir_all(&base);
    let uninterrupted = program(&straight, 12);
    program(&interrupted, 5);
    let resumed = program(&interrupted, 12);
    let names: Vec<String> = uninterrupted.variables().iter().map(|v| v.name().to_string()).collect();
    assert!(names.contains(&"net/fc1/weights/Adam_1".to_string()) && names.contains(&"beta1_power".to_string()));
    for name in &names {
        let a = uninterrupted.variable(name).unwrap();
        let b = resumed.variable(name).unwrap_or_else(|| panic!("the resumed run lacks {name}"));
        assert!(a.tensor().equal(b.tensor()), "{name} differs after resuming");
    }
    assert_eq!(resumed.variable("global_step").unwrap().tensor().int64_value(&[]), 12);
    std::fs::remove_dir_all(&base).unwrap();
}
