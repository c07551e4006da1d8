//! The optimizers against TF's own test values (momentum, adagrad) and TF's update formulas (adam, rmsprop,
//! adadelta, adamw) computed here in f64; slot names as TF gives them.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::backend::Config;
use slim::prelude::*;

mod common;

const G0: [f64; 2] = [0.1, 0.1];
const G1: [f64; 2] = [0.01, 0.01];

/// TF's optimizer fixture: var0 = [1, 2], var1 = [3, 4]; a loss whose gradients are G0 and G1.
struct Fixture {
    vs: VarStore,
    var0: Variable,
    var1: Variable,
}

impl Fixture {
    fn new() -> Fixture {
        let vs = VarStore::new(Device::Cpu);
        let (var0, var1) = {
            let _store = vs.as_default();
            let make = |name: &str, values: [f32; 2]| {
                let init = Initializer::custom(move |_, _, _| Ok(Tensor::from_slice(&values)));
                variable(name, &[2], VariableArgs::default().initializer(init)).unwrap()
            };
            (make("var0", [1.0, 2.0]), make("var1", [3.0, 4.0]))
        };
        Fixture { vs, var0, var1 }
    }

    fn loss(&self) -> Tensor {
        let g0 = Tensor::from_slice(&G0.map(|g| g as f32));
        let g1 = Tensor::from_slice(&G1.map(|g| g as f32));
        (self.var0.tensor() * g0).sum(Kind::Float) + (self.var1.tensor() * g1).sum(Kind::Float)
    }

    fn train(&self, optimizer: impl Optimizer + 'static, learning_rate: f64, steps: usize) {
        let mut train_op = create_train_op(&self.vs, optimizer, learning_rate).build().unwrap();
        for _ in 0..steps {
            train_op.run(&self.loss()).unwrap();
        }
    }

    fn values(&self, name: &str) -> Vec<f64> {
        let tensor =
            self.vs.variable(name).unwrap_or_else(|| panic!("no variable {name}")).tensor().to_kind(Kind::Double);
        Vec::<f64>::try_from(tensor.flatten(0, -1)).unwrap()
    }

    fn names(&self) -> Vec<String> {
        self.vs.variables().iter().map(|v| v.name().to_string()).collect()
    }
}

fn assert_close(got: &[f64], expected: &[f64]) {
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(expected) {
        assert!((g - e).abs() < 1e-5, "got {got:?}, expected {expected:?}");
    }
}

#[test]
fn momentum_matches_tfs_test_values_and_names_its_slot() {
    let fixture = Fixture::new();
    fixture.train(Momentum::new(0.9).unwrap(), 2.0, 1);
    assert_close(&fixture.values("var0"), &[0.8, 1.8]);
    assert_close(&fixture.values("var1"), &[2.98, 3.98]);
    assert_close(&fixture.values("var0/Momentum"), &[0.1, 0.1]);
    fixture.train(Momentum::new(0.9).unwrap(), 2.0, 1);
    assert_close(&fixture.values("var0"), &[0.42, 1.42]);
    assert_close(&fixture.values("var1"), &[2.942, 3.942]);
    let slot = fixture.vs.variable("var0/Momentum").unwrap();
    assert!(slot.is_global() && !slot.is_trainable() && !slot.is_model_variable());
}

#[test]
fn nesterov_momentum_looks_ahead() {
    let fixture = Fixture::new();
    fixture.train(Momentum::new(0.9).unwrap().nesterov(true), 2.0, 1);
    assert_close(&fixture.values("var0"), &[1.0 - 2.0 * (0.1 + 0.9 * 0.1), 2.0 - 2.0 * (0.1 + 0.9 * 0.1)]);
}

#[test]
fn adagrad_matches_tfs_test_values() {
    let fixture = Fixture::new();
    fixture.train(Adagrad::default(), 3.0, 3);
    assert_close(&fixture.values("var0"), &[-1.6026098728179932, -0.6026098728179932]);
    assert_close(&fixture.values("var1"), &[2.715679168701172, 3.715679168701172]);
    assert!(fixture.names().contains(&"var0/Adagrad".to_string()));
}

