//! Streaming metrics in the style of TF-Slim's metric tests: values over several batches, weights (0 masks),
//! idempotent values, reset, division by zero giving 0, and shape errors.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::metrics::*;
use slim::prelude::*;

fn t(values: &[f32]) -> Tensor {
    Tensor::from_slice(values)
}

fn near(got: f64, expected: f64) {
    assert!((got - expected).abs() < 1e-9, "got {got}, expected {expected}");
}

#[test]
fn accuracy_streams_weights_and_stays_idempotent() {
    let mut accuracy = Accuracy::default();
    near(accuracy.value(), 0.0);
    near(accuracy.update(&t(&[1., 2., 3., 4.]), &t(&[1., 2., 0., 4.]), None).unwrap(), 0.75);
    near(accuracy.value(), 0.75);
    near(accuracy.value(), 0.75);
    accuracy.reset();
    let weights = t(&[1., 1., 2., 0.]);
    near(accuracy.update(&t(&[1., 2., 3., 4.]), &t(&[1., 2., 0., 4.]), Some(&weights)).unwrap(), 0.5);
    near(accuracy.update(&t(&[1., 1.]), &t(&[1., 1.]), None).unwrap(), 4.0 / 6.0);
    let mut masked = Accuracy::default();
    near(masked.update(&t(&[1., 2.]), &t(&[1., 2.]), Some(&t(&[0.]))).unwrap(), 0.0);
    let err = accuracy.update(&t(&[1., 2., 3.]), &t(&[1., 2.]), None).unwrap_err().to_string();
    assert!(err.contains("accuracy") && err.contains("[3]") && err.contains("[2]"), "{err}");
    let column = Tensor::from_slice(&[1i64, 2]).view([2, 1]);
    near(Accuracy::default().update(&Tensor::from_slice(&[1i64, 0]), &column, None).unwrap(), 0.5);
}

#[test]
fn precision_recall_and_counts_with_per_example_weights() {
    let predictions = t(&[1., 0., 1., 0., 1., 0., 0., 1.]).view([2, 4]);
    let labels = t(&[0., 1., 1., 0., 1., 0., 0., 1.]).view([2, 4]);
    let weights = t(&[2., 5.]);
    let mut precision = Precision::default();
    let mut recall = Recall::default();
    // Weighted: TP = 2 + 5 + 5, FP = 2, FN = 2.
    near(precision.update(&predictions, &labels, Some(&weights)).unwrap(), 12.0 / 14.0);
    near(recall.update(&predictions, &labels, Some(&weights)).unwrap(), 12.0 / 14.0);
    let mut counts = Counts::default();
    counts.update("counts", &predictions, &labels, None).unwrap();
    assert_eq!(counts, Counts { true_positives: 3.0, false_positives: 1.0, true_negatives: 3.0, false_negatives: 1.0 });
    near(Precision::default().update(&t(&[0., 0.]), &t(&[1., 0.]), None).unwrap(), 0.0);
}

#[test]
fn means_and_errors() {
    let values = t(&[0., 1., -4.2, 9.1, 6.5, 0., -3.2, 4.0]).view([4, 2]);
    let mut mean = Mean::default();
    for row in 0..4 {
        mean.update(&values.get(row), &Tensor::zeros([0], (Kind::Float, Device::Cpu)), None).unwrap();
    }
    assert!((mean.value() - 1.65).abs() < 1e-6, "{}", mean.value());
    let (p, l) = (t(&[4., 8., 12., 8., 1., 3.]), t(&[1., 9., 2., -5., -2., 6.]));
    near(MeanAbsoluteError::default().update(&p, &l, None).unwrap(), 5.5);
    near(MeanSquaredError::default().update(&p, &l, None).unwrap(), 49.5);
    near(RootMeanSquaredError::default().update(&p, &l, None).unwrap(), 49.5f64.sqrt());
    let weighted =
        MeanAbsoluteError::default().update(&t(&[2., 4., 6., 8.]), &t(&[1., 3., 2., 3.]), Some(&t(&[0., 1., 0., 1.])));
    near(weighted.unwrap(), 3.0);
    let mut relative = MeanRelativeError::default();
    let labels = t(&[1., 3., 2., 3.]);
    near(relative.update_with(&t(&[2., 4., 6., 8.]), &labels, &labels, None).unwrap(), 1.25);
    near(relative.update_with(&t(&[5.]), &t(&[1.]), &t(&[0.]), None).unwrap(), 1.0);
    let mut less = PercentageLess::new(6.0);
    near(less.update(&t(&[2., 4., 6., 8., 10.]), &t(&[]), None).unwrap(), 0.4);
    let mut cosine = MeanCosineDistance::new(1);
    near(cosine.update(&t(&[1., 0., 0., 1.]).view([2, 2]), &t(&[1., 0., 1., 0.]).view([2, 2]), None).unwrap(), 0.5);
    assert!(MeanCosineDistance::new(2).update(&t(&[1., 0.]).view([1, 2]), &t(&[1., 0.]).view([1, 2]), None).is_err());
}

#[test]
fn recall_at_k_counts_a_label_among_the_k_highest() {
    let scores = t(&[0.1, 0.3, 0.2, 0.4, 0.1, 0.2, 0.3, 0.4]).view([2, 4]);
    let labels = Tensor::from_slice(&[1i64, 0]);
    for (k, expected) in [(1, 0.0), (2, 0.5), (3, 0.5), (4, 1.0)] {
        near(RecallAtK::new(k).unwrap().update(&scores, &labels, None).unwrap(), expected);
    }
    let tie = t(&[0.5, 0.5]).view([1, 2]);
    near(RecallAtK::new(1).unwrap().update(&tie, &Tensor::from_slice(&[1i64]), None).unwrap(), 1.0);
    let err = RecallAtK::new(5).unwrap().update(&scores, &labels, None).unwrap_err().to_string();
    assert!(err.contains("k = 5 is more than the 4 classes"), "{err}");
}

