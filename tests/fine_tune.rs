//! Fine-tuning: restore filters that mean what users mean (`exclude = ["fc8"]` excludes `vgg_16/fc8/*`),
//! renaming, missing / unused / mismatched entries reported all at once with nothing half-restored, reshaping,
//! listing a checkpoint from its header, and a partial restore followed by training only the new layer.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::checkpoint::{AssignOptions, Saver, VariableMap, assign_from_checkpoint, assign_from_values, list_variables};
use slim::prelude::*;

/// A small classifier with VGG's scope names.
#[slim::model]
struct SmallVgg {
    classes: i64,
}

#[slim::model]
impl SmallVgg {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = conv2d(inputs, 4, [3, 3], scope = "conv1/conv1_1");
        let net = flatten(max_pool2d(net, [2, 2], scope = "pool1"));
        let net = fully_connected(net, 8, scope = "fc7");
        fully_connected(net, self.classes, activation_fn = None, scope = "fc8")
    }
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-finetune-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A trained-looking model in `scope` with `classes` outputs, saved to `dir`.
fn pretrained(dir: &std::path::Path, scope: &str, classes: i64) -> VarStore {
    let vs = VarStore::new(Device::Cpu);
    SmallVgg { classes }.build(&vs, scope, &[1, 1, 6, 6]).unwrap();
    Saver::new(dir).unwrap().save(&vs, 100).unwrap();
    vs
}

fn names(variables: &[Variable]) -> Vec<&str> {
    variables.iter().map(Variable::name).collect()
}

fn same(a: &VarStore, b: &VarStore, name: &str) -> bool {
    a.variable(name).unwrap().tensor().equal(b.variable(name).unwrap().tensor())
}

