//! create_train_op with TF-Slim's learning semantics: multipliers before per-tensor clipping, the loss from
//! before the update, global step counting, update ops, variables_to_train, check_numerics, and a logistic
//! classifier that trains.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::learning::{CURRENT_LOSS_SCALE, DynamicLossScale, GOOD_STEPS};
use slim::prelude::*;

fn vector(name: &str, values: [f32; 2], trainable: bool) -> Variable {
    let init = Initializer::custom(move |_, _, _| Ok(Tensor::from_slice(&values)));
    variable(name, &[2], VariableArgs::default().initializer(init).trainable(trainable)).unwrap()
}

fn values(v: &Variable) -> Vec<f32> {
    Vec::<f32>::try_from(v.tensor().shallow_clone()).unwrap()
}

fn assert_close(got: &[f32], expected: &[f32]) {
    assert!(got.iter().zip(expected).all(|(g, e)| (g - e).abs() < 1e-5), "got {got:?}, expected {expected:?}");
}

/// Gradients [3, 4] (norm 5) for both variables; `w` is multiplied by 2 (norm 10) before clipping to 6.
#[test]
fn multipliers_apply_before_each_gradient_is_clipped_by_its_own_norm() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let (w, u) = (vector("w", [0.0, 0.0], true), vector("u", [0.0, 0.0], true));
    let direction = Tensor::from_slice(&[3.0f32, 4.0]);
    let loss = (w.tensor() * &direction).sum(Kind::Float) + (u.tensor() * &direction).sum(Kind::Float);
    let mut train_op = create_train_op(&vs, GradientDescent, 1.0)
        .gradient_multipliers([("w", 2.0)])
        .clip_gradient_norm(6.0)
        .build()
        .unwrap();
    let before = train_op.run(&loss).unwrap();
    assert_eq!(before, 0.0, "the loss from before the update");
    assert_close(&values(&w), &[-3.6, -4.8]);
    assert_close(&values(&u), &[-3.0, -4.0]);
    assert_eq!(train_op.global_step(), 1);
    let err = create_train_op(&vs, GradientDescent, 1.0).gradient_multipliers([("nope", 2.0)]).build().err().unwrap();
    assert!(err.to_string().contains("nope"), "{err}");
}

/// Multipliers evaluated at each step: a schedule over the global step (2 up to step 1, then 0.5) for `w`, a
/// shared value the program changes between steps for `u`. Gradients are [3, 4]; plain SGD at rate 1.
#[test]
fn multipliers_are_evaluated_at_run_time() {
    use slim::learning::{GradientMultiplier, SharedValue, TrainOp};
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let (w, u) = (vector("w", [0.0, 0.0], true), vector("u", [0.0, 0.0], true));
    let direction = Tensor::from_slice(&[3.0f32, 4.0]);
    let shared = SharedValue::new(1.0);
    let schedule = LearningRate::piecewise_constant(vec![1], vec![2.0, 0.5]).unwrap();
    let multipliers = [("w", GradientMultiplier::from(schedule)), ("u", GradientMultiplier::from(&shared))];
    let mut train_op = create_train_op(&vs, GradientDescent, 1.0).gradient_multipliers(multipliers).build().unwrap();
    let step = |train_op: &mut TrainOp| {
        let loss = (w.tensor() * &direction).sum(Kind::Float) + (u.tensor() * &direction).sum(Kind::Float);
        train_op.run(&loss).unwrap();
    };
    step(&mut train_op); // global step 0: w × 2, u × 1
    assert_close(&values(&w), &[-6.0, -8.0]);
    assert_close(&values(&u), &[-3.0, -4.0]);
    shared.set(-1.0);
    step(&mut train_op); // global step 1: w × 2 (up to and including the boundary), u × −1
    assert_close(&values(&w), &[-12.0, -16.0]);
    assert_close(&values(&u), &[0.0, 0.0]);
    shared.set(0.0);
    step(&mut train_op); // global step 2: w × 0.5, u × 0
    assert_close(&values(&w), &[-13.5, -18.0]);
    assert_close(&values(&u), &[0.0, 0.0]);

    let broken = LearningRate::piecewise_constant(vec![1], vec![2.0, 0.5]).map(|mut schedule| {
        if let LearningRate::PiecewiseConstant { values, .. } = &mut schedule {
            values.push(1.0);
        }
        schedule
    });
    let error = create_train_op(&vs, GradientDescent, 1.0).gradient_multipliers([("w", broken.unwrap())]).build();
    assert!(error.err().map(|e| e.to_string()).unwrap_or_default().contains("w"), "a bad schedule names its variable");
}