#[test]
fn auc_approximates_the_curves_with_tfs_thresholds() {
    let predictions = t(&[0.1, 0.4, 0.35, 0.8]);
    let labels = t(&[0., 0., 1., 1.]);
    let roc = Auc::new(Curve::Roc, 200).unwrap().update(&predictions, &labels, None).unwrap();
    assert!((roc - 0.75).abs() < 1e-4, "ROC AUC {roc}");
    let pr = Auc::new(Curve::Pr, 200).unwrap().update(&predictions, &labels, None).unwrap();
    assert!(pr > 0.7 && pr < 0.9, "PR AUC {pr}");
    let perfect = Auc::new(Curve::Roc, 200).unwrap().update(&t(&[0.1, 0.9]), &t(&[0., 1.]), None).unwrap();
    assert!((perfect - 1.0).abs() < 1e-4, "{perfect}");
    assert!(Auc::new(Curve::Roc, 1).is_err());
}

#[test]
fn mean_iou_and_the_confusion_matrix() {
    let predictions = Tensor::from_slice(&[0i64, 0, 1, 1, 2]);
    let labels = Tensor::from_slice(&[0i64, 1, 1, 2, 2]);
    let mut iou = MeanIou::new(3).unwrap();
    near(iou.update(&predictions, &labels, None).unwrap(), (0.5 + 1.0 / 3.0 + 0.5) / 3.0);
    let mut matrix = ConfusionMatrix::new(3).unwrap();
    matrix.update(&predictions, &labels, None).unwrap();
    let expected = t(&[1., 0., 0., 1., 1., 0., 0., 1., 1.]).view([3, 3]).to_kind(Kind::Double);
    assert!(matrix.to_tensor().equal(&expected));
    let err = matrix.update(&Tensor::from_slice(&[3i64]), &Tensor::from_slice(&[0i64]), None).unwrap_err();
    assert!(err.to_string().contains("[0, 3)"), "{err}");
    // A class never seen nor predicted does not count toward the mean.
    near(MeanIou::new(4).unwrap().update(&predictions, &labels, None).unwrap(), (0.5 + 1.0 / 3.0 + 0.5) / 3.0);
}

#[test]
fn metric_maps_update_and_read_together() {
    let metrics: Vec<(&str, Box<dyn StreamingMetric>)> =
        vec![("Accuracy", Box::new(Accuracy::default())), ("Recall", Box::new(Recall::default()))];
    let mut map = aggregate_metric_map(metrics).unwrap();
    let values = map.update(&t(&[1., 0., 1., 1.]), &t(&[1., 1., 1., 0.]), None).unwrap();
    assert_eq!(values, [("Accuracy".to_string(), 0.5), ("Recall".to_string(), 2.0 / 3.0)]);
    map.reset();
    assert_eq!(map.values(), [("Accuracy".to_string(), 0.0), ("Recall".to_string(), 0.0)]);
    assert!(aggregate_metric_map(vec![]).is_err());
    let twice: Vec<(&str, Box<dyn StreamingMetric>)> =
        vec![("A", Box::new(Accuracy::default())), ("A", Box::new(Recall::default()))];
    assert!(aggregate_metric_map(twice).is_err());
}

#[test]
fn accuracy_reduces_scores_to_their_argmax() {
    let logits = t(&[0.1, 0.9, 0.8, 0.2, 0.3, 0.7]).view([3, 2]);
    let labels = Tensor::from_slice(&[1i64, 0, 0]);
    near(Accuracy::default().update(&logits, &labels, None).unwrap(), 2.0 / 3.0);
    let mut matrix = ConfusionMatrix::new(2).unwrap();
    matrix.update(&logits, &labels, None).unwrap();
    assert_eq!((matrix.get(0, 0), matrix.get(0, 1), matrix.get(1, 1)), (1.0, 1.0, 1.0));
}

/// TF's `remove_squeezable_dimensions`: float `[batch, 1]` predictions are classes compared with `[batch]`
/// labels (not one column of scores, whose argmax is always 0), and `[batch, 1]` labels meet `[batch]`
/// predictions the same way.
#[test]
fn accuracy_squeezes_a_trailing_dimension_of_one_as_tf_does() {
    let column = t(&[1.0, 0.0, 1.0]).view([3, 1]);
    let labels = Tensor::from_slice(&[1i64, 1, 1]);
    near(Accuracy::default().update(&column, &labels, None).unwrap(), 2.0 / 3.0);
    let flat = Tensor::from_slice(&[1i64, 0, 1]);
    near(Accuracy::default().update(&flat, &labels.view([3, 1]), None).unwrap(), 2.0 / 3.0);
    let weighted = Accuracy::default().update(&column, &labels, Some(&t(&[1.0, 3.0, 0.0]))).unwrap();
    near(weighted, 0.25);
    let mut matrix = ConfusionMatrix::new(2).unwrap();
    matrix.update(&column.to_kind(Kind::Int64), &labels, None).unwrap();
    assert_eq!((matrix.get(1, 1), matrix.get(1, 0)), (2.0, 1.0));
}

