//! Reading TensorFlow (TF-Slim) V2 checkpoints without TensorFlow: the fixture in tests/fixtures/tf was written
//! by TensorFlow 2.21's `tf.compat.v1.train.Saver` (scripts/make-tf-fixtures.py), with the output TensorFlow
//! computed beside it. Loaded into the same net written with slim (NCHW, OIHW), it gives that output.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use slim::checkpoint::{AssignOptions, assign_from_checkpoint, list_variables, load_variable};
use slim::prelude::*;

mod common;
use common::Tiny;

const PREFIX: &str = "tests/fixtures/tf/tiny.ckpt";

fn expected() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string("tests/fixtures/tf/expected.json").unwrap()).unwrap()
}

fn floats(value: &serde_json::Value) -> Vec<f32> {
    value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect()
}

#[test]
fn the_index_lists_names_shapes_and_dtypes() {
    let entries = list_variables(PREFIX).unwrap();
    let listed: Vec<(&str, Vec<i64>, &str)> =
        entries.iter().map(|e| (e.name.as_str(), e.shape.clone(), e.dtype.as_str())).collect();
    assert_eq!(
        listed,
        [
            ("global_step", vec![], "I64"),
            ("tiny/conv1/biases", vec![3], "F32"),
            ("tiny/conv1/weights", vec![3, 3, 2, 3], "F32"),
            ("tiny/counts", vec![3], "I64"),
            ("tiny/logits/biases", vec![4], "F32"),
            ("tiny/logits/weights", vec![3, 4], "F32"),
            ("tiny/scale", vec![2], "F64"),
        ]
    );
    assert_eq!(load_variable(PREFIX, "global_step").unwrap().int64_value(&[]), 42);
    let counts: Vec<i64> = load_variable(format!("{PREFIX}.index"), "tiny/counts").unwrap().try_into().unwrap();
    assert_eq!(counts, [3, -4, 5]);
    let scale: Vec<f64> = load_variable(PREFIX, "tiny/scale").unwrap().try_into().unwrap();
    assert_eq!(scale, [0.25, 1e-300]);
}

#[test]
fn a_tf_slim_checkpoint_loads_into_the_slim_net_and_gives_tfs_output() {
    let vs = VarStore::new(Device::Cpu);
    let net = Tiny.build(&vs, "tiny", &[1, 2, 5, 5]).unwrap();
    let report = {
        let _store = vs.as_default();
        assign_from_checkpoint(PREFIX, get_model_variables(None, None).unwrap(), AssignOptions::default()).unwrap()
    };
    assert_eq!(report.applied.len(), 4);
    assert_eq!(vs.variable("tiny/conv1/weights").unwrap().shape(), [3, 2, 3, 3]);
    let expected = expected();
    let nhwc = Tensor::from_slice(&floats(&expected["input_nhwc"])).view([1, 5, 5, 2]);
    let output = net.forward_t(&nhwc.permute([0, 3, 1, 2]), Mode::Eval).unwrap().output;
    let want = Tensor::from_slice(&floats(&expected["logits"])).view([1, 4]);
    assert!(output.allclose(&want, 1e-5, 1e-5, false), "{output:?} vs {want:?}");
}

/// A copy of the fixture in a temp dir, with one byte changed in `file` (index or data) at `offset`.
fn damaged(name: &str, file: &str, offset: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-tf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for suffix in ["index", "data-00000-of-00001"] {
        let mut bytes = std::fs::read(format!("{PREFIX}.{suffix}")).unwrap();
        if suffix == file {
            let at = offset.min(bytes.len() - 1);
            bytes[at] ^= 0x40;
        }
        std::fs::write(dir.join(format!("tiny.ckpt.{suffix}")), bytes).unwrap();
    }
    dir.join("tiny.ckpt")
}

fn restore_error(prefix: &Path) -> String {
    let vs = VarStore::new(Device::Cpu);
    Tiny.build(&vs, "tiny", &[1, 2, 5, 5]).unwrap();
    let _store = vs.as_default();
    let before = vs.variable("tiny/conv1/weights").unwrap().tensor().copy();
    let err = assign_from_checkpoint(prefix, get_model_variables(None, None).unwrap(), AssignOptions::default())
        .unwrap_err()
        .to_string();
    assert!(vs.variable("tiny/conv1/weights").unwrap().tensor().equal(&before), "nothing half-restored");
    err
}

