//! TF-Slim's losses (losses_test semantics): values, weights over non-zero elements, label smoothing, the
//! LOSSES collection and the total loss.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::prelude::*;

fn t(values: &[f32], shape: &[i64]) -> Tensor {
    Tensor::from_slice(values).view(shape)
}

fn value(loss: Tensor) -> f64 {
    loss.double_value(&[])
}

fn assert_near(got: f64, expected: f64) {
    assert!((got - expected).abs() < 1e-3 * expected.abs().max(1.0), "got {got}, expected {expected}");
}

/// Logits favouring class i for example i, and labels one class off.
fn softmax_case() -> (Tensor, Tensor) {
    let logits = t(&[10., 0., 0., 0., 10., 0., 0., 0., 10.], &[3, 3]);
    let labels = t(&[0., 0., 1., 1., 0., 0., 0., 1., 0.], &[3, 3]);
    (logits, labels)
}

#[test]
fn softmax_cross_entropy_values_and_weights() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let (logits, wrong) = softmax_case();
    let right = Tensor::eye(3, (Kind::Float, Device::Cpu));
    assert_near(value(softmax_cross_entropy(&logits, &right).call().unwrap()), 0.0);
    assert_near(value(softmax_cross_entropy(&logits, &wrong).call().unwrap()), 10.0);
    assert_near(value(softmax_cross_entropy(&logits, &wrong).weights(2.3).call().unwrap()), 23.0);
    let per_example = t(&[1.2, 3.4, 5.6], &[3]);
    assert_near(value(softmax_cross_entropy(&logits, &wrong).weights(&per_example).call().unwrap()), 34.0);
    let none = t(&[0., 0., 0.], &[3]);
    assert_eq!(value(softmax_cross_entropy(&logits, &wrong).weights(&none).call().unwrap()), 0.0);
    let column = t(&[1.2, 3.4, 5.6], &[3, 1]);
    assert_near(value(softmax_cross_entropy(&logits, &wrong).weights(&column).call().unwrap()), 34.0);
    let err = softmax_cross_entropy(&logits, &wrong).weights(t(&[1.; 9], &[3, 3])).call().unwrap_err();
    assert!(err.to_string().contains("one per example"), "{err}");
}

#[test]
fn softmax_label_smoothing_moves_labels_toward_uniform() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let logits = t(&[100., -100., -100.], &[1, 3]);
    let labels = t(&[1., 0., 0.], &[1, 3]);
    let loss = softmax_cross_entropy(&logits, &labels).label_smoothing(0.1).call().unwrap();
    assert_near(value(loss), 400.0 * 0.1 / 3.0);
}

#[test]
fn sparse_softmax_cross_entropy_takes_class_indices() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let (logits, _) = softmax_case();
    let labels = Tensor::from_slice(&[2i64, 0, 1]);
    assert_near(value(sparse_softmax_cross_entropy(&logits, &labels).call().unwrap()), 10.0);
    let column = labels.view([3, 1]);
    assert_near(value(sparse_softmax_cross_entropy(&logits, &column).weights(2.3).call().unwrap()), 23.0);
    let int32 = labels.to_kind(Kind::Int);
    assert_near(value(sparse_softmax_cross_entropy(&logits, &int32).call().unwrap()), 10.0);
    let per_example = Tensor::from_slice(&[1.2f32, 3.4, 5.6]);
    assert_near(value(sparse_softmax_cross_entropy(&logits, &labels).weights(per_example).call().unwrap()), 34.0);
    assert_near(value(sparse_softmax_cross_entropy(&logits, &labels).weights(0.0).call().unwrap()), 0.0);
    // Above the range, below it, and libtorch's default ignore index (which slim does not ignore).
    for bad in [3i64, -1, -100] {
        let err = sparse_softmax_cross_entropy(&logits, &Tensor::from_slice(&[bad, 0, 1])).call().unwrap_err();
        assert!(err.to_string().contains("classes in [0, 3)"), "{bad}: {err}");
    }
}

#[test]
fn sigmoid_cross_entropy_with_smoothing_toward_one_half() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let logits = t(&[100., -100., -100.], &[1, 3]);
    let labels = t(&[1., 0., 1.], &[1, 3]);
    // Smoothed labels (0.95, 0.05, 0.95): per-element losses 5, 5 and 95.
    let loss = sigmoid_cross_entropy(&logits, &labels).label_smoothing(0.1).call().unwrap();
    assert_near(value(loss), (5.0 + 5.0 + 95.0) / 3.0);
    let confident = t(&[100., -100., -100., -100., 100., -100.], &[2, 3]);
    let onehot = t(&[1., 0., 0., 0., 1., 0.], &[2, 3]);
    assert_near(value(sigmoid_cross_entropy(&confident, &onehot).call().unwrap()), 0.0);
}

/// TF-Slim's regression fixtures: predictions and labels of shape [2, 3].
fn regression_case() -> (Tensor, Tensor) {
    (t(&[4., 8., 12., 8., 1., 3.], &[2, 3]), t(&[1., 9., 2., -5., -2., 6.], &[2, 3]))
}