#[test]
fn global_step_counts_runs_unless_told_not_to() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let w = vector("w", [1.0, 1.0], true);
    let mut train_op = create_train_op(&vs, GradientDescent, 0.1).build().unwrap();
    for _ in 0..3 {
        train_op.run(&w.tensor().square().sum(Kind::Float)).unwrap();
    }
    assert_eq!(train_op.global_step(), 3);
    assert_eq!(get_global_step().unwrap().unwrap().tensor().int64_value(&[]), 3);
    let mut quiet = create_train_op(&vs, GradientDescent, 0.1).increment_global_step(false).build().unwrap();
    quiet.run(&w.tensor().square().sum(Kind::Float)).unwrap();
    assert_eq!(quiet.global_step(), 3);
}

#[test]
fn variables_to_train_restrict_what_moves_and_losses_are_cleared() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let (w, u) = (vector("w", [1.0, 1.0], true), vector("u", [1.0, 1.0], true));
    let mut train_op = create_train_op(&vs, GradientDescent, 0.5).variables_to_train(vec![u.clone()]).build().unwrap();
    let _ =
        mean_squared_error(&(w.tensor() + u.tensor()), &Tensor::zeros([2], (Kind::Float, Device::Cpu))).call().unwrap();
    train_op.run(&get_total_loss(true).unwrap()).unwrap();
    assert_close(&values(&w), &[1.0, 1.0]);
    // The mean of (w + u)² over 2 elements: each gradient is 2·2/2 = 2, so u moves by 0.5·2.
    assert_close(&values(&u), &[0.0, 0.0]);
    assert!(get_losses(None, None).unwrap().is_empty(), "each step's forward adds its losses anew");
    let frozen = vector("frozen", [0.0, 0.0], false);
    let err = create_train_op(&vs, GradientDescent, 0.5).variables_to_train(vec![frozen]).build().err().unwrap();
    assert!(err.to_string().contains("frozen"), "{err}");
}

#[test]
fn update_ops_run_and_batch_norm_statistics_move() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let x = Tensor::rand([8, 3], (Kind::Float, Device::Cpu)) + 2.0;
    let logits = fully_connected(&batch_norm(&x).call().unwrap(), 1).activation_fn(None).call().unwrap();
    assert_eq!(vs.update_op_count(), 2, "mean and variance updates are deferred");
    let mut train_op = create_train_op(&vs, GradientDescent, 0.1).build().unwrap();
    train_op.run(&logits.square().mean(Kind::Float)).unwrap();
    assert_eq!(vs.update_op_count(), 0);
    let moving_mean = vs.variable("BatchNorm/moving_mean").unwrap().tensor().shallow_clone();
    let expected = x.mean_dim(0, false, Kind::Float) * (1.0 - 0.999);
    assert!(moving_mean.allclose(&expected, 1e-6, 1e-6, false), "{moving_mean:?}");
}

#[test]
fn check_numerics_names_the_non_finite_loss_or_gradient() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let w = vector("w", [0.0, 1.0], true);
    let mut train_op = create_train_op(&vs, GradientDescent, 0.1).build().unwrap();
    let err = train_op.run(&(w.tensor().sum(Kind::Float) * f64::NAN)).unwrap_err();
    assert!(err.to_string().contains("loss is NaN at global step 0"), "{err}");
    // sqrt at 0 has an infinite derivative: the loss is finite, the gradient is not.
    let err = train_op.run(&w.tensor().sqrt().sum(Kind::Float)).unwrap_err();
    assert!(err.to_string().contains("w") && err.to_string().contains("not finite"), "{err}");
    assert_close(&values(&w), &[0.0, 1.0]);
    // Gradients near f32's largest value are finite, though their sum is not.
    let mut huge = create_train_op(&vs, GradientDescent, 1e-38).build().unwrap();
    huge.run(&(w.tensor().sum(Kind::Float) * 3e38)).unwrap();
    assert_close(&values(&w), &[-3.0, -2.0]);
    let mut unchecked = create_train_op(&vs, GradientDescent, 0.1).check_numerics(false).build().unwrap();
    assert!(unchecked.run(&w.tensor().sqrt().sum(Kind::Float)).is_ok());
}