#[test]
fn excluding_fc8_leaves_out_vgg_16_fc8_and_restores_the_rest() {
    let dir = temp("exclude");
    let source = pretrained(&dir, "vgg_16", 10);
    let target = VarStore::new(Device::Cpu);
    SmallVgg { classes: 3 }.build(&target, "vgg_16", &[1, 1, 6, 6]).unwrap();
    let _store = target.as_default();
    let chosen = get_variables_to_restore(&[], &["fc8".into()]).unwrap();
    assert_eq!(
        names(&chosen),
        ["vgg_16/conv1/conv1_1/weights", "vgg_16/conv1/conv1_1/biases", "vgg_16/fc7/weights", "vgg_16/fc7/biases"]
    );
    let report = assign_from_checkpoint(&dir, chosen, AssignOptions::default()).unwrap();
    assert_eq!(report.applied.len(), 4);
    assert_eq!(report.unused, ["vgg_16/fc8/biases", "vgg_16/fc8/weights"]);
    assert!(same(&source, &target, "vgg_16/fc7/weights"));
    let table = report.to_string();
    assert!(table.contains("4 applied, 0 missing") && table.contains("applied     vgg_16/fc7/weights"), "{table}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// TF-Slim's `get_variables_to_restore` considers every global variable: a plain `variable()` and the global
/// step as well as the model variables; local variables never. The model variables alone are what a warm start
/// from another model takes (`filter_variables(get_model_variables(…))`, as train_image_classifier does).
#[test]
fn every_global_variable_is_a_candidate_to_restore() {
    let target = VarStore::new(Device::Cpu);
    SmallVgg { classes: 3 }.build(&target, "vgg_16", &[1, 1, 6, 6]).unwrap();
    let _store = target.as_default();
    let _ = variable("vgg_16/counter", &[1], VariableArgs::default()).unwrap();
    let _ = get_or_create_global_step().unwrap();
    let _ = local_variable("metric/total", &Tensor::zeros([1], (Kind::Float, Device::Cpu))).unwrap();
    let chosen = get_variables_to_restore(&[], &["fc7".into(), "fc8".into()]).unwrap();
    assert_eq!(
        names(&chosen),
        ["vgg_16/conv1/conv1_1/weights", "vgg_16/conv1/conv1_1/biases", "vgg_16/counter", "global_step"]
    );
    let model = filter_variables(get_model_variables(None, None).unwrap(), &[], &["fc7".into(), "fc8".into()]);
    assert_eq!(names(&model), ["vgg_16/conv1/conv1_1/weights", "vgg_16/conv1/conv1_1/biases"]);
}

#[test]
fn mismatches_and_missing_entries_are_listed_together_and_nothing_is_copied() {
    let dir = temp("mismatch");
    pretrained(&dir, "vgg_16", 10);
    let target = VarStore::new(Device::Cpu);
    SmallVgg { classes: 3 }.build(&target, "vgg_16", &[1, 1, 6, 6]).unwrap();
    let before = target.variable("vgg_16/fc7/weights").unwrap().tensor().copy();
    let _store = target.as_default();
    let all = get_variables_to_restore(&[], &[]).unwrap();
    let err = assign_from_checkpoint(&dir, all, AssignOptions::default()).unwrap_err().to_string();
    assert!(err.contains("0 missing, 0 unused, 2 mismatched"), "{err}");
    assert!(err.contains("vgg_16/fc8/weights") && err.contains("[3, 8] but vgg_16/fc8/weights is [10, 8]"), "{err}");
    assert!(err.contains("vgg_16/fc8/biases"), "{err}");
    assert!(target.variable("vgg_16/fc7/weights").unwrap().tensor().equal(&before), "nothing half-restored");
    // Entries the checkpoint lacks: an error listing them, or skipped when asked.
    let renamed =
        VariableMap::renamed(get_variables_to_restore(&["fc7".into()], &[]).unwrap(), |n| n.replace("vgg_16", "other"));
    let err = assign_from_checkpoint(&dir, renamed.clone(), AssignOptions::default()).unwrap_err().to_string();
    assert!(err.contains("2 missing") && err.contains("no other/fc7/weights"), "{err}");
    let options = AssignOptions { ignore_missing_vars: true, ..AssignOptions::default() };
    let report = assign_from_checkpoint(&dir, renamed, options).unwrap();
    assert_eq!((report.applied.len(), report.missing.len()), (0, 2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn renaming_and_reshaping() {
    let dir = temp("rename");
    let source = pretrained(&dir, "old_net", 10);
    let target = VarStore::new(Device::Cpu);
    SmallVgg { classes: 10 }.build(&target, "new_net", &[1, 1, 6, 6]).unwrap();
    let _store = target.as_default();
    let map = VariableMap::renamed(get_model_variables(None, None).unwrap(), |n| n.replacen("new_net", "old_net", 1));
    let report = assign_from_checkpoint(&dir, map, AssignOptions::default()).unwrap();
    assert_eq!(report.applied.len(), 6);
    let a = source.variable("old_net/fc8/weights").unwrap();
    assert!(a.tensor().equal(target.variable("new_net/fc8/weights").unwrap().tensor()));
    // The same number of elements in another shape: only with reshape_variables.
    let flat = VarStore::new(Device::Cpu);
    let _flat_store = flat.as_default();
    let w = variable("old_net/fc8/weights", &[80], VariableArgs::default()).unwrap();
    assert!(assign_from_checkpoint(&dir, vec![w.clone()], AssignOptions::default()).is_err());
    let options = AssignOptions { reshape_variables: true, ..AssignOptions::default() };
    assign_from_checkpoint(&dir, vec![w.clone()], options).unwrap();
    assert!(w.tensor().equal(&a.tensor().reshape([80])));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn list_variables_reads_the_header_and_notices_truncation() {
    let dir = temp("list");
    pretrained(&dir, "vgg_16", 10);
    let entries = list_variables(&dir).unwrap();
    let fc8 = entries.iter().find(|e| e.name == "vgg_16/fc8/weights").unwrap();
    assert_eq!((fc8.shape.clone(), fc8.dtype.as_str()), (vec![10, 8], "F32"));
    assert_eq!(entries.len(), 6);
    let file = dir.join("model.ckpt-100.safetensors");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 4]).unwrap();
    let err = list_variables(&file).unwrap_err().to_string();
    assert!(err.contains("model.ckpt-100.safetensors") && err.contains("truncated"), "{err}");
    std::fs::write(&file, b"not a checkpoint at all").unwrap();
    assert!(list_variables(&file).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_partial_restore_then_training_only_the_new_logits() {
    let dir = temp("partial");
    let source = pretrained(&dir, "vgg_16", 10);
    let target = VarStore::new(Device::Cpu);
    let model = SmallVgg { classes: 3 }.build(&target, "vgg_16", &[1, 1, 6, 6]).unwrap();
    let _store = target.as_default();
    assign_from_checkpoint(&dir, get_variables_to_restore(&[], &["fc8".into()]).unwrap(), AssignOptions::default())
        .unwrap();
    let logits = get_trainable_variables(Some("vgg_16/fc8"), None).unwrap();
    let before = target.variable("vgg_16/fc8/weights").unwrap().tensor().copy();
    let mut train_op = create_train_op(&target, GradientDescent, 0.1).variables_to_train(logits).build().unwrap();
    let images = Tensor::rand([4, 1, 6, 6], (Kind::Float, Device::Cpu));
    for _ in 0..3 {
        let out = model.forward_t(&images, Mode::Train).unwrap().output;
        let _ = sparse_softmax_cross_entropy(&out, &Tensor::from_slice(&[0i64, 1, 2, 0])).call().unwrap();
        train_op.run(&get_total_loss(false).unwrap()).unwrap();
    }
    assert!(same(&source, &target, "vgg_16/fc7/weights") && same(&source, &target, "vgg_16/conv1/conv1_1/weights"));
    assert!(!target.variable("vgg_16/fc8/weights").unwrap().tensor().equal(&before), "the new logits trained");
    assign_from_values(&target, &[("vgg_16/fc8/biases", Tensor::ones([3], (Kind::Float, Device::Cpu)))]).unwrap();
    let err = assign_from_values(&target, &[("nope", Tensor::ones([3], (Kind::Float, Device::Cpu)))]).unwrap_err();
    assert!(err.to_string().contains("no variable nope"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