/// TF's `adam_update_numpy` for one element over `steps` steps, with optional decoupled weight decay.
fn adam_reference(mut w: f64, g: f64, lr: f64, steps: i32, weight_decay: f64) -> f64 {
    let (beta1, beta2, epsilon) = (0.9f64, 0.999f64, 1e-8);
    let (mut m, mut v) = (0.0, 0.0);
    for t in 1..=steps {
        let alpha = lr * (1.0 - beta2.powi(t)).sqrt() / (1.0 - beta1.powi(t));
        w -= weight_decay * w;
        m += (g - m) * (1.0 - beta1);
        v += (g * g - v) * (1.0 - beta2);
        w -= alpha * m / (v.sqrt() + epsilon);
    }
    w
}

#[test]
fn adam_follows_tfs_kernel_and_keeps_beta_powers() {
    let fixture = Fixture::new();
    fixture.train(Adam::default(), 0.001, 3);
    assert_close(&fixture.values("var0"), &[1.0, 2.0].map(|w| adam_reference(w, 0.1, 0.001, 3, 0.0)));
    assert_close(&fixture.values("var1"), &[3.0, 4.0].map(|w| adam_reference(w, 0.01, 0.001, 3, 0.0)));
    assert_close(&fixture.values("beta1_power"), &[0.9f64.powi(4)]);
    assert_close(&fixture.values("beta2_power"), &[0.999f64.powi(4)]);
    let names = fixture.names();
    for slot in ["var0/Adam", "var0/Adam_1", "var1/Adam", "var1/Adam_1"] {
        assert!(names.contains(&slot.to_string()), "{slot} in {names:?}");
    }
}

#[test]
fn adamw_decays_before_each_adam_step() {
    let fixture = Fixture::new();
    fixture.train(AdamW::new(0.01).unwrap(), 0.001, 2);
    assert_close(&fixture.values("var0"), &[1.0, 2.0].map(|w| adam_reference(w, 0.1, 0.001, 2, 0.01)));
    assert!(fixture.names().contains(&"var0/AdamW_1".to_string()));
}

/// TF's RMSProp kernel for one element; the mean square starts at 1.
fn rmsprop_reference(mut w: f64, g: f64, lr: f64, steps: i32, momentum: f64, centered: bool) -> f64 {
    let (decay, epsilon) = (0.9, 1e-10);
    let (mut ms, mut mg, mut mom) = (1.0, 0.0, 0.0);
    for _ in 0..steps {
        ms += (g * g - ms) * (1.0 - decay);
        let denominator = match centered {
            true => {
                mg += (g - mg) * (1.0 - decay);
                ms - mg * mg + epsilon
            }
            false => ms + epsilon,
        };
        mom = mom * momentum + lr * g / denominator.sqrt();
        w -= mom;
    }
    w
}

#[test]
fn rmsprop_plain_and_centered() {
    let fixture = Fixture::new();
    fixture.train(RmsProp::new(0.9, 0.5).unwrap(), 2.0, 3);
    assert_close(&fixture.values("var0"), &[1.0, 2.0].map(|w| rmsprop_reference(w, 0.1, 2.0, 3, 0.5, false)));
    assert_close(&fixture.values("var0/RMSProp"), &[1.0 + (0.01 - 1.0) * (1.0 - 0.9f64.powi(3)); 2]);
    assert!(fixture.names().contains(&"var0/RMSProp_1".to_string()));
    let centered = Fixture::new();
    centered.train(RmsProp::new(0.9, 0.0).unwrap().centered(true), 0.01, 3);
    assert_close(&centered.values("var1"), &[3.0, 4.0].map(|w| rmsprop_reference(w, 0.01, 0.01, 3, 0.0, true)));
    assert!(centered.names().contains(&"var1/RMSProp_2".to_string()));
}

#[test]
fn adadelta_follows_tfs_kernel() {
    let (rho, epsilon, lr) = (0.95f64, 1e-8f64, 1.0);
    let reference = |mut w: f64, g: f64| {
        let (mut accumulator, mut accumulated_update) = (0.0, 0.0);
        for _ in 0..3 {
            accumulator = accumulator * rho + g * g * (1.0 - rho);
            let update = (accumulated_update + epsilon).sqrt() / (accumulator + epsilon).sqrt() * g;
            accumulated_update = accumulated_update * rho + update * update * (1.0 - rho);
            w -= update * lr;
        }
        w
    };
    let fixture = Fixture::new();
    fixture.train(Adadelta::default(), lr, 3);
    assert_close(&fixture.values("var0"), &[reference(1.0, 0.1), reference(2.0, 0.1)]);
    assert!(fixture.names().contains(&"var0/Adadelta_1".to_string()));
}