#[test]
fn sparse_top_k_precision_and_recall() {
    // Example 0: top-2 classes {3, 1}; example 1: top-2 {3, 2}.
    let scores = t(&[0.1, 0.3, 0.2, 0.4, 0.1, 0.2, 0.3, 0.4]).view([2, 4]);
    let labels = Tensor::from_slice(&[1i64, 0]);
    // Hits: example 0 has its label in the top 2, example 1 does not: TP 1, FP 3, FN 1.
    near(SparsePrecisionAtK::new(2).unwrap().update(&scores, &labels, None).unwrap(), 0.25);
    near(SparseRecallAtK::new(2).unwrap().update(&scores, &labels, None).unwrap(), 0.5);
    // Two labels per example, -1 as padding: example 0 {1, 3} both hit; example 1 {2} hits.
    let multi = Tensor::from_slice(&[1i64, 3, 2, -1]).view([2, 2]);
    near(SparsePrecisionAtK::new(2).unwrap().update(&scores, &multi, None).unwrap(), 0.75);
    near(SparseRecallAtK::new(2).unwrap().update(&scores, &multi, None).unwrap(), 1.0);
    let weighted = SparseRecallAtK::new(2).unwrap().update(&scores, &labels, Some(&t(&[0., 1.]))).unwrap();
    near(weighted, 0.0);
    assert!(SparsePrecisionAtK::new(5).unwrap().update(&scores, &labels, None).is_err());
}

#[test]
fn mean_tensor_averages_element_wise() {
    let mut mean = MeanTensor::default();
    assert!(mean.value().is_none());
    let _ = mean.update(&t(&[1., 2., 3.]), None).unwrap();
    let value = mean.update(&t(&[3., 4., 5.]), Some(&t(&[1., 1., 0.]))).unwrap();
    assert!(value.equal(&Tensor::from_slice(&[2.0f64, 3.0, 3.0])), "{value:?}");
    assert!(mean.update(&t(&[1., 2.]), None).is_err());
    mean.reset();
    assert!(mean.value().is_none());
}

/// TF's covariance cases: identical inputs give the variance; `[2, 4, 6]` against `[1, 3, 2]` gives 1; frequency
/// weights `[0, 1, 3, 1]` on `[2, 4, 6, 8]` / `[1, 3, 2, 7]` give 2; batches stream to the whole's value; NaN
/// until more than one unit of weight.
#[test]
fn covariance_streams_tfs_cases() {
    let mut covariance = Covariance::default();
    assert!(covariance.value().is_nan());
    let range: Vec<f32> = (0..10).map(|v| v as f32).collect();
    near(covariance.update(&t(&range), &t(&range), None).unwrap(), 55.0 / 6.0);
    covariance.reset();
    near(covariance.update(&t(&[2., 4., 6.]), &t(&[1., 3., 2.]), None).unwrap(), 1.0);
    covariance.reset();
    let (p, l, w) = (t(&[2., 4., 6., 8.]), t(&[1., 3., 2., 7.]), t(&[0., 1., 3., 1.]));
    near(covariance.update(&p, &l, Some(&w)).unwrap(), 2.0);
    covariance.reset();
    covariance.update(&p.narrow(0, 0, 1), &l.narrow(0, 0, 1), Some(&w.narrow(0, 0, 1))).unwrap();
    assert!(covariance.value().is_nan(), "a zero weight counts nothing");
    covariance.update(&p.narrow(0, 1, 2), &l.narrow(0, 1, 2), Some(&w.narrow(0, 1, 2))).unwrap();
    near(covariance.update(&p.narrow(0, 3, 1), &l.narrow(0, 3, 1), Some(&w.narrow(0, 3, 1))).unwrap(), 2.0);
    near(covariance.value(), 2.0);
    assert!(covariance.update(&t(&[1., 2.]), &t(&[1., 2., 3.]), None).is_err());
}

/// Pearson's r: 0.5 for `[2, 4, 6]` against `[1, 3, 2]`; with the frequency weights above, 2 / √(2 · 4.7); the
/// same when streamed in two batches; NaN for a constant side.
#[test]
fn pearson_correlation_streams_tfs_cases() {
    let mut pearson = PearsonCorrelation::default();
    near(pearson.update(&t(&[2., 4., 6.]), &t(&[1., 3., 2.]), None).unwrap(), 0.5);
    pearson.reset();
    let (p, l, w) = (t(&[2., 4., 6., 8.]), t(&[1., 3., 2., 7.]), t(&[0., 1., 3., 1.]));
    let expected = 2.0 / (2.0f64 * 4.7).sqrt();
    near(pearson.update(&p, &l, Some(&w)).unwrap(), expected);
    pearson.reset();
    pearson.update(&p.narrow(0, 0, 2), &l.narrow(0, 0, 2), Some(&w.narrow(0, 0, 2))).unwrap();
    near(pearson.update(&p.narrow(0, 2, 2), &l.narrow(0, 2, 2), Some(&w.narrow(0, 2, 2))).unwrap(), expected);
    pearson.reset();
    assert!(pearson.update(&t(&[1., 1., 1.]), &t(&[1., 2., 3.]), None).unwrap().is_nan());
}

#[test]
fn count_adds_up_weights() {
    let mut count = Count::default();
    near(count.update(&t(&[1., 2., 3., 4.]), &t(&[]), Some(&t(&[0.5, 1., 0., 2.]))).unwrap(), 3.5);
    near(count.update(&t(&[7., 8., 9.]), &t(&[]), None).unwrap(), 6.5);
    near(count.value(), 6.5);
    count.reset();
    near(count.value(), 0.0);
    assert!(count.update(&t(&[1., 2.]), &t(&[]), Some(&t(&[1., 2., 3.]))).is_err());
}

