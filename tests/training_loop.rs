//! learning::train: resume across runs, init_fn only on a fresh logdir, falling back past a damaged checkpoint,
//! a kill mid-save, pruning only its own files, refusing to train over a logdir where nothing restores,
//! max_to_keep, log lines, bad logdirs, and event files checked record by record with an independent CRC-32C.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use prost::Message;
use slim::checkpoint::{CheckpointState, latest_checkpoint};
use slim::learning::{TrainOp, train};
use slim::prelude::*;
use slim::summary::Event;

#[slim::model]
struct Regression;

#[slim::model]
impl Regression {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        fully_connected(inputs, 1, activation_fn = None, scope = "fc")
    }
}

fn logdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A fresh program's state: a store, the model built in it, a train op.
fn setup() -> (VarStore, Built<Regression>, TrainOp) {
    let vs = VarStore::new(Device::Cpu);
    let model = Regression.build(&vs, "regression", &[1, 3]).unwrap();
    let train_op = create_train_op(&vs, Momentum::new(0.9).unwrap(), 0.05).build().unwrap();
    (vs, model, train_op)
}

fn batch(step: i64) -> (Tensor, Tensor) {
    let x = (Tensor::arange(12, (Kind::Float, Device::Cpu)) + step as f64).sin().view([4, 3]);
    let y = x.sum_dim_intlist(1, true, Kind::Float) * 0.5;
    (x, y)
}

fn run(vs: &VarStore, model: &Built<Regression>, train_op: &mut TrainOp, dir: &Path, steps: i64) -> Vec<String> {
    let (outcome, lines) = try_run(vs, model, train_op, dir, steps, false);
    outcome.unwrap();
    lines
}

/// [`run`]'s loop, its outcome and log lines; `fresh` asks for a fresh start past unrestorable checkpoints.
fn try_run(
    vs: &VarStore,
    model: &Built<Regression>,
    train_op: &mut TrainOp,
    dir: &Path,
    steps: i64,
    fresh: bool,
) -> (Result<f64>, Vec<String>) {
    let _store = vs.as_default();
    let lines = RefCell::new(Vec::new());
    let outcome = train(train_op, dir, |step| {
        let (x, y) = batch(step);
        let predictions = model.forward_t(&x, Mode::Train)?.output;
        let _ = mean_squared_error(&predictions, &y).call()?;
        get_total_loss(true)
    })
    .number_of_steps(steps)
    .save_interval_steps(3)
    .save_summaries_steps(2)
    .log_every_n_steps(2)
    .fresh_start_if_unrestorable(fresh)
    .log_to(|line| lines.borrow_mut().push(line.to_string()))
    .run();
    (outcome, lines.into_inner())
}