#[test]
fn regression_losses_average_over_present_elements() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let (predictions, labels) = regression_case();
    assert_near(value(mean_squared_error(&predictions, &labels).call().unwrap()), 49.5);
    assert_near(value(absolute_difference(&predictions, &labels).call().unwrap()), 5.5);
    let per_example = t(&[1.2, 3.4], &[2]);
    let weighted = mean_squared_error(&predictions, &labels).weights(&per_example).call().unwrap();
    assert_near(value(weighted), (110.0 * 1.2 + 187.0 * 3.4) / 6.0);
    // A zero weight removes its elements from the count: 14·1.2 over the 3 present elements.
    let half = t(&[1.2, 0.0], &[2]);
    assert_near(value(absolute_difference(&predictions, &labels).weights(&half).call().unwrap()), 5.6);
    let elementwise = t(&[3., 6., 5., 0., 4., 2.], &[2, 3]);
    let weighted = absolute_difference(&predictions, &labels).weights(&elementwise).call().unwrap();
    assert_near(value(weighted), (9. + 6. + 50. + 12. + 6.) / 5.0);
    // Any shape that broadcasts, as tf.losses' SUM_BY_NONZERO_WEIGHTS counts it: [batch, 1] as [batch], and a
    // weight per column, [1, 3], counted over every row it covers.
    let per_row = absolute_difference(&predictions, &labels).weights(t(&[1.2, 0.0], &[2, 1])).call().unwrap();
    assert_near(value(per_row), 5.6);
    let per_column = t(&[1., 0., 2.], &[1, 3]);
    let weighted = absolute_difference(&predictions, &labels).weights(&per_column).call().unwrap();
    assert_near(value(weighted), (3. + 2. * 10. + 13. + 2. * 3.) / 4.0);
    let err = mean_squared_error(&predictions, &labels).weights(t(&[1., 2., 3.], &[3])).call().unwrap_err();
    assert!(err.to_string().contains("mean_squared_error") && err.to_string().contains("[3]"), "{err}");
}

#[test]
fn log_cosine_and_hinge_losses() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let predictions = t(&[0.9, 0.2, 0.2, 0.8, 0.4, 0.6], &[2, 3]);
    let labels = t(&[1., 0., 1., 1., 0., 0.], &[2, 3]);
    let expected: f64 = [0.9f64, 0.8, 0.2, 0.8, 0.6, 0.4].iter().map(|p| -(p + 1e-7).ln()).sum::<f64>() / 6.0;
    assert_near(value(log_loss(&predictions, &labels).call().unwrap()), expected);
    let unit = t(&[0., 0., 1., 0., 1., 0., 1., 0., 0.], &[3, 3]);
    let against = t(&[0., 0., 1., 0., 0., -1., 1., 0., 0.], &[3, 3]);
    // Distances per row along axis 1: 0, 1, 0.
    assert_near(value(cosine_distance(&unit, &against, 1).call().unwrap()), 1.0 / 3.0);
    let logits = t(&[-1.0, -0.7, -0.3, 0.0, 0.7, 1.0], &[6]);
    let hinge_labels = t(&[0., 0., 1., 1., 0., 1.], &[6]);
    let hinge: Vec<f32> = hinge_loss(&logits, &hinge_labels).unwrap().try_into().unwrap();
    let expected_hinge = [0.0, 0.3, 1.3, 1.0, 1.7, 0.0];
    assert!(hinge.iter().zip(expected_hinge).all(|(a, b)| (a - b).abs() < 1e-6), "{hinge:?}");
    let err = log_loss(&predictions, &labels).label_smoothing(0.1).call().unwrap_err();
    assert!(err.to_string().contains("label_smoothing"), "{err}");
}

#[test]
fn losses_join_the_collection_and_the_total_adds_regularization() {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let (predictions, labels) = regression_case();
    let _ = mean_squared_error(&predictions, &labels).call().unwrap();
    let _ = absolute_difference(&predictions, &labels).scope("abs").call().unwrap();
    let _ = absolute_difference(&predictions, &labels).loss_collection(None).call().unwrap();
    let names: Vec<String> = get_losses(None, None).unwrap().into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["mean_squared_error/value", "abs/value"]);
    assert_eq!(get_losses(Some("abs"), None).unwrap().len(), 1);
    let args = VariableArgs::default().initializer(constant_initializer(2.0)).regularizer(l2_regularizer(0.5));
    variable("w", &[3], args).unwrap();
    assert_near(value(get_total_loss(false).unwrap()), 49.5 + 5.5);
    assert_near(value(get_total_loss(true).unwrap()), 49.5 + 5.5 + 0.5 * 12.0 / 2.0);
    vs.clear_losses();
    assert!(get_total_loss(false).is_err(), "nothing to sum");
    let custom = Tensor::from(1.5f32);
    add_loss(&custom).unwrap();
    assert_near(value(compute_weighted_loss(&t(&[1., 2., 3.], &[3]), 2.0).unwrap()), 4.0);
    assert_near(value(get_total_loss(false).unwrap()), 1.5 + 4.0);
}