/// Precision and recall at thresholds, against TF 2.21's `tf.compat.v1.metrics` on the same inputs (TF's
/// `testWeights1d`, with 1.0 for its out-of-range 1.1); thresholds outside [0, 1] are refused, as are predictions.
#[test]
fn precision_and_recall_at_thresholds_match_tf() {
    let predictions = t(&[1., 0., 1., 0.]).view([2, 2]);
    let labels = t(&[0., 1., 1., 0.]).view([2, 2]);
    let weights = t(&[0., 1.]).view([2, 1]);
    let mut precision = PrecisionAtThresholds::new(&[0.5, 1.0]).unwrap();
    let mut recall = RecallAtThresholds::new(&[0.5, 1.0]).unwrap();
    assert_eq!(precision.update(&predictions, &labels, Some(&weights)).unwrap(), [0.9999998807907104, 0.0]);
    assert_eq!(recall.update(&predictions, &labels, Some(&weights)).unwrap(), [0.9999998807907104, 0.0]);
    precision.reset();
    assert_eq!(precision.values(), [0.0, 0.0]);
    let message = RecallAtThresholds::new(&[0.5, 1.1]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("recall_at_thresholds") && message.contains("1.1"), "{message}");
    let message = precision.update(&t(&[0.5, 1.5]), &t(&[1., 0.]), None).err().map(|e| e.to_string());
    assert!(message.unwrap_or_default().contains("predictions must lie in [0, 1]"));
    let mut counts = CountsAtThresholds::new("counts", &[0.25]).unwrap();
    counts.update("counts", &t(&[0.1, 0.3, 0.6, 0.2]), &t(&[1., 1., 0., 0.]), None).unwrap();
    let tallies =
        [counts.true_positives(), counts.false_negatives(), counts.true_negatives(), counts.false_positives()];
    assert_eq!(tallies, [[1.0], [1.0], [1.0], [1.0]]);
}

/// Sensitivity at a specificity and specificity at a sensitivity (200 thresholds), against TF 2.21's
/// `tf.compat.v1.metrics` on TF's test inputs, plain and weighted.
#[test]
fn sensitivity_and_specificity_at_targets_match_tf() {
    let predictions = t(&[0.1, 0.2, 0.4, 0.3, 0.0, 0.1, 0.45, 0.5, 0.8, 0.9]);
    let labels = t(&[0., 0., 0., 0., 0., 1., 1., 1., 1., 1.]);
    let weighted = t(&[0.0, 0.1, 0.2, 0.3, 0.4, 0.0, 0.1, 0.2, 0.3, 0.4]);
    let weights = t(&[0., 0., 0., 1., 1., 1., 1., 1., 1., 1.]);
    let cases = [
        (&predictions, None, 0.8, 0.800000011920929, 1.0),
        (&predictions, None, 0.4, 0.800000011920929, 1.0),
        (&weighted, Some(&weights), 0.8, 0.0, 0.0),
        (&weighted, Some(&weights), 0.4, 0.20000000298023224, 0.0),
    ];
    for (predictions, weights, target, sensitivity, specificity) in cases {
        let mut at_specificity = SensitivityAtSpecificity::new(target, 200).unwrap();
        assert_eq!(at_specificity.update(predictions, &labels, weights).unwrap(), sensitivity, "{target}");
        let mut at_sensitivity = SpecificityAtSensitivity::new(target, 200).unwrap();
        assert_eq!(at_sensitivity.update(predictions, &labels, weights).unwrap(), specificity, "{target}");
    }
    assert!(SensitivityAtSpecificity::new(1.2, 200).is_err() && SpecificityAtSensitivity::new(0.5, 1).is_err());
}

/// `precision_at_recall` and `recall_at_precision` (plain and strict), against tf_slim 1.1's on TF 2.21, for the
/// inputs above, plain and weighted, at three targets.
#[test]
fn precision_at_recall_and_recall_at_precision_match_tf_slim() {
    let predictions = t(&[0.1, 0.2, 0.4, 0.3, 0.0, 0.1, 0.45, 0.5, 0.8, 0.9]);
    let labels = t(&[0., 0., 0., 0., 0., 1., 1., 1., 1., 1.]);
    let weighted = t(&[0.0, 0.1, 0.2, 0.3, 0.4, 0.0, 0.1, 0.2, 0.3, 0.4]);
    let weights = t(&[0., 0., 0., 1., 1., 1., 1., 1., 1., 1.]);
    // (target, precision at recall, recall at precision, strict recall at precision)
    let plain = [
        (0.7, 1.0, 0.800000011920929, 0.800000011920929),
        (0.4, 1.0, 1.0, 1.0),
        (1.0, 0.5555555820465088, 0.800000011920929, 0.0),
    ];
    let weighted_cases = [
        (0.7, 0.6666666865348816, 1.0, 1.0),
        (0.4, 0.5, 0.4000000059604645, 0.4000000059604645),
        (1.0, 0.7142857313156128, 1.0, 0.0),
    ];
    for (predictions, weights, cases) in [(&predictions, None, plain), (&weighted, Some(&weights), weighted_cases)] {
        for (target, precision, recall, strict) in cases {
            let mut at_recall = PrecisionAtRecall::new(target, 200).unwrap();
            assert_eq!(at_recall.update(predictions, &labels, weights).unwrap(), precision, "{target}");
            let mut at_precision = RecallAtPrecision::new(target, 200, false).unwrap();
            assert_eq!(at_precision.update(predictions, &labels, weights).unwrap(), recall, "{target}");
            let mut strictly = RecallAtPrecision::new(target, 200, true).unwrap();
            assert_eq!(strictly.update(predictions, &labels, weights).unwrap(), strict, "{target}");
        }
    }
    assert!(PrecisionAtRecall::new(-0.1, 200).is_err() && RecallAtPrecision::new(0.5, 0, false).is_err());
}