/// A refused step leaves every variable and slot as it was, whether the optimizer checks inside its fused update
/// (momentum, Adam) or through the trait's scan-then-apply default (RMSProp).
#[test]
fn a_non_finite_gradient_in_any_variable_refuses_the_whole_step() {
    let optimizers: [(&str, Box<dyn Optimizer>); 3] = [
        ("Momentum", Box::new(Momentum::new(0.9).unwrap())),
        ("Adam", Box::new(Adam::default())),
        ("RMSProp", Box::new(RmsProp::default())),
    ];
    for (slot, optimizer) in optimizers {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let (a, b) = (vector("a", [1.0, 2.0], true), vector("b", [0.0, 3.0], true));
        let mut train_op = create_train_op(&vs, optimizer, 0.1).build().unwrap();
        train_op.run(&(a.tensor().sum(Kind::Float) + b.tensor().sum(Kind::Float))).unwrap();
        let before: Vec<Vec<f32>> = [&a, &b].map(values).to_vec();
        let slots: Vec<Tensor> =
            ["a", "b"].iter().map(|v| vs.variable(&format!("{v}/{slot}")).unwrap().tensor().copy()).collect();
        // sqrt at 0 again: finite loss, infinite gradient for b only.
        let at_zero = b.tensor() - b.tensor().detach();
        let err = train_op.run(&(a.tensor().sum(Kind::Float) + at_zero.sqrt().sum(Kind::Float))).unwrap_err();
        assert!(err.to_string().contains("b") && err.to_string().contains("not finite"), "{slot}: {err}");
        assert_eq!([&a, &b].map(values).to_vec(), before, "{slot}");
        for (name, slot_before) in ["a", "b"].iter().zip(&slots) {
            let now = vs.variable(&format!("{name}/{slot}")).unwrap().tensor().shallow_clone();
            assert!(now.equal(slot_before), "{slot}: the slot of {name} changed");
        }
        assert_eq!(train_op.global_step(), 1, "{slot}");
    }
}

#[slim::model]
struct Logistic;

#[slim::model]
impl Logistic {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        fully_connected(inputs, 1, activation_fn = None, scope = "fc")
    }
}

/// TF-Slim's logistic-classifier check: 16 examples of 4 features, trained to a small loss in a few hundred
/// steps.
#[test]
fn a_logistic_classifier_trains_below_the_threshold() {
    let vs = VarStore::new(Device::Cpu);
    let model = Logistic.build(&vs, "logistic", &[1, 4]).unwrap();
    // Fixed inputs (no RNG: tests share it across threads), labelled by a linear rule.
    let inputs = (Tensor::arange(64, (Kind::Float, Device::Cpu)) + 1.0).sin().view([16, 4]) * 2.0;
    let labels =
        inputs.matmul(&Tensor::from_slice(&[1.0f32, -2.0, 3.0, -4.0]).view([4, 1])).gt(0.0).to_kind(Kind::Float);
    let _store = vs.as_default();
    let mut train_op = create_train_op(&vs, GradientDescent, 1.0).build().unwrap();
    let mut loss = f64::INFINITY;
    for _ in 0..300 {
        let logits = model.forward_t(&inputs, Mode::Train).unwrap().output;
        let _ = sigmoid_cross_entropy(&logits, &labels).call().unwrap();
        loss = train_op.run(&get_total_loss(true).unwrap()).unwrap();
    }
    assert!(loss < 0.015, "loss after 300 steps: {loss}");
    assert_eq!(train_op.global_step(), 300);
}

/// Two micro-batches of a linear least-squares problem take the step one batch of both takes: with the loss a
/// mean, accumulation averages the gradients (exact numbers: gradient descent at rate 0.5).
#[test]
fn micro_batches_accumulate_to_the_step_of_their_whole_batch() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let w = vector("w", [1.0, -1.0], true);
    let inputs = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 0.5, -1.0, 2.0, 0.0]).view([4, 2]);
    let targets = Tensor::from_slice(&[1.0f32, 0.0, 2.0, 1.0]);
    let loss_of = |rows: &Tensor, wanted: &Tensor| (rows.matmul(w.tensor()) - wanted).square().mean(Kind::Float);
    let mut train_op = create_train_op(&vs, GradientDescent, 0.5).build().unwrap();
    let mean = train_op
        .step_accumulated(2, |i| {
            let (rows, wanted) = (inputs.narrow(0, 2 * i as i64, 2), targets.narrow(0, 2 * i as i64, 2));
            Ok(loss_of(&rows, &wanted))
        })
        .unwrap();
    // Residuals at w = [1, -1]: [-2, -1] and [-0.5, 1] → losses 2.5 and 0.625, mean 1.5625; the gradient of the
    // whole batch's mean squared error, 2/4 · Xᵀr, is [-1.625, -3.75]; w − 0.5·g = [1.8125, 0.875].
    assert_eq!(mean, 1.5625);
    assert_close(&values(&w), &[1.8125, 0.875]);
    assert_eq!(train_op.global_step(), 1);
    let message = train_op.step_accumulated(0, |_| Ok(loss_of(&inputs, &targets))).unwrap_err().to_string();
    assert!(message.contains("at least one micro-batch"), "{message}");
}