#[test]
fn damaged_files_are_errors_naming_the_file_and_tensor() {
    let flipped_data = damaged("data", "data-00000-of-00001", 20);
    let err = restore_error(&flipped_data);
    assert!(err.contains("data-00000-of-00001") && err.contains("fails its CRC-32C check"), "{err}");
    let flipped_index = damaged("index", "index", 40);
    let err = restore_error(&flipped_index);
    assert!(err.contains("tiny.ckpt.index") && err.contains("CRC-32C"), "{err}");
    let bad_magic = damaged("magic", "index", usize::MAX);
    let err = restore_error(&bad_magic);
    assert!(err.contains("wrong magic number"), "{err}");
    for prefix in [flipped_data, flipped_index, bad_magic] {
        std::fs::remove_dir_all(prefix.parent().unwrap()).unwrap();
    }
}

/// The weights `assign_from_checkpoint` reads from the fixture, in slim's layouts, by name.
fn assigned_weights() -> Vec<(String, Tensor)> {
    let vs = VarStore::new(Device::Cpu);
    Tiny.build(&vs, "tiny", &[1, 2, 5, 5]).unwrap();
    let _store = vs.as_default();
    let variables = get_model_variables(None, None).unwrap();
    assign_from_checkpoint(PREFIX, variables.clone(), AssignOptions::default()).unwrap();
    variables.iter().map(|v| (v.name().to_string(), v.tensor().copy())).collect()
}

#[test]
fn restore_reads_a_tf_checkpoint_as_assign_does_and_creates_what_the_store_lacks() {
    let vs = VarStore::new(Device::Cpu);
    Tiny.build(&vs, "tiny", &[1, 2, 5, 5]).unwrap();
    let report = slim::checkpoint::restore(&vs, Path::new(PREFIX), true).unwrap();
    assert_eq!(
        report.applied,
        ["tiny/conv1/biases", "tiny/conv1/weights", "tiny/logits/biases", "tiny/logits/weights"]
    );
    assert_eq!(report.created, ["global_step", "tiny/counts", "tiny/scale"]);
    assert!(report.missing.is_empty() && report.unused.is_empty(), "{report:?}");
    for (name, expected) in assigned_weights() {
        assert!(vs.variable(&name).unwrap().tensor().equal(&expected), "{name} differs from assign's");
    }
    assert_eq!(vs.variable("global_step").unwrap().tensor().int64_value(&[]), 42);
}

#[test]
fn the_training_loop_resumes_from_a_tf_checkpoint_in_its_logdir() {
    let logdir = std::env::temp_dir().join(format!("slim-tf-logdir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&logdir);
    std::fs::create_dir_all(&logdir).unwrap();
    for suffix in ["index", "data-00000-of-00001"] {
        std::fs::copy(format!("{PREFIX}.{suffix}"), logdir.join(format!("model.ckpt-42.{suffix}"))).unwrap();
    }
    let state = "model_checkpoint_path: \"model.ckpt-42\"\nall_model_checkpoint_paths: \"model.ckpt-42\"\n";
    std::fs::write(logdir.join("checkpoint"), state).unwrap();
    let vs = VarStore::new(Device::Cpu);
    let net = Tiny.build(&vs, "tiny", &[1, 2, 5, 5]).unwrap();
    let mut train_op = create_train_op(&vs, GradientDescent, 0.1).build().unwrap();
    let _store = vs.as_default();
    let (mut seen, mut lines) = (None, Vec::new());
    slim::learning::train(&mut train_op, &logdir, |_step| {
        seen.get_or_insert_with(|| vs.variable("tiny/conv1/weights").unwrap().tensor().copy());
        let logits = net.forward_t(&Tensor::ones([2, 2, 5, 5], (Kind::Float, Device::Cpu)), Mode::Train)?.output;
        let _ = mean_squared_error(&logits, &Tensor::zeros([2, 4], (Kind::Float, Device::Cpu))).call()?;
        get_total_loss(false)
    })
    .number_of_steps(43)
    .log_to(|line| lines.push(line.to_string()))
    .run()
    .unwrap();
    assert!(lines.iter().any(|line| line.contains("model.ckpt-42") && line.contains("global step 42")), "{lines:?}");
    let expected = assigned_weights().into_iter().find(|(name, _)| name == "tiny/conv1/weights").unwrap().1;
    assert!(seen.unwrap().equal(&expected), "the first step ran on TF's weights, in slim's layout");
    assert_eq!(train_op.global_step(), 43, "one step after the restored 42");
    assert!(logdir.join("model.ckpt-43.safetensors").is_file());
    std::fs::remove_dir_all(&logdir).unwrap();
}