/// Cohen's kappa over four classes, plain and weighted, against tf_slim 1.1's `cohen_kappa` on TF 2.21; the
/// same streamed in two batches.
#[test]
fn cohen_kappa_matches_tf_slim() {
    let labels = t(&[0., 1., 2., 2., 1., 0., 3., 3., 2., 1.]);
    let predictions = t(&[0., 1., 2., 1., 1., 0., 3., 2., 2., 0.]);
    let weights = t(&[1., 2., 1., 0.5, 1., 1., 3., 1., 1., 2.]);
    let mut kappa = CohenKappa::new(4).unwrap();
    assert!((kappa.update(&predictions, &labels, None).unwrap() - 0.5945945945945946).abs() < 1e-12);
    kappa.reset();
    kappa.update(&predictions.narrow(0, 0, 4), &labels.narrow(0, 0, 4), Some(&weights.narrow(0, 0, 4))).unwrap();
    let value = kappa.update(&predictions.narrow(0, 4, 6), &labels.narrow(0, 4, 6), Some(&weights.narrow(0, 4, 6)));
    assert!((value.unwrap() - 0.6557377049180327).abs() < 1e-12);
    assert!(kappa.update(&t(&[4.]), &t(&[0.]), None).is_err(), "a class outside the four");
    near(CohenKappa::new(2).unwrap().value(), 0.0);
}

/// The exact (dynamic) AUC with ties, plain and weighted, both curves, against tf_slim 1.1's
/// `streaming_dynamic_auc` on TF 2.21; streamed in two batches; 0 for one class; labels must be 0 or 1.
#[test]
fn dynamic_auc_matches_tf_slim() {
    let predictions = t(&[0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.1, 0.65, 0.4, 0.2]);
    let labels = t(&[0., 0., 1., 1., 1., 1., 0., 0., 1., 0.]);
    let weights = t(&[1., 2., 1., 0.5, 1., 1., 3., 1., 1., 2.]);
    let cases = [
        (Curve::Roc, false, 0.8),
        (Curve::Roc, true, 0.8271604938271606),
        (Curve::Pr, false, 0.8047619047619048),
        (Curve::Pr, true, 0.7128205128205127),
    ];
    for (curve, weighted, expected) in cases {
        let mut auc = DynamicAuc::new(curve);
        let weights = weighted.then_some(&weights);
        let part = |t: &Tensor, start: i64, length: i64| t.narrow(0, start, length);
        auc.update(&part(&predictions, 0, 3), &part(&labels, 0, 3), weights.map(|w| part(w, 0, 3)).as_ref()).unwrap();
        let value =
            auc.update(&part(&predictions, 3, 7), &part(&labels, 3, 7), weights.map(|w| part(w, 3, 7)).as_ref());
        assert!((value.unwrap() - expected).abs() < 1e-12, "{curve:?} {weighted}");
    }
    let mut auc = DynamicAuc::new(Curve::Roc);
    near(auc.update(&t(&[0.3, 0.6]), &t(&[1., 1.]), None).unwrap(), 0.0);
    assert!(auc.update(&t(&[0.3]), &t(&[2.]), None).is_err());
}

/// Curve points at 5 thresholds, weighted, against tf_slim 1.1's `streaming_curve_points` on TF 2.21 (which
/// computes in float32: 1e-6 apart at most).
#[test]
fn curve_points_match_tf_slim() {
    let predictions = t(&[0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.1, 0.65, 0.4, 0.2]);
    let labels = t(&[0., 0., 1., 1., 1., 1., 0., 0., 1., 0.]);
    let weights = t(&[1., 2., 1., 0.5, 1., 1., 3., 1., 1., 2.]);
    let third = 0.33333346247673035;
    let roc = [
        (0.9999998807907104, 1.0),
        (0.333333283662796, 1.0),
        (0.1111110970377922, third),
        (0.0, third),
        (0.0, 2.2222216955469776e-07),
    ];
    let pr = [
        (1.0, 0.3333333730697632),
        (1.0, 0.6000000238418579),
        (third, 0.6000001430511475),
        (third, 1.0),
        (2.2222216955469776e-07, 1.0),
    ];
    for (curve, expected) in [(Curve::Roc, roc), (Curve::Pr, pr)] {
        let points = CurvePoints::new(curve, 5).unwrap().update(&predictions, &labels, Some(&weights)).unwrap();
        assert_eq!(points.len(), 5);
        for ((x, y), (ex, ey)) in points.iter().zip(expected) {
            assert!((x - ex).abs() < 1e-6 && (y - ey).abs() < 1e-6, "{curve:?}: {points:?}");
        }
    }
}

/// `streaming_concat`: batches joined along the axis, up to `max_size`; shapes that do not line up refused.
#[test]
fn concat_joins_batches_up_to_max_size() {
    let mut concat = Concat::new(0, Some(5)).unwrap();
    assert!(concat.value().unwrap().is_none());
    assert_eq!(concat.update(&t(&[1., 2., 3., 4., 5., 6.]).view([3, 2])).unwrap(), 3);
    assert_eq!(concat.update(&t(&[7., 8., 9., 10., 11., 12.]).view([3, 2])).unwrap(), 5);
    assert_eq!(concat.update(&t(&[0., 0.]).view([1, 2])).unwrap(), 5, "full: later values dropped");
    let joined = concat.value().unwrap().unwrap();
    assert!(joined.equal(&t(&[1., 2., 3., 4., 5., 6., 7., 8., 9., 10.]).view([5, 2])));
    assert!(concat.update(&t(&[1., 2., 3.]).view([1, 3])).is_err());
    concat.reset();
    assert!(concat.value().unwrap().is_none());
    assert!(Concat::new(0, Some(-1)).is_err());
}