#[test]
fn a_run_resumes_where_the_last_stopped_and_keeps_checkpoints_on_schedule() {
    let dir = logdir("resume");
    let (vs, model, mut train_op) = setup();
    let lines = run(&vs, &model, &mut train_op, &dir, 5);
    assert_eq!(train_op.global_step(), 5);
    assert!(lines.iter().any(|l| l.starts_with("global step 2: loss = ") && l.ends_with(" sec/step)")), "{lines:?}");
    let state = CheckpointState::read(&dir).unwrap();
    assert_eq!(state.all, ["model.ckpt-3.safetensors", "model.ckpt-5.safetensors"]);
    assert_eq!(latest_checkpoint(&dir).unwrap().unwrap(), dir.join("model.ckpt-5.safetensors"));
    // A new program: fresh variables, then the loop restores step 5 and runs to 8.
    let (vs, model, mut train_op) = setup();
    let lines = run(&vs, &model, &mut train_op, &dir, 8);
    assert!(lines[0].starts_with("restored") && lines[0].contains("global step 5"), "{lines:?}");
    assert_eq!(train_op.global_step(), 8);
    assert!(vs.variable("regression/fc/weights/Momentum").is_some(), "slots come back from the checkpoint");
    assert_eq!(CheckpointState::read(&dir).unwrap().latest.as_deref(), Some("model.ckpt-8.safetensors"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs to `steps` in `dir` with an init_fn; returns how often it ran and whether the log said it was skipped.
fn run_with_init_fn(dir: &Path, steps: i64) -> (usize, bool) {
    let (vs, model, mut train_op) = setup();
    let _store = vs.as_default();
    let mut calls = 0;
    let mut lines = Vec::new();
    train(&mut train_op, dir, |step| {
        let (x, y) = batch(step);
        let _ = mean_squared_error(&model.forward_t(&x, Mode::Train)?.output, &y).call()?;
        get_total_loss(false)
    })
    .number_of_steps(steps)
    .init_fn(|_| {
        calls += 1;
        Ok(())
    })
    .log_to(|line| lines.push(line.to_string()))
    .run()
    .unwrap();
    (calls, lines.iter().any(|l| l.starts_with("init_fn skipped")))
}

#[test]
fn init_fn_runs_only_on_a_fresh_logdir() {
    let dir = logdir("init");
    assert_eq!(run_with_init_fn(&dir, 2), (1, false));
    assert_eq!(run_with_init_fn(&dir, 4), (0, true));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_latest_checkpoint_falls_back_to_the_previous_one() {
    let dir = logdir("damaged");
    let (vs, model, mut train_op) = setup();
    run(&vs, &model, &mut train_op, &dir, 6);
    let newest = dir.join("model.ckpt-6.safetensors");
    let bytes = std::fs::read(&newest).unwrap();
    std::fs::write(&newest, &bytes[..bytes.len() / 2]).unwrap();
    let (vs, model, mut train_op) = setup();
    let lines = run(&vs, &model, &mut train_op, &dir, 7);
    assert!(lines[0].contains("model.ckpt-6") && lines[0].contains("trying the previous checkpoint"), "{lines:?}");
    assert!(lines[1].starts_with("restored") && lines[1].contains("global step 3"), "{lines:?}");
    assert_eq!(train_op.global_step(), 7);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Trains to `steps`, saving every step and keeping `keep` checkpoints, quietly, starting afresh past
/// checkpoints that do not restore.
fn train_saving_every_step(
    vs: &VarStore,
    model: &Built<Regression>,
    train_op: &mut TrainOp,
    dir: &Path,
    steps: i64,
    keep: usize,
) -> Result<f64> {
    let _store = vs.as_default();
    train(train_op, dir, |step| {
        let (x, y) = batch(step);
        let _ = mean_squared_error(&model.forward_t(&x, Mode::Train)?.output, &y).call()?;
        get_total_loss(false)
    })
    .number_of_steps(steps)
    .save_interval_steps(1)
    .max_to_keep(keep)
    .fresh_start_if_unrestorable(true)
    .log_to(|_| {})
    .run()
}

/// What a kill between writing a checkpoint and rewriting the state file leaves: the newest checkpoint unlisted,
/// and the temporaries of unfinished writes.
#[test]
fn a_kill_mid_save_leaves_nothing_unlisted_or_behind() {
    let dir = logdir("killed");
    let (vs, model, mut train_op) = setup();
    run(&vs, &model, &mut train_op, &dir, 6);
    std::fs::write(dir.join("checkpoint"), "all_model_checkpoint_paths: \"model.ckpt-3.safetensors\"\n").unwrap();
    for leftover in [".model.ckpt-9.safetensors.tmp-1", ".checkpoint.tmp-1", ".notes.txt.tmp-1"] {
        std::fs::write(dir.join(leftover), "half").unwrap();
    }
    let (vs, model, mut train_op) = setup();
    let lines = run(&vs, &model, &mut train_op, &dir, 7);
    assert!(lines[0].starts_with("restored") && lines[0].contains("global step 6"), "{lines:?}");
    let state = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
    assert!(state.starts_with("model_checkpoint_path: \"model.ckpt-7.safetensors\""), "{state}");
    assert!(state.contains("\"model.ckpt-6.safetensors\""), "{state}");
    assert!(!dir.join(".model.ckpt-9.safetensors.tmp-1").exists() && !dir.join(".checkpoint.tmp-1").exists());
    assert!(dir.join(".notes.txt.tmp-1").exists(), "only the saver's own temporaries are swept");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Pruning removes only slim's checkpoints inside the logdir, whatever the state file lists.
#[test]
fn pruning_never_touches_files_the_state_file_names_elsewhere() {
    let dir = logdir("outside");
    std::fs::create_dir_all(&dir).unwrap();
    let outside = std::env::temp_dir().join(format!("slim-outside-{}.safetensors", std::process::id()));
    std::fs::write(&outside, "precious").unwrap();
    let listed = [outside.display().to_string(), "../model.ckpt-1.safetensors".to_string()];
    let state: String = listed.iter().map(|name| format!("all_model_checkpoint_paths: \"{name}\"\n")).collect();
    std::fs::write(dir.join("checkpoint"), state).unwrap();
    let (vs, model, mut train_op) = setup();
    train_saving_every_step(&vs, &model, &mut train_op, &dir, 3, 1).unwrap();
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    assert!(!dir.join("model.ckpt-2.safetensors").exists() && dir.join("model.ckpt-3.safetensors").exists());
    std::fs::remove_file(&outside).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// When no checkpoint restores, the loop refuses to train over them, unless asked to start afresh: then they
/// are set aside, not deleted.
#[test]
fn a_logdir_where_nothing_restores_is_not_trained_over_unless_asked() {
    let dir = logdir("unrestorable");
    let (vs, model, mut train_op) = setup();
    run(&vs, &model, &mut train_op, &dir, 6);
    for step in [3, 6] {
        std::fs::write(dir.join(format!("model.ckpt-{step}.safetensors")), "damaged").unwrap();
    }
    let (vs, model, mut train_op) = setup();
    let (outcome, lines) = try_run(&vs, &model, &mut train_op, &dir, 7, false);
    let message = outcome.unwrap_err().to_string();
    assert!(message.contains("model.ckpt-6") && message.contains("model.ckpt-3"), "{message}");
    assert!(message.contains("fresh_start_if_unrestorable"), "{message}");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(dir.join("model.ckpt-6.safetensors").exists() && dir.join("model.ckpt-3.safetensors").exists());
    let (outcome, lines) = try_run(&vs, &model, &mut train_op, &dir, 2, true);
    outcome.unwrap();
    assert!(lines.iter().any(|line| line.contains("starting afresh")), "{lines:?}");
    assert_eq!(train_op.global_step(), 2);
    for step in [3, 6] {
        assert_eq!(std::fs::read(dir.join(format!("model.ckpt-{step}.safetensors.unrestorable"))).unwrap(), b"damaged");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn max_to_keep_and_bad_arguments() {
    let dir = logdir("keep");
    let (vs, model, mut train_op) = setup();
    train_saving_every_step(&vs, &model, &mut train_op, &dir, 6, 2).unwrap();
    let mut kept: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("model.ckpt-"))
        .collect();
    kept.sort();
    assert_eq!(kept, ["model.ckpt-5.safetensors", "model.ckpt-6.safetensors"]);
    let file = dir.join("model.ckpt-6.safetensors");
    let err = train(&mut train_op, &file, |_| get_total_loss(false)).number_of_steps(1).run().unwrap_err();
    assert!(err.to_string().contains("the logdir is a file"), "{err}");
    let err = train(&mut train_op, &dir, |_| get_total_loss(false)).number_of_steps(0).run().unwrap_err();
    assert!(err.to_string().contains("number_of_steps must be positive"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// CRC-32C written out here, bit by bit, independent of the writer's crate.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x82f6_3b78 } else { crc >> 1 };
        }
    }
    !crc
}

fn masked(data: &[u8]) -> u32 {
    crc32c(data).rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Every record of an event file, each checksum verified.
fn read_events(path: &Path) -> Vec<Event> {
    let bytes = std::fs::read(path).unwrap();
    let (mut events, mut at) = (Vec::new(), 0);
    while at < bytes.len() {
        let length_bytes = &bytes[at..at + 8];
        let length = u64::from_le_bytes(length_bytes.try_into().unwrap()) as usize;
        assert_eq!(u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()), masked(length_bytes));
        let data = &bytes[at + 12..at + 12 + length];
        assert_eq!(u32::from_le_bytes(bytes[at + 12 + length..at + 16 + length].try_into().unwrap()), masked(data));
        events.push(Event::decode(data).unwrap());
        at += 16 + length;
    }
    events
}

#[test]
fn summaries_are_tensorboard_event_records() {
    let dir = logdir("summaries");
    let (vs, model, mut train_op) = setup();
    run(&vs, &model, &mut train_op, &dir, 5);
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("events.out.tfevents."))
        .unwrap();
    let events = read_events(&file);
    assert_eq!(events[0].file_version.as_deref(), Some("brain.Event:2"));
    let steps: Vec<i64> = events[1..].iter().map(|e| e.step).collect();
    assert_eq!(steps, [2, 4, 5], "every 2 steps, and at the last");
    let tags: Vec<&str> = events[1].summary.as_ref().unwrap().value.iter().map(|v| v.tag.as_str()).collect();
    assert_eq!(tags, ["total_loss", "learning_rate", "global_step/sec", "losses/mean_squared_error/value"]);
    let learning_rate = events[1].summary.as_ref().unwrap().value[1].simple_value.unwrap();
    assert!((learning_rate - 0.05).abs() < 1e-7);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn validation_and_histograms_reach_the_summaries() {
    let dir = logdir("validation");
    let vs = VarStore::new(Device::Cpu);
    let model = Regression.build(&vs, "regression", &[1, 3]).unwrap();
    let mut train_op = create_train_op(&vs, GradientDescent, 0.05).summarize_gradients(true).build().unwrap();
    let _store = vs.as_default();
    let mut validated = Vec::new();
    train(&mut train_op, &dir, |step| {
        let (x, y) = batch(step);
        let _ = mean_squared_error(&model.forward_t(&x, Mode::Train)?.output, &y).call()?;
        get_total_loss(false)
    })
    .number_of_steps(4)
    .save_summaries_steps(4)
    .summarize_variables(true)
    .validation(2, |step| {
        validated.push(step);
        Ok(0.25)
    })
    .log_to(|_| {})
    .run()
    .unwrap();
    assert_eq!(validated, [2, 4]);
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("events.out.tfevents."))
        .unwrap();
    let values: Vec<(i64, String)> = read_events(&file)
        .iter()
        .flat_map(|e| e.summary.iter().flat_map(move |s| s.value.iter().map(move |v| (e.step, v.tag.clone()))))
        .collect();
    let tags: Vec<&str> = values.iter().map(|(_, tag)| tag.as_str()).collect();
    assert!(tags.contains(&"validation/loss"));
    assert!(tags.contains(&"regression/fc/weights/gradient") && tags.contains(&"regression/fc/weights/gradient_norm"));
    assert!(tags.contains(&"regression/fc/biases"), "{tags:?}");
    let histogram = read_events(&file)
        .into_iter()
        .flat_map(|e| e.summary.into_iter().flat_map(|s| s.value))
        .find(|v| v.tag == "regression/fc/weights")
        .and_then(|v| v.histo)
        .unwrap();
    assert_eq!(histogram.num, 3.0);
    assert_eq!(histogram.bucket.iter().sum::<f64>(), 3.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn init_fn_warm_starts_from_another_logdir() {
    let pretrained = logdir("pretrained");
    let (vs, model, mut train_op) = setup();
    run(&vs, &model, &mut train_op, &pretrained, 3);
    let trained = vs.variable("regression/fc/weights").unwrap().tensor().copy();
    let fresh = logdir("warm");
    let (vs, model, mut train_op) = setup();
    let _store = vs.as_default();
    let checkpoint = latest_checkpoint(&pretrained).unwrap().unwrap();
    let mut restored = None;
    train(&mut train_op, &fresh, |step| {
        let (x, y) = batch(step);
        let _ = mean_squared_error(&model.forward_t(&x, Mode::Train)?.output, &y).call()?;
        get_total_loss(false)
    })
    .number_of_steps(1)
    .init_fn(|store| {
        let report = slim::checkpoint::restore(store, &checkpoint, false)?;
        restored = Some(report);
        assert!(store.variable("regression/fc/weights").unwrap().tensor().equal(&trained));
        Ok(())
    })
    .log_to(|_| {})
    .run()
    .unwrap();
    let report = restored.unwrap();
    assert!(report.applied.contains(&"regression/fc/weights".to_string()));
    assert!(report.unused.contains(&"regression/fc/weights/Momentum".to_string()), "slots are not created");
    std::fs::remove_dir_all(&pretrained).unwrap();
    std::fs::remove_dir_all(&fresh).unwrap();
}

#[test]
fn a_stop_flag_ends_the_run_after_its_step_with_a_checkpoint() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = logdir("stop");
    let (vs, model, mut train_op) = setup();
    let _store = vs.as_default();
    let stop = Arc::new(AtomicBool::new(false));
    let lines = RefCell::new(Vec::new());
    train(&mut train_op, &dir, |step| {
        if step == 3 {
            stop.store(true, Ordering::SeqCst); // as a Ctrl-C handler would, during the fourth step
        }
        let (x, y) = batch(step);
        let _ = mean_squared_error(&model.forward_t(&x, Mode::Train)?.output, &y).call()?;
        get_total_loss(false)
    })
    .number_of_steps(100)
    .save_interval_secs(3600.0)
    .stop_when(stop.clone())
    .log_to(|line| lines.borrow_mut().push(line.to_string()))
    .run()
    .unwrap();
    assert_eq!(train_op.global_step(), 4, "the step that saw the flag finishes, no other starts");
    assert!(!stop.load(Ordering::SeqCst), "the loop clears the flag it acted on");
    assert!(dir.join("model.ckpt-4.safetensors").is_file());
    assert!(lines.borrow().iter().any(|line| line.starts_with("interrupted at global step 4")), "{:?}", lines.borrow());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs to `steps` in `dir` keeping `position` with the checkpoints: each step takes "a batch" by moving the
/// position on by 4 examples (3 once, as if a record had been skipped). Returns the log lines.
fn run_keeping_position(dir: &Path, steps: i64, position: &slim::data::DataPosition) -> Vec<String> {
    use slim::data::Position;
    let (vs, model, mut train_op) = setup();
    let _store = vs.as_default();
    let lines = RefCell::new(Vec::new());
    train(&mut train_op, dir, |step| {
        let at = position.get().unwrap_or_default();
        position.set(Position { epoch: 0, index: at.index + if step == 1 { 3 } else { 4 } });
        let (x, y) = batch(step);
        let _ = mean_squared_error(&model.forward_t(&x, Mode::Train)?.output, &y).call()?;
        get_total_loss(false)
    })
    .number_of_steps(steps)
    .save_interval_steps(2)
    .data_position(position.clone())
    .log_to(|line| lines.borrow_mut().push(line.to_string()))
    .run()
    .unwrap();
    lines.into_inner()
}

#[test]
fn each_checkpoint_keeps_the_data_position_and_a_resume_hands_it_back() {
    use slim::checkpoint::{Saver, checkpoint_metadata};
    use slim::data::{DataPosition, Position};
    let dir = logdir("position");
    let _ = run_keeping_position(&dir, 4, &DataPosition::new());
    let kept = |step: i64| checkpoint_metadata(dir.join(format!("model.ckpt-{step}.safetensors"))).unwrap();
    assert_eq!(kept(2)[Position::CHECKPOINT_KEY], r#"{"epoch":0,"index":7}"#);
    assert_eq!(kept(4)[Position::CHECKPOINT_KEY], r#"{"epoch":0,"index":15}"#);
    assert!(!kept(4).contains_key("slim.crc32c"), "slim's checksums are not the caller's metadata");

    // A new program: the position comes back before the first step, which moves it on.
    let resumed = DataPosition::new();
    let lines = run_keeping_position(&dir, 5, &resumed);
    assert!(lines[0].contains("global step 4; the data at epoch 0, example 15"), "{lines:?}");
    assert_eq!(resumed.get(), Some(Position { epoch: 0, index: 19 }));

    // A checkpoint whose position does not parse does not restore: the loop falls back to the one before.
    let (vs, _, _) = setup();
    let garbage = [(Position::CHECKPOINT_KEY.to_string(), "garbage".to_string())].into_iter().collect();
    Saver::new(&dir).unwrap().save_with_metadata(&vs, 9, &garbage).unwrap();
    let fallen_back = DataPosition::new();
    let lines = run_keeping_position(&dir, 6, &fallen_back);
    assert!(lines.iter().any(|l| l.contains("model.ckpt-9") && l.contains("slim.data_position")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("global step 5; the data at epoch 0, example 19")), "{lines:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs to `steps` in `dir` saving TF V2 checkpoints every 2 steps, keeping 2; returns the log lines.
fn run_saving_tf_checkpoints(
    vs: &VarStore,
    model: &Built<Regression>,
    op: &mut TrainOp,
    dir: &Path,
    steps: i64,
) -> Vec<String> {
    let _store = vs.as_default();
    let lines = RefCell::new(Vec::new());
    train(op, dir, |step| {
        let (x, y) = batch(step);
        let _ = mean_squared_error(&model.forward_t(&x, Mode::Train)?.output, &y).call()?;
        get_total_loss(false)
    })
    .number_of_steps(steps)
    .save_interval_steps(2)
    .max_to_keep(2)
    .checkpoint_format(slim::checkpoint::Format::TfBundle)
    .log_to(|line| lines.borrow_mut().push(line.to_string()))
    .run()
    .unwrap();
    lines.into_inner()
}

/// A loop saving TF checkpoints writes TF's files and names (the state file lists the prefixes, as TF's
/// `latest_checkpoint` expects), prunes both files of a checkpoint past `max_to_keep`, sweeps what a kill left
/// of a TF checkpoint's write, and resumes from its own TF checkpoints as a new program would.
#[test]
fn a_loop_saving_tf_checkpoints_writes_prunes_and_resumes_them() {
    let dir = logdir("tf-format");
    let (vs, model, mut train_op) = setup();
    let _ = run_saving_tf_checkpoints(&vs, &model, &mut train_op, &dir, 5);
    let mut files: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.retain(|name| name.starts_with("model.ckpt"));
    files.sort();
    let expected = ["model.ckpt-4.data-00000-of-00001", "model.ckpt-4.index"];
    assert_eq!(files, [&expected[..], &["model.ckpt-5.data-00000-of-00001", "model.ckpt-5.index"]].concat());
    let state = CheckpointState::read(&dir).unwrap();
    assert_eq!(
        (state.latest.as_deref(), state.all),
        (Some("model.ckpt-5"), vec!["model.ckpt-4".into(), "model.ckpt-5".into()])
    );
    let entries = slim::checkpoint::list_variables(dir.join("model.ckpt-5")).unwrap();
    assert!(
        entries.iter().any(|e| e.name == "regression/fc/weights" && e.shape == [3, 1]),
        "TF's [in, out]: {entries:?}"
    );

    // What a kill mid-write leaves of another process's TF checkpoint is swept; a new program resumes.
    std::fs::write(dir.join(".model.ckpt-6.index.tmp-999999"), b"partial").unwrap();
    let (vs, model, mut train_op) = setup();
    let lines = run_saving_tf_checkpoints(&vs, &model, &mut train_op, &dir, 8);
    assert!(lines[0].starts_with("restored") && lines[0].contains("model.ckpt-5 (global step 5)"), "{lines:?}");
    assert_eq!(train_op.global_step(), 8);
    assert!(vs.variable("regression/fc/weights/Momentum").is_some(), "slots come back from the TF checkpoint");
    assert!(!dir.join(".model.ckpt-6.index.tmp-999999").exists());
    assert!(!dir.join("model.ckpt-5.index").exists() && !dir.join("model.ckpt-5.data-00000-of-00001").exists());
    assert_eq!(CheckpointState::read(&dir).unwrap().latest.as_deref(), Some("model.ckpt-8"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A provider of 2 epochs ends a loop asked for 100 steps where TF-Slim's ends at `OutOfRangeError`: after the
/// 6 batches it has (10 examples in batches of 4, the remainder kept), with a checkpoint at step 6.
#[test]
fn the_loop_ends_cleanly_when_the_input_runs_out() {
    let dir = logdir("out-of-range");
    let (vs, model, mut train_op) = setup();
    let images = Tensor::arange(30, (Kind::Float, Device::Cpu)).view([10, 3]).sin();
    let dataset = slim::data::Dataset {
        name: "ten".into(),
        images,
        labels: Tensor::zeros([10], (Kind::Int64, Device::Cpu)),
        num_classes: 1,
        labels_to_names: vec!["zero".into()],
    };
    let mut batches = slim::data::Provider::new(&dataset, 4).unwrap().num_epochs(2);
    let _store = vs.as_default();
    let lines = RefCell::new(Vec::new());
    let loss = train(&mut train_op, &dir, |_| {
        let x = batches.next_batch()?.images;
        let y = x.sum_dim_intlist(1, true, Kind::Float);
        let _ = mean_squared_error(&model.forward_t(&x, Mode::Train)?.output, &y).call()?;
        get_total_loss(false)
    })
    .number_of_steps(100)
    .log_to(|line| lines.borrow_mut().push(line.to_string()))
    .run()
    .unwrap();
    assert!(loss.is_finite());
    assert_eq!(train_op.global_step(), 6);
    let lines = lines.into_inner();
    assert!(
        lines.iter().any(|l| l.contains("the input ran out at global step 6") && l.contains("ten: 2 epochs")),
        "{lines:?}"
    );
    assert_eq!(CheckpointState::read(&dir).unwrap().latest.as_deref(), Some("model.ckpt-6.safetensors"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// TF-Slim's `trace_every_n_steps`: the steps starting at a global step divisible by n each leave a Chrome trace
/// named by the global step after them, holding the step's libtorch operations; n ≤ 0 is refused.
#[test]
fn traces_every_n_steps_are_chrome_traces_of_the_steps_operations() {
    let dir = logdir("trace");
    let (vs, model, mut train_op) = setup();
    let _store = vs.as_default();
    let mut lines = Vec::new();
    train(&mut train_op, &dir, |step| {
        let (x, y) = batch(step);
        let predictions = model.forward_t(&x, Mode::Train)?.output;
        let _ = mean_squared_error(&predictions, &y).call()?;
        get_total_loss(true)
    })
    .number_of_steps(5)
    .trace_every_n_steps(2)
    .log_to(|line| lines.push(line.to_string()))
    .run()
    .unwrap();
    let mut traces: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("tf_trace-"))
        .collect();
    traces.sort();
    assert_eq!(traces, ["tf_trace-1.json", "tf_trace-3.json", "tf_trace-5.json"], "{lines:?}");
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tf_trace-3.json")).unwrap()).unwrap();
    let names: Vec<&str> =
        trace["traceEvents"].as_array().unwrap().iter().filter_map(|event| event["name"].as_str()).collect();
    assert!(names.iter().any(|name| name.starts_with("aten::")), "libtorch operations in the trace: {names:?}");
    assert!(lines.iter().any(|line| line.starts_with("wrote a trace of global step 3")), "{lines:?}");

    let (vs, model, mut train_op) = setup();
    let _store = vs.as_default();
    let refused = train(&mut train_op, logdir("trace-bad"), |_| {
        model.forward_t(&batch(0).0, Mode::Train)?.output.f_sum(Kind::Float).map_err(Into::into)
    })
    .trace_every_n_steps(0)
    .run();
    assert!(refused.err().map(|e| e.to_string()).unwrap_or_default().contains("trace_every_n_steps"));
    std::fs::remove_dir_all(&dir).unwrap();
}