#[test]
fn gradient_descent_and_bad_hyper_parameters() {
    let fixture = Fixture::new();
    fixture.train(GradientDescent, 3.0, 1);
    assert_close(&fixture.values("var0"), &[0.7, 1.7]);
    assert!(Momentum::new(1.5).is_err());
    assert!(Adam::default().betas(0.9, 1.0).is_err());
    assert!(Adagrad::new(0.0).is_err());
}

/// The variables and slots of a small convnet (channels-last convolution weights) after three steps of
/// `optimizer`, with the fused update on or off (Adam's beta powers included). With `restored_slot`, conv1's momentum slot is created
/// beforehand in another layout (as a checkpoint restore may leave it), so that variable goes step by step
/// beside the fused ones.
fn three_steps(fused: bool, optimizer: impl Optimizer + 'static, restored_slot: bool) -> Vec<(String, Tensor)> {
    Config { fused_optimizer: Some(fused), ..Config::default() }.scoped(|| steps_of(optimizer, restored_slot))
}

/// The three steps of [`three_steps`] under whichever update the calling thread's configuration picks.
fn steps_of(optimizer: impl Optimizer + 'static, restored_slot: bool) -> Vec<(String, Tensor)> {
    tch::manual_seed(7);
    let images = Tensor::randn([8, 3, 12, 12], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(4, [8], (Kind::Int64, Device::Cpu));
    let vs = VarStore::new(Device::Cpu);
    let model = common::Tiny.build(&vs, "tiny", &[1, 3, 12, 12]).unwrap();
    if restored_slot {
        let weights = vs.variable("tiny/conv1/weights").unwrap();
        let _store = vs.as_default();
        let init = Initializer::custom(|shape, kind, device| Ok(Tensor::zeros(shape, (kind, device))));
        let slot = variable("tiny/conv1/weights/Momentum", &weights.shape(), VariableArgs::default().initializer(init));
        assert_ne!(slot.unwrap().tensor().stride(), weights.tensor().stride(), "the slot should differ in layout");
    }
    let mut train_op = create_train_op(&vs, optimizer, 0.05).build().unwrap();
    let _store = vs.as_default();
    for _ in 0..3 {
        let logits = model.forward_t(&images, Mode::Train).unwrap().output;
        let _ = sparse_softmax_cross_entropy(&logits, &labels).call().unwrap();
        train_op.run(&get_total_loss(true).unwrap()).unwrap();
    }
    vs.variables().iter().map(|v| (v.name().to_string(), v.tensor().copy())).collect()
}

/// A fresh optimizer for each run.
type MakeOptimizer = fn() -> Box<dyn Optimizer>;

#[test]
fn fused_and_step_by_step_updates_agree() {
    let cases: [(&str, MakeOptimizer, bool); 10] = [
        ("momentum", || Box::new(Momentum::new(0.9).unwrap()), false),
        ("nesterov", || Box::new(Momentum::new(0.9).unwrap().nesterov(true)), false),
        ("momentum, a slot in another layout", || Box::new(Momentum::new(0.9).unwrap()), true),
        ("gradient descent", || Box::new(GradientDescent), false),
        ("adam", || Box::new(Adam::default()), false),
        ("adamw", || Box::new(AdamW::new(0.01).unwrap()), false),
        ("rmsprop", || Box::new(RmsProp::new(0.9, 0.5).unwrap()), false),
        ("centered rmsprop", || Box::new(RmsProp::new(0.9, 0.3).unwrap().centered(true)), false),
        ("rmsprop, a decay under one half", || Box::new(RmsProp::new(0.3, 0.0).unwrap()), false),
        ("adadelta", || Box::new(Adadelta::new(0.9, 1e-6).unwrap()), false),
    ];
    for (case, optimizer, restored_slot) in cases {
        let fused = three_steps(true, optimizer(), restored_slot);
        let step_by_step = three_steps(false, optimizer(), restored_slot);
        assert_eq!(fused.len(), step_by_step.len(), "{case}");
        for ((name, a), (other, b)) in fused.iter().zip(&step_by_step) {
            assert_eq!(name, other, "{case}");
            assert!(a.allclose(b, 1e-6, 1e-7, false), "{case}: {name} differs");
        }
        let moved =
            fused.iter().any(|(name, t)| name.ends_with("weights") && t.abs().sum(Kind::Float).double_value(&[]) > 0.0);
        assert!(moved, "{case}: nothing trained");
    }
}