/// TF's `testAveragePrecisionAtK` examples: AP@k for k = 1…4 of each example, their mean streamed over the
/// batch, and weighted by (0.3, 0.6).
#[test]
fn sparse_average_precision_at_k_follows_tfs_examples() {
    let first = t(&[0.2, 0.1, 0.0, 0.4, 0.0, 0.5, 0.3]).view([1, 7]);
    let second = t(&[0.3, 0.5, 0.0, 0.4, 0.0, 0.1, 0.2]).view([1, 7]);
    let labels_first = Tensor::from_slice(&[0i64, 1, 2, 3, 4]).view([1, 5]);
    let labels_second = Tensor::from_slice(&[0i64, 2, 4, 5, 6]).view([1, 5]);
    let expected_first = [0.0, (1.0 / 2.0) / 2.0, (1.0 / 2.0) / 3.0, (1.0 / 2.0 + 2.0 / 4.0) / 4.0];
    let expected_second = [0.0, 0.0, (1.0 / 3.0) / 3.0, (1.0 / 3.0 + 2.0 / 4.0) / 4.0];
    for k in 1..=4 {
        let i = (k - 1) as usize;
        let mut metric = SparseAveragePrecisionAtK::new(k).unwrap();
        near(metric.update(&first, &labels_first, None).unwrap(), expected_first[i]);
        metric.reset();
        near(metric.update(&second, &labels_second, None).unwrap(), expected_second[i]);
        metric.reset();
        metric.update(&first, &labels_first, None).unwrap();
        near(metric.update(&second, &labels_second, None).unwrap(), (expected_first[i] + expected_second[i]) / 2.0);
        metric.reset();
        let both = Tensor::cat(&[&first, &second], 0);
        let labels = Tensor::cat(&[&labels_first, &labels_second], 0);
        let weighted = metric.update(&both, &labels, Some(&t(&[0.3, 0.6]))).unwrap();
        near(weighted, (0.3 * expected_first[i] + 0.6 * expected_second[i]) / 0.9);
    }
    assert!(SparseAveragePrecisionAtK::new(0).is_err());
    let padded = Tensor::from_slice(&[5i64, -1, -1, -1, -1]).view([1, 5]);
    near(SparseAveragePrecisionAtK::new(2).unwrap().update(&first, &padded, None).unwrap(), 1.0 / 1.0);
}

/// Keras' `F1Score` (per class, micro, macro, weighted; argmax or a threshold; sample weights) and
/// `FBetaScore(beta=2)`, against tf_keras 2.21 on the same six rows (Keras computes in float32: 1e-6 apart).
#[test]
fn f_scores_match_keras() {
    let labels = t(&[1., 0., 0., 0., 1., 0., 0., 0., 1., 1., 0., 0., 0., 1., 0., 0., 0., 1.]).view([6, 3]);
    let scores =
        t(&[0.7, 0.2, 0.1, 0.3, 0.3, 0.4, 0.1, 0.1, 0.8, 0.4, 0.5, 0.1, 0.0, 0.0, 0.0, 0.2, 0.2, 0.6]).view([6, 3]);
    let weights = t(&[1., 2., 0.5, 1., 3., 1.]);
    let close = |got: f64, expected: f64| assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    let per_class = [
        (None, [0.6666666865348816, 0.0, 0.800000011920929], [0.6666666865348816, 0.0, 0.5999999642372131]),
        (Some(0.35), [1.0, 0.0, 0.800000011920929], [1.0, 0.0, 0.5999999642372131]),
    ];
    for (threshold, plain, weighted) in per_class {
        let mut f1 = FScore::f1(3, FScoreAverage::Macro, threshold).unwrap();
        f1.update(&scores, &labels, None).unwrap();
        f1.per_class().iter().zip(plain).for_each(|(g, e)| close(*g, e));
        f1.reset();
        f1.update(&scores, &labels, Some(&weights)).unwrap();
        f1.per_class().iter().zip(weighted).for_each(|(g, e)| close(*g, e));
    }
    let averaged = [
        (FScoreAverage::Micro, None, 0.5454545617103577, 0.3571428656578064),
        (FScoreAverage::Micro, Some(0.35), 0.6666666865348816, 0.46666666865348816),
        (FScoreAverage::Macro, None, 0.4888888895511627, 0.42222222685813904),
        (FScoreAverage::Macro, Some(0.35), 0.5999999642372131, 0.5333333015441895),
        (FScoreAverage::Weighted, None, 0.4888889193534851, 0.26274508237838745),
        (FScoreAverage::Weighted, Some(0.35), 0.6000000238418579, 0.34117645025253296),
    ];
    for (average, threshold, plain, weighted) in averaged {
        close(FScore::f1(3, average, threshold).unwrap().update(&scores, &labels, None).unwrap(), plain);
        close(FScore::f1(3, average, threshold).unwrap().update(&scores, &labels, Some(&weights)).unwrap(), weighted);
    }
    let mut f2 = FScore::new(3, FScoreAverage::Macro, 2.0, None).unwrap();
    close(f2.update(&scores, &labels, None).unwrap(), 0.48821553587913513);
    assert!(FScore::f1(3, FScoreAverage::Micro, Some(1.5)).is_err());
    assert!(FScore::f1(4, FScoreAverage::Micro, None).unwrap().update(&scores, &labels, None).is_err());
}

