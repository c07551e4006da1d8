//! Evaluation end to end: train a small classifier (validating with metrics as it goes), score its checkpoint
//! with evaluate_once, read the eval summaries back, and run the evaluation loop over a directory.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;

use prost::Message;
use slim::checkpoint::latest_checkpoint;
use slim::evaluation::{evaluation, wait_for_new_checkpoint};
use slim::io::read_records;
use slim::learning::train;
use slim::metrics::{Accuracy, MetricMap, RecallAtK, StreamingMetric, aggregate_metric_map};
use slim::prelude::*;
use slim::summary::Event;

#[slim::model]
struct Classifier;

#[slim::model]
impl Classifier {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = fully_connected(inputs, 16, scope = "fc1");
        fully_connected(net, 3, activation_fn = None, scope = "logits")
    }
}

/// Three classes, each a direction in 4-D, plus a little noise; fixed per batch index.
fn batch(index: i64) -> (Tensor, Tensor) {
    let labels = (Tensor::arange(24, (Kind::Int64, Device::Cpu)) + index).remainder(3);
    let centers = Tensor::from_slice(&[2.0f32, 0., 0., 1., 0., 2., 0., -1., 0., 0., 2., 1.]).view([3, 4]);
    let noise = (Tensor::arange(96, (Kind::Float, Device::Cpu)) * 0.37 + index as f64).sin().view([24, 4]) * 0.3;
    (centers.index_select(0, &labels) + noise, labels)
}

fn metrics() -> MetricMap {
    let metrics: Vec<(&str, Box<dyn StreamingMetric>)> =
        vec![("Accuracy", Box::new(Accuracy::default())), ("Recall_2", Box::new(RecallAtK::new(2).unwrap()))];
    aggregate_metric_map(metrics).unwrap()
}

fn eval_step(model: &Built<Classifier>) -> impl FnMut(usize, &mut MetricMap) -> Result<()> + '_ {
    move |i, metrics| {
        let (x, y) = batch(1000 + i as i64);
        let logits = model.forward_t(&x, Mode::Eval)?.output;
        metrics.update(&logits, &y, None).map(drop)
    }
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-eval-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn scalars(dir: &Path) -> Vec<(i64, String, f32)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with("events.out.tfevents.") {
            continue;
        }
        for record in read_records(&std::fs::read(&path).unwrap()).unwrap() {
            let event = Event::decode(record.as_slice()).unwrap();
            for value in event.summary.map(|s| s.value).unwrap_or_default() {
                found.push((event.step, value.tag, value.simple_value.unwrap_or(f32::NAN)));
            }
        }
    }
    found
}

#[test]
fn train_then_evaluate_the_checkpoint_and_read_the_summaries() {
    let (train_dir, eval_dir) = (temp("train"), temp("eval"));
    let vs = VarStore::new(Device::Cpu);
    let model = Classifier.build(&vs, "classifier", &[1, 4]).unwrap();
    let mut train_op = create_train_op(&vs, Momentum::new(0.9).unwrap(), 0.05).build().unwrap();
    let mut validation = metrics();
    {
        let _store = vs.as_default();
        train(&mut train_op, &train_dir, |step| {
            let (x, y) = batch(step);
            let logits = model.forward_t(&x, Mode::Train)?.output;
            let _ = sparse_softmax_cross_entropy(&logits, &y).call()?;
            get_total_loss(false)
        })
        .number_of_steps(60)
        .validation_metrics(30, |_| {
            validation.reset();
            let (x, y) = batch(500);
            let logits = model.forward_t(&x, Mode::Eval)?.output;
            validation.update(&logits, &y, None)
        })
        .log_to(|_| {})
        .run()
        .unwrap();
    }
    let validated: Vec<(i64, String)> = scalars(&train_dir)
        .into_iter()
        .filter(|(_, tag, _)| tag.starts_with("validation/"))
        .map(|(s, t, _)| (s, t))
        .collect();
    assert_eq!(validated.len(), 4, "{validated:?}");
    assert!(validated.contains(&(60, "validation/Accuracy".to_string())));

    // A fresh program evaluates the checkpoint.
    let vs = VarStore::new(Device::Cpu);
    let model = Classifier.build(&vs, "classifier", &[1, 4]).unwrap();
    let mut metrics = metrics();
    let checkpoint = latest_checkpoint(&train_dir).unwrap().unwrap();
    let mut lines = Vec::new();
    let values = evaluation(&vs, &mut metrics, &eval_dir)
        .num_evals(4)
        .log_to(|line| lines.push(line.to_string()))
        .evaluate_once(&checkpoint, eval_step(&model))
        .unwrap();
    assert_eq!(values[0].0, "Accuracy");
    assert!(values[0].1 > 0.9, "accuracy {}", values[0].1);
    assert!(values[1].1 >= values[0].1, "recall@2 is at least the accuracy");
    let written = scalars(&eval_dir);
    assert!(written.contains(&(60, "Accuracy".to_string(), values[0].1 as f32)), "{written:?}");
    assert!(lines[0].starts_with("evaluated") && lines[0].contains("global step 60"), "{lines:?}");
    std::fs::remove_dir_all(&train_dir).unwrap();
    std::fs::remove_dir_all(&eval_dir).unwrap();
}