/// Dynamic loss scaling in float32 changes nothing: the factors are powers of two, so the scaled gradients
/// divide back exactly. Every variable and Adam slot ends bitwise where the unscaled run's do, over plain and
/// accumulated steps.
#[test]
fn a_scaled_float32_run_equals_an_unscaled_one_bit_for_bit() {
    let inputs = (Tensor::arange(64, (Kind::Float, Device::Cpu)) + 1.0).sin().view([16, 4]) * 2.0;
    let labels = inputs.sum_dim_intlist([1].as_slice(), true, Kind::Float).gt(0.0).to_kind(Kind::Float);
    let run = |scale: Option<DynamicLossScale>| {
        let vs = VarStore::new(Device::Cpu);
        let model = Logistic.build(&vs, "logistic", &[1, 4]).unwrap();
        for variable in vs.collection(TRAINABLE_VARIABLES) {
            // Fixed starting values (no RNG: tests share it across threads).
            let tensor = variable.tensor();
            let fixed = (Tensor::arange(tensor.numel() as i64, (Kind::Float, Device::Cpu)) * 0.3).sin();
            tch::no_grad(|| tensor.shallow_clone().copy_(&fixed.view(tensor.size().as_slice())));
        }
        let _store = vs.as_default();
        let builder = create_train_op(&vs, Adam::default(), 0.1);
        let mut train_op = match scale {
            Some(scale) => builder.loss_scale(scale),
            None => builder,
        }
        .build()
        .unwrap();
        let forward = |rows: &Tensor, wanted: &Tensor| -> Result<Tensor> {
            let logits = model.forward_t(rows, Mode::Train)?.output;
            let _ = sigmoid_cross_entropy(&logits, wanted).call()?;
            get_total_loss(true)
        };
        let mut losses = Vec::new();
        for _ in 0..5 {
            losses.push(train_op.step(|| forward(&inputs, &labels)).unwrap());
            let half = |t: &Tensor, i: usize| t.narrow(0, 8 * i as i64, 8);
            losses.push(train_op.step_accumulated(2, |i| forward(&half(&inputs, i), &half(&labels, i))).unwrap());
        }
        let variables: Vec<(String, Tensor)> = vs
            .variables()
            .iter()
            .filter(|v| ![CURRENT_LOSS_SCALE, GOOD_STEPS].contains(&v.name()))
            .map(|v| (v.name().to_string(), v.tensor().copy()))
            .collect();
        (losses, variables, train_op.loss_scale())
    };
    let (plain_losses, plain, no_scale) = run(None);
    let (scaled_losses, scaled, scale) = run(Some(DynamicLossScale::new(1024.0, 4, 2.0).unwrap()));
    assert_eq!(no_scale, None);
    assert_eq!(scale, Some(4096.0), "10 good steps with a period of 4 double 1024 twice");
    assert_eq!(plain_losses, scaled_losses);
    assert_eq!(plain.len(), scaled.len());
    for ((name, a), (_, b)) in plain.iter().zip(&scaled) {
        assert!(a.equal(b), "{name} differs");
    }
}

/// A step whose scaled gradients overflow is skipped — the variable and Adam's slots stay, the global step
/// counts it — and the factor halves, step by step, until the gradients fit float32 (TF's DynamicLossScale).
#[test]
fn overflowing_steps_are_skipped_and_the_scale_halves_until_they_fit() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let w = vector("w", [1.0, -1.0], true);
    let mut scale = 2f64.powi(127);
    let mut train_op = create_train_op(&vs, Adam::default(), 0.1)
        .loss_scale(DynamicLossScale::new(scale, 100, 2.0).unwrap())
        .build()
        .unwrap();
    // The gradient is 1000 for each element: 1000 · scale overflows float32 until scale ≤ f32::MAX / 1000.
    let mut skipped = 0;
    while 1000.0 * scale > f64::from(f32::MAX) {
        train_op.run(&(w.tensor() * 1000.0).sum(Kind::Float)).unwrap();
        skipped += 1;
        scale /= 2.0;
        assert_eq!(values(&w), [1.0, -1.0], "skipped step {skipped} left the variable");
        assert_eq!(train_op.loss_scale(), Some(scale));
    }
    assert_eq!(skipped, 9);
    let slot = vs.variable("w/Adam").unwrap().tensor().copy();
    assert_eq!(Vec::<f32>::try_from(slot).unwrap(), [0.0, 0.0], "Adam's slots stay at zero while skipping");
    train_op.run(&(w.tensor() * 1000.0).sum(Kind::Float)).unwrap();
    assert_close(&values(&w), &[0.9, -1.1]);
    assert_eq!(train_op.global_step(), 10, "skipped steps count");
    assert_eq!(train_op.loss_scale(), Some(scale), "one good step of 100 does not grow it");
    // A non-finite loss is still an error: scaling cannot mend the forward pass.
    let err = train_op.run(&(w.tensor().sum(Kind::Float) * f64::NAN)).unwrap_err();
    assert!(err.to_string().contains("loss is NaN"), "{err}");
}