/// False-positive and false-negative rates, at thresholds and of bool predictions, weighted, against tf_slim 1.1
/// on TF 2.21 for the same inputs.
#[test]
fn false_positive_and_negative_rates_match_tf_slim() {
    let predictions = t(&[0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.1, 0.65, 0.4, 0.2]);
    let labels = t(&[0., 0., 1., 1., 1., 1., 0., 0., 1., 0.]);
    let weights = t(&[1., 2., 1., 0.5, 1., 1., 3., 1., 1., 2.]);
    let thresholds = [0.0, 0.3, 0.5, 1.0];
    let mut fpr = FalsePositiveRateAtThresholds::new(&thresholds).unwrap();
    let mut fnr = FalseNegativeRateAtThresholds::new(&thresholds).unwrap();
    let third = 0.3333333432674408;
    assert_eq!(fpr.update(&predictions, &labels, Some(&weights)).unwrap(), [1.0, third, 0.1111111119389534, 0.0]);
    assert_eq!(fnr.update(&predictions, &labels, Some(&weights)).unwrap(), [0.0, 0.0, 0.6666666865348816, 1.0]);
    let predicted = predictions.gt(0.35).to_kind(Kind::Float);
    let mut rate = FalsePositiveRate::default();
    assert!((rate.update(&predicted, &labels, Some(&weights)).unwrap() - third).abs() < 1e-7);
    let mut miss = FalseNegativeRate::default();
    assert!((miss.update(&predicted, &labels, Some(&weights)).unwrap() - 0.2222222238779068).abs() < 1e-7);
    miss.reset();
    near(miss.value(), 0.0);
}

/// TF 2.21's tf_slim 1.1 `precision_recall_at_equal_thresholds` on 40 float32 predictions `((37·i) mod 101) / 100`,
/// labels `7i mod 3 == 0`, weights `1 + (i mod 4) / 2` (values printed by TF, every one or every 20th).
#[test]
fn precision_recall_at_equal_thresholds_equals_tf_slims() {
    let count = 40i64;
    let predictions: Vec<f32> = (0..count).map(|i| (((i * 37) % 101) as f64 / 100.0) as f32).collect();
    let labels: Vec<bool> = (0..count).map(|i| (i * 7) % 3 == 0).collect();
    let weights: Vec<f32> = (0..count).map(|i| 1.0 + (i % 4) as f32 * 0.5).collect();
    let (predictions, labels, weights) =
        (Tensor::from_slice(&predictions), Tensor::from_slice(&labels), Tensor::from_slice(&weights));
    let every = |data: PrecisionRecallData, step: usize| -> PrecisionRecallData {
        let pick = |values: Vec<f64>| values.into_iter().step_by(step).collect::<Vec<_>>();
        PrecisionRecallData {
            tp: pick(data.tp),
            fp: pick(data.fp),
            tn: pick(data.tn),
            fn_: pick(data.fn_),
            precision: pick(data.precision),
            recall: pick(data.recall),
            thresholds: pick(data.thresholds),
        }
    };
    let mut five = PrecisionRecallAtEqualThresholds::new(5).unwrap();
    five.update(&predictions, &labels, None).unwrap();
    let expected = PrecisionRecallData {
        tp: vec![14.0, 9.0, 6.0, 3.0, 1.0],
        fp: vec![26.0, 21.0, 14.0, 7.0, 0.0],
        tn: vec![0.0, 5.0, 12.0, 19.0, 26.0],
        fn_: vec![0.0, 5.0, 8.0, 11.0, 13.0],
        precision: vec![0.3499999940395355, 0.30000001192092896, 0.30000001192092896, 0.30000001192092896, 1.0],
        recall: vec![1.0, 0.6428571343421936, 0.4285714328289032, 0.2142857164144516, 0.0714285746216774],
        thresholds: vec![0.0, 0.25, 0.5, 0.75, 1.0],
    };
    assert_eq!(five.data(), expected);
    let weighted = |thresholds: Vec<f64>| PrecisionRecallData {
        tp: vec![24.5, 22.0, 18.5, 14.0, 12.5, 11.5, 9.0, 7.0, 5.5, 4.5, 2.0],
        fp: vec![45.5, 41.0, 37.5, 35.0, 30.0, 24.5, 18.5, 15.0, 10.5, 5.5, 0.0],
        tn: vec![0.0, 4.5, 8.0, 10.5, 15.5, 21.0, 27.0, 30.5, 35.0, 40.0, 45.5],
        fn_: vec![0.0, 2.5, 6.0, 10.5, 12.0, 13.0, 15.5, 17.5, 19.0, 20.0, 22.5],
        precision: vec![
            0.3499999940395355,
            0.3492063581943512,
            0.3303571343421936,
            0.2857142984867096,
            0.29411765933036804,
            0.3194444477558136,
            0.3272727131843567,
            0.3181818127632141,
            0.34375,
            0.44999998807907104,
            1.0,
        ],
        recall: vec![
            1.0,
            0.8979591727256775,
            0.7551020383834839,
            0.5714285969734192,
            0.5102040767669678,
            0.4693877696990967,
            0.36734694242477417,
            0.2857142984867096,
            0.22448979318141937,
            0.18367347121238708,
            0.08163265138864517,
        ],
        thresholds,
    };
    let mut eleven = PrecisionRecallAtEqualThresholds::new(11).unwrap();
    eleven.update(&predictions, &labels, Some(&weights)).unwrap();
    let tenths = vec![
        0.0,
        0.10000000149011612,
        0.20000000298023224,
        0.30000001192092896,
        0.4000000059604645,
        0.5,
        0.6000000238418579,
        0.699999988079071,
        0.800000011920929,
        0.9000000357627869,
        1.0,
    ];
    assert_eq!(eleven.data(), weighted(tenths));
    let mut fine = PrecisionRecallAtEqualThresholds::new(DEFAULT_EQUAL_THRESHOLDS).unwrap();
    fine.update(&predictions, &labels, Some(&weights)).unwrap();
    let twentieths = vec![
        0.0,
        0.09999999403953552,
        0.19999998807907104,
        0.29999998211860657,
        0.3999999761581421,
        0.5,
        0.5999999642372131,
        0.699999988079071,
        0.7999999523162842,
        0.8999999761581421,
        1.0,
    ];
    assert_eq!(every(fine.data(), 20), weighted(twentieths));
    // Streaming: a second batch adds; reset forgets.
    five.update(&predictions, &labels, None).unwrap();
    assert_eq!(five.data().tp, vec![28.0, 18.0, 12.0, 6.0, 2.0]);
    five.reset();
    assert_eq!(five.data().tp, vec![0.0; 5]);
    let message = |result: slim::Result<()>| result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message(five.update(&predictions, &labels.to_kind(Kind::Float), None)).contains("labels must be bool"));
    assert!(message(five.update(&(&predictions + 1.0), &labels, None)).contains("predictions must lie in [0, 1]"));
    assert!(message(five.update(&predictions.narrow(0, 0, 3), &labels, None)).contains("precision_recall_at_equal"));
    assert!(PrecisionRecallAtEqualThresholds::new(1).is_err());
}

