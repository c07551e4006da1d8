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

/// flat.ckpt's net, as scripts/make-tf-fixtures.py builds it with tf_slim's layers: a 3×3 conv to 3 channels, a
/// 2×2 max pool, `flatten`, 4 logits — a dense layer after a feature map's flatten, as LeNet's and CifarNet's fc3.
struct Flat;

#[slim::model]
impl Flat {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = conv2d(inputs, 3, [3, 3], scope = "conv1");
        let net = max_pool2d(net, [2, 2], scope = "pool1");
        fully_connected(flatten(net), 4, activation_fn = None, scope = "logits")
    }
}

/// TF-Slim's `flatten` of an NHWC feature map gives rows in H, W, C order; slim's gives the same order from NCHW,
/// so the dense weights after it load as TF wrote them and the logits are TF's (C, H, W rows were 0.4 away).
#[test]
fn a_dense_layer_after_flatten_loads_from_tf_slim_and_gives_its_logits() {
    let vs = VarStore::new(Device::Cpu);
    let net = Flat.build(&vs, "flat", &[1, 2, 6, 6]).unwrap();
    let report = {
        let _store = vs.as_default();
        let prefix = "tests/fixtures/tf/flat.ckpt";
        assign_from_checkpoint(prefix, get_model_variables(None, None).unwrap(), AssignOptions::default()).unwrap()
    };
    assert_eq!(report.applied.len(), 4);
    assert_eq!(vs.variable("flat/logits/weights").unwrap().shape(), [4, 27]);
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/tf/flat.json").unwrap()).unwrap();
    let nhwc = Tensor::from_slice(&floats(&expected["input_nhwc"])).view([1, 6, 6, 2]);
    let want = Tensor::from_slice(&floats(&expected["logits"])).view([1, 4]);
    for input in [nhwc.permute([0, 3, 1, 2]), nhwc.permute([0, 3, 1, 2]).contiguous()] {
        let output = net.forward_t(&input, Mode::Eval).unwrap().output;
        assert!(output.allclose(&want, 1e-5, 1e-5, false), "{output:?} vs {want:?}");
    }
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

/// TF-Slim's inception_v1 of 10 classes built in slim, for 224×224 images.
fn inception_v1(vs: &VarStore) -> Built<slim::nets::InceptionV1> {
    use slim::nets::{InceptionV1, inception_v1_arg_scope};
    let net = slim::arg_scope!(inception_v1_arg_scope(0.0) => {
        InceptionV1::classifier(Some(10)).build(vs, "InceptionV1", &[1, 3, 224, 224])
    });
    net.unwrap()
}

/// An inception_v1 (convolutions, batch norms with moving statistics drawn at random, the logits' biases) with
/// a global step of 7, its checkpoint, an input and its logits: what the TF export is checked against.
fn inception_and_checkpoint(dir: &Path) -> (PathBuf, Tensor, Tensor) {
    tch::manual_seed(3);
    let vs = VarStore::new(Device::Cpu);
    let net = inception_v1(&vs);
    {
        let _store = vs.as_default();
        let step = slim::variables::get_or_create_global_step().unwrap();
        let _ = tch::no_grad(|| step.tensor().shallow_clone().fill_(7));
    }
    randomize_statistics_and_biases(&vs);
    let input = (Tensor::arange(3 * 224 * 224, (Kind::Float, Device::Cpu)) * 0.01).sin().view([1, 3, 224, 224]);
    let logits = net.forward_t(&input, Mode::Eval).unwrap().output;
    let checkpoint = slim::checkpoint::Saver::new(dir).unwrap().save(&vs, 7).unwrap();
    (checkpoint, input, logits)
}

/// slim's checkpoint exported as a TF V2 checkpoint (weights in TF's layouts) reads back through slim's TF
/// reader to the same values and logits; an existing output is refused. With `SLIM_TF_PYTHON` naming the
/// Python of `../shared/bench/setup-peers.sh tf`, TF-Slim itself restores it into its own inception_v1 and must
/// give slim's logits (`benches/peers/tf_slim_reads_slim_checkpoint.py`).
#[test]
fn a_slim_checkpoint_exported_for_tensorflow_reads_back_with_the_same_values() {
    use slim::checkpoint::{CheckpointReader, Format, export_checkpoint};
    let dir = std::env::temp_dir().join(format!("slim-tf-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (checkpoint, input, logits) = inception_and_checkpoint(&dir);
    let prefix = dir.join("exported").join("model.ckpt-7");
    std::fs::create_dir_all(prefix.parent().unwrap()).unwrap();
    let count = export_checkpoint(&checkpoint, &prefix, Format::TfBundle, |name| Some(name.to_string())).unwrap();
    let listed = list_variables(&prefix).unwrap();
    assert_eq!(listed.len(), count);
    let shape_of = |name: &str| listed.iter().find(|e| e.name == name).map(|e| e.shape.clone()).unwrap();
    assert_eq!(shape_of("InceptionV1/Conv2d_1a_7x7/weights"), [7, 7, 3, 64], "HWIO");
    assert_eq!(shape_of("InceptionV1/Logits/Conv2d_0c_1x1/weights"), [1, 1, 1024, 10]);
    assert_eq!(shape_of("global_step"), Vec::<i64>::new());
    assert_eq!(load_variable(&prefix, "global_step").unwrap().int64_value(&[]), 7);

    // Back into a fresh slim net from the TF files: the same logits, bit for bit.
    let vs = VarStore::new(Device::Cpu);
    let net = inception_v1(&vs);
    let report = slim::checkpoint::restore(&vs, &prefix, false).unwrap();
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    assert_eq!(report.unused, ["global_step"], "the fresh store has no global step");
    assert!(net.forward_t(&input, Mode::Eval).unwrap().output.equal(&logits));
    let (original, exported) = (CheckpointReader::open(&checkpoint).unwrap(), CheckpointReader::open(&prefix).unwrap());
    assert_eq!((original.format(), exported.format()), (Format::SafeTensors, Format::TfBundle));

    let again = export_checkpoint(&checkpoint, &prefix, Format::TfBundle, |name| Some(name.to_string()));
    let message = again.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("model.ckpt-7.index") && message.contains("exists already"), "{message}");
    if let Ok(python) = std::env::var("SLIM_TF_PYTHON") {
        tf_slim_reads(&python, "inception_v1", &prefix, &input, &logits);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// slim's LeNet (a dense layer after `flatten`) exported for TensorFlow reads back to the same logits; with
/// `SLIM_TF_PYTHON`, TF-Slim's LeNet restored from it gives slim's logits (the flatten orders agree).
#[test]
fn a_lenet_exported_for_tensorflow_gives_the_same_logits() {
    use slim::checkpoint::{Format, export_checkpoint};
    use slim::nets::{Lenet, lenet_arg_scope};
    let dir = std::env::temp_dir().join(format!("slim-tf-lenet-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let build = |vs: &VarStore| {
        let net = Lenet { num_classes: Some(10), dropout_keep_prob: 0.5 };
        slim::arg_scope!(lenet_arg_scope(0.0) => { net.build(vs, "LeNet", &[1, 1, 28, 28]) }).unwrap()
    };
    tch::manual_seed(5);
    let vs = VarStore::new(Device::Cpu);
    let net = build(&vs);
    let input = (Tensor::arange(28 * 28, (Kind::Float, Device::Cpu)) * 0.37).sin().view([1, 1, 28, 28]);
    let logits = net.forward_t(&input, Mode::Eval).unwrap().output;
    let checkpoint = slim::checkpoint::Saver::new(&dir).unwrap().save(&vs, 1).unwrap();
    let prefix = dir.join("tf").join("model.ckpt-1");
    std::fs::create_dir_all(prefix.parent().unwrap()).unwrap();
    export_checkpoint(&checkpoint, &prefix, Format::TfBundle, |name| Some(name.to_string())).unwrap();
    let fc3 = list_variables(&prefix).unwrap().into_iter().find(|e| e.name == "LeNet/fc3/weights").unwrap();
    assert_eq!(fc3.shape, [7 * 7 * 64, 1024], "[in, out]");

    let fresh = VarStore::new(Device::Cpu);
    let reloaded = build(&fresh);
    assert!(slim::checkpoint::restore(&fresh, &prefix, false).unwrap().missing.is_empty());
    assert!(reloaded.forward_t(&input, Mode::Eval).unwrap().output.equal(&logits));
    if let Ok(python) = std::env::var("SLIM_TF_PYTHON") {
        tf_slim_reads(&python, "lenet", &prefix, &input, &logits);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs TF-Slim's `net` from `prefix` on `input` with `python`, and compares its logits with `logits`.
fn tf_slim_reads(python: &str, net: &str, prefix: &Path, input: &Tensor, logits: &Tensor) {
    let values = common::float_values;
    let case = serde_json::json!({
        "net": net, "prefix": prefix, "input_nchw": values(input), "input_shape": input.size(), "logits": values(logits),
    });
    common::run_peer_script(python, "tf_slim_reads_slim_checkpoint.py", prefix.parent().unwrap(), &case);
}

/// The models/research/slim nets exported for TensorFlow read back to the same logits; with `SLIM_TF_PYTHON` and
/// `SLIM_RESEARCH_SLIM` (research/slim's folder holding `nets/`, see `benches/peers/research_slim.py`), research
/// /slim's own nets restored from the export give slim's logits: the searched cells, squeeze-and-excite gates,
/// 3-D convs and self-gating compute what TF-Slim's do. Moving statistics and biases are drawn at random, so
/// batch norm and every bias count.
#[test]
fn research_nets_exported_for_tensorflow_give_the_same_logits() {
    use slim::checkpoint::{Format, export_checkpoint};
    let nets = [
        ("mobilenet_v2", vec![1, 3, 96, 96]),
        ("mobilenet_v3_small", vec![1, 3, 96, 96]),
        ("nasnet_mobile", vec![1, 3, 96, 96]),
        ("pnasnet_mobile", vec![1, 3, 96, 96]),
        ("i3d", vec![1, 3, 16, 64, 64]),
        ("s3dg", vec![1, 3, 16, 64, 64]),
    ];
    let peer = std::env::var("SLIM_TF_PYTHON").ok().zip(std::env::var("SLIM_RESEARCH_SLIM").ok());
    for (name, shape) in nets {
        let dir = std::env::temp_dir().join(format!("slim-tf-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        tch::manual_seed(11);
        let vs = VarStore::new(Device::Cpu);
        let side = Some(*shape.last().unwrap());
        let net = slim::nets::get_network(name, &vs, 10, 0.0, 3, side).unwrap();
        randomize_statistics_and_biases(&vs);
        let input =
            (Tensor::arange(shape.iter().product::<i64>(), (Kind::Float, Device::Cpu)) * 0.01).sin().view(&shape[..]);
        let logits = net.forward_t(&input, Mode::Eval).unwrap();
        let checkpoint = slim::checkpoint::Saver::new(&dir).unwrap().save(&vs, 1).unwrap();
        let prefix = dir.join("tf").join("model.ckpt-1");
        std::fs::create_dir_all(prefix.parent().unwrap()).unwrap();
        export_checkpoint(&checkpoint, &prefix, Format::TfBundle, |name| Some(name.to_string())).unwrap();
        let fresh = VarStore::new(Device::Cpu);
        let reloaded = slim::nets::get_network(name, &fresh, 10, 0.0, 3, side).unwrap();
        assert!(slim::checkpoint::restore(&fresh, &prefix, false).unwrap().missing.is_empty(), "{name}");
        assert!(reloaded.forward_t(&input, Mode::Eval).unwrap().equal(&logits), "{name}");
        if let Some((python, research_slim)) = &peer {
            let values = common::float_values;
            let case = serde_json::json!({
                "net": name, "prefix": prefix, "input_nchw": values(&input), "input_shape": shape,
                "logits": values(&logits), "research_slim": research_slim,
            });
            common::run_peer_script(python, "tf_slim_reads_slim_checkpoint.py", &dir, &case);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Moving means in [−0.5, 0.5), moving variances and biases in [0.5, 1.5), so batch norm and biases matter.
fn randomize_statistics_and_biases(vs: &VarStore) {
    tch::no_grad(|| {
        for variable in vs.variables() {
            let tensor = variable.tensor();
            if variable.name().ends_with("moving_mean") {
                tensor.shallow_clone().copy_(&(Tensor::rand_like(tensor) - 0.5));
            } else if variable.name().ends_with("moving_variance") || variable.name().ends_with("biases") {
                tensor.shallow_clone().copy_(&(Tensor::rand_like(tensor) + 0.5));
            }
        }
    });
}