#[test]
fn the_evaluation_loop_scores_new_checkpoints_and_times_out_cleanly() {
    let (train_dir, eval_dir) = (temp("loop-train"), temp("loop-eval"));
    let vs = VarStore::new(Device::Cpu);
    let model = Classifier.build(&vs, "classifier", &[1, 4]).unwrap();
    let mut metrics = metrics();
    let mut lines = Vec::new();
    let nothing = evaluation(&vs, &mut metrics, &eval_dir)
        .log_to(|line| lines.push(line.to_string()))
        .evaluation_loop(&train_dir, Duration::ZERO, Some(Duration::from_millis(300)), None, eval_step(&model))
        .unwrap();
    assert!(nothing.is_none());
    assert!(lines.iter().any(|l| l.starts_with("no checkpoint to evaluate appeared")), "{lines:?}");
    assert!(
        wait_for_new_checkpoint(&train_dir, None, Duration::from_millis(10), Some(Duration::from_millis(50)))
            .unwrap()
            .is_none()
    );
    slim::checkpoint::Saver::new(&train_dir).unwrap().save(&vs, 7).unwrap();
    let values = evaluation(&vs, &mut metrics, &eval_dir)
        .log_to(|_| {})
        .evaluation_loop(&train_dir, Duration::ZERO, Some(Duration::from_millis(300)), Some(5), eval_step(&model))
        .unwrap()
        .unwrap();
    assert_eq!(values.len(), 2);
    assert!(scalars(&eval_dir).iter().any(|(step, tag, _)| *step == 7 && tag == "Accuracy"));
    std::fs::remove_dir_all(&train_dir).unwrap();
    std::fs::remove_dir_all(&eval_dir).unwrap();
}

/// Records what an evaluation tells its hooks, and stops it after `stop_after` batches when given.
struct Recorder {
    calls: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
    stop_after: Option<usize>,
}

impl slim::evaluation::EvaluationHook for Recorder {
    fn begin(&mut self, checkpoint: &Path, global_step: i64) -> Result<()> {
        let name = checkpoint.file_name().unwrap().to_string_lossy().into_owned();
        self.calls.borrow_mut().push(format!("begin {name} {global_step}"));
        Ok(())
    }

    fn after_batch(&mut self, index: usize, metrics: &MetricMap) -> Result<std::ops::ControlFlow<()>> {
        self.calls.borrow_mut().push(format!("batch {index} accuracy {:.4}", metrics.values()[0].1));
        Ok(match self.stop_after {
            Some(stop) if index + 1 >= stop => std::ops::ControlFlow::Break(()),
            _ => std::ops::ControlFlow::Continue(()),
        })
    }

    fn end(&mut self, values: &[(String, f64)]) -> Result<()> {
        self.calls.borrow_mut().push(format!("end {:.4}", values[0].1));
        Ok(())
    }
}

/// Hooks see the restored checkpoint's step, each batch and the final values, and can stop early; an input that
/// runs out (`Error::OutOfRange`) ends the batches with the values so far; `timeout_fn` keeps the loop waiting.
#[test]
fn hooks_the_end_of_the_input_and_timeout_fn_shape_an_evaluation() {
    let (train_dir, eval_dir) = (temp("hooks-train"), temp("hooks-eval"));
    let vs = VarStore::new(Device::Cpu);
    let model = Classifier.build(&vs, "classifier", &[1, 4]).unwrap();
    let checkpoint = slim::checkpoint::Saver::new(&train_dir).unwrap().save(&vs, 7).unwrap();
    let mut metrics = metrics();
    let three = evaluation(&vs, &mut metrics, &eval_dir)
        .num_evals(3)
        .log_to(|_| {})
        .evaluate_once(&checkpoint, eval_step(&model))
        .unwrap();

    let calls = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let recorder = |stop_after| Recorder { calls: calls.clone(), stop_after };
    let evaluate = |evaluation: slim::evaluation::Evaluation<'_>| {
        let mut model_step = eval_step(&model);
        let mut step = move |i: usize, metrics: &mut MetricMap| match i {
            3.. => Err(Error::OutOfRange("the eval input holds 3 batches".into())),
            _ => model_step(i, metrics),
        };
        evaluation.log_to(|_| {}).evaluate_once(&checkpoint, &mut step).unwrap()
    };
    let until_end = evaluate(evaluation(&vs, &mut metrics, &eval_dir).until_out_of_range().hook(recorder(None)));
    assert_eq!(until_end, three, "the batches before the end of the input");
    let log = calls.borrow().clone();
    assert_eq!(log.len(), 5, "{log:?}");
    assert_eq!(log[0], "begin model.ckpt-7.safetensors 7");
    assert!(log[1].starts_with("batch 0 accuracy") && log[3].starts_with("batch 2 accuracy"), "{log:?}");
    assert_eq!(log[4], format!("end {:.4}", three[0].1));
    assert_eq!(log[3], format!("batch 2 accuracy {:.4}", three[0].1), "the metrics so far, after each batch");

    calls.borrow_mut().clear();
    let stopped = evaluate(evaluation(&vs, &mut metrics, &eval_dir).num_evals(100).hook(recorder(Some(2))));
    let log = calls.borrow().clone();
    assert_eq!(log.len(), 4, "begin, two batches, end: {log:?}");
    assert_eq!(log[2], format!("batch 1 accuracy {:.4}", stopped[0].1));

    let waits = std::rc::Rc::new(std::cell::Cell::new(0));
    let counted = waits.clone();
    let empty = train_dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let nothing = evaluation(&vs, &mut metrics, &eval_dir)
        .log_to(|_| {})
        .timeout_fn(move || {
            counted.set(counted.get() + 1);
            counted.get() >= 3
        })
        .evaluation_loop(&empty, Duration::ZERO, Some(Duration::from_millis(50)), None, eval_step(&model))
        .unwrap();
    assert!(nothing.is_none());
    assert_eq!(waits.get(), 3, "waited through two timeouts, stopped at the third");
    std::fs::remove_dir_all(&train_dir).unwrap();
    let _ = std::fs::remove_dir_all(&eval_dir);
}