/// TF-Slim's `AucWithConfidenceIntervalsTest` cases, its expected numbers to its tolerance (1e-6).
#[test]
fn auc_with_confidence_intervals_gives_tf_slims_numbers() {
    let close = |got: AucInterval, [auc, lower, upper]: [f64; 3]| {
        let fine = |g: f64, e: f64| (g - e).abs() <= 1e-6 + 1e-6 * e.abs();
        assert!(
            fine(got.auc, auc) && fine(got.lower, lower) && fine(got.upper, upper),
            "{got:?} vs [{auc}, {lower}, {upper}]"
        );
    };
    let case = |predictions: &[f32], labels: &[f32], weights: Option<&[f32]>| {
        let mut metric = AucWithConfidenceIntervals::new(0.95, true).unwrap();
        let weights = weights.map(t);
        metric.update(&t(predictions), &t(labels), weights.as_ref()).unwrap()
    };
    let ordered = [0., 0.2, 0.3, 0.3, 0.4, 0.5, 0.6, 0.6, 0.8, 1.0];
    let labels = [0., 0., 1., 0., 0., 1., 0., 1., 1., 0.];
    close(case(&ordered, &labels, None), [0.666_666_67, 0.278_267_95, 0.912_085_12]);
    let unordered = [1.0, 0.6, 0., 0.3, 0.4, 0.2, 0.5, 0.3, 0.6, 0.8];
    close(
        case(&unordered, &[0., 1., 0., 1., 0., 0., 1., 0., 0., 1.], None),
        [0.666_666_67, 0.278_267_95, 0.912_085_12],
    );
    let weights = [0.5, 0.6, 1.2, 1.5, 2.0, 2.0, 1.5, 1.2, 0.6, 0.5];
    close(case(&ordered, &labels, Some(&weights)), [0.651_515_15, 0.289_186_04, 0.895_739_06]);
    close(case(&ordered, &[0., 0., 0., 0., 0., 1., 1., 1., 1., 1.], None), [1.0, 1.0, 1.0]);
    close(case(&ordered, &[1., 1., 1., 1., 1., 0., 0., 0., 0., 0.], None), [0.0, 0.0, 0.0]);
    close(case(&[2.5, -2.5, 0.5, -0.5, 1.0], &[1., 0., 1., 0., 0.], None), [0.833_333_33, 0.152_292_67, 0.992_865_17]);
    close(case(&[1.; 5], &[1.; 5], None), [0.0; 3]);
    close(case(&[0.; 5], &[0.; 5], None), [0.0; 3]);
    let light = [0.1; 6];
    close(case(&[1., 1., 0., 1., 0., 0.], &[1., 1., 1., 0., 0., 0.], Some(&light)), [0.0; 3]);
    let error = AucWithConfidenceIntervals::new(0.95, true).unwrap().update(&t(&[1., 0.5]), &t(&[2., 1.]), None);
    assert!(error.unwrap_err().to_string().contains("labels must be 0 or 1, got 2"));
    assert!(AucWithConfidenceIntervals::new(1.0, true).unwrap_err().to_string().contains("alpha must be in (0, 1)"));
}

/// Over many batches the AUC is the plain area under the ROC curve of everything seen (TF-Slim's
/// `testWithMultipleUpdates` checks it against numpy's; here against slim's exact `DynamicAuc`).
#[test]
fn auc_with_confidence_intervals_streams_the_plain_auc() {
    tch::manual_seed(1);
    let mut metric = AucWithConfidenceIntervals::new(0.9, false).unwrap();
    let mut exact = DynamicAuc::new(Curve::Roc);
    for _ in 0..20 {
        let labels = Tensor::randint(2, [50], (Kind::Float, Device::Cpu));
        let predictions = (&labels * 0.2 + 0.4 + Tensor::randn([50], (Kind::Float, Device::Cpu)) * 0.2).clamp(0.0, 1.0);
        let interval = metric.update(&predictions, &labels, None).unwrap();
        let auc = exact.update(&predictions, &labels, None).unwrap();
        assert!((interval.auc - auc).abs() < 1e-4, "{} vs {auc}", interval.auc);
        assert!(interval.lower < interval.auc && interval.auc < interval.upper);
    }
    metric.reset();
    assert_eq!(metric.value(), AucInterval { auc: 0.0, lower: 0.0, upper: 0.0 });
}
