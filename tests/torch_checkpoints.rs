//! PyTorch state dicts: `torch.save` zip archives (pickle + storages, with offsets and strides) — one written by
//! torch 2.13 itself (scripts/make-torch-save-fixture.py), one laid out by scripts/make-torch-fixtures.py — and a
//! safetensors file of a tiny torchvision-style net, loaded into the same net written with slim under a name map,
//! give the output computed beside the fixtures (which torch's own forward pass reproduced).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::checkpoint::{AssignOptions, VariableMap, assign_from_checkpoint, list_variables, load_variable};
use slim::prelude::*;

mod common;
use common::Tiny;

fn expected(key: &str) -> Vec<f32> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/torch/expected.json").unwrap()).unwrap();
    json[key].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect()
}

/// torchvision-style names → the slim net's variables.
fn torch_names(vs: &VarStore) -> VariableMap {
    let pairs = [
        ("features.0.weight", "tiny/conv1/weights"),
        ("features.0.bias", "tiny/conv1/biases"),
        ("classifier.weight", "tiny/logits/weights"),
        ("classifier.bias", "tiny/logits/biases"),
    ];
    VariableMap::from_pairs(pairs.iter().map(|(torch, slim)| (torch.to_string(), vs.variable(slim).unwrap())).collect())
}

#[test]
fn torch_save_archives_and_safetensors_load_into_the_slim_net() {
    let files =
        ["tests/fixtures/torch/tiny_torch.pt", "tests/fixtures/torch/tiny.pt", "tests/fixtures/torch/tiny.safetensors"];
    for file in files {
        let vs = VarStore::new(Device::Cpu);
        let net = Tiny.build(&vs, "tiny", &[1, 2, 5, 5]).unwrap();
        let report = assign_from_checkpoint(file, torch_names(&vs), AssignOptions::default()).unwrap();
        assert_eq!(report.applied.len(), 4, "{file}");
        let input = Tensor::from_slice(&expected("input")).view([1, 2, 5, 5]);
        let output = net.forward_t(&input, Mode::Eval).unwrap().output;
        let want = Tensor::from_slice(&expected("logits")).view([1, 4]);
        assert!(output.allclose(&want, 1e-5, 1e-5, false), "{file}: {output:?} vs {want:?}");
    }
}

#[test]
fn the_pickle_reader_honours_storages_offsets_strides_and_dtypes() {
    let file = "tests/fixtures/torch/tiny.pt";
    let weight = Tensor::from_slice(&expected("classifier_weight")).view([4, 3]);
    assert!(load_variable(file, "classifier.weight").unwrap().equal(&weight));
    let transposed = load_variable(file, "classifier.weight_t").unwrap();
    assert!(transposed.equal(&weight.tr()), "a strided view of the same storage");
    let counts: Vec<i64> = load_variable(file, "counts").unwrap().try_into().unwrap();
    assert_eq!(counts, [3, -4, 5]);
    let scale: Vec<f64> = load_variable(file, "scale").unwrap().try_into().unwrap();
    assert_eq!(scale, [0.25, 1e-300]);
    let written_by_torch = "tests/fixtures/torch/tiny_torch.pt";
    assert!(load_variable(written_by_torch, "classifier.weight_t").unwrap().equal(&weight.tr()));
    let counts: Vec<i64> = load_variable(written_by_torch, "counts").unwrap().try_into().unwrap();
    assert_eq!(counts, [3, -4, 5], "a registered int64 buffer");
    let names: Vec<String> =
        list_variables("tests/fixtures/torch/tiny.safetensors").unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["classifier.bias", "classifier.weight", "features.0.bias", "features.0.weight"]);
}

#[test]
fn damaged_archives_are_errors_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("slim-torch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read("tests/fixtures/torch/tiny.pt").unwrap();
    let truncated = dir.join("truncated.pt");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_variable(&truncated, "counts").unwrap_err().to_string();
    assert!(err.contains("truncated.pt"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_maps_names_back_so_weights_travel_both_ways() {
    let dir = std::env::temp_dir().join(format!("slim-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let vs = VarStore::new(Device::Cpu);
    let net = Tiny.build(&vs, "tiny", &[1, 2, 5, 5]).unwrap();
    assign_from_checkpoint("tests/fixtures/torch/tiny.pt", torch_names(&vs), AssignOptions::default()).unwrap();
    let checkpoint = slim::checkpoint::Saver::new(&dir).unwrap().save(&vs, 1).unwrap();
    let back = |name: &str| match name {
        "tiny/conv1/weights" => Some("features.0.weight".to_string()),
        "tiny/conv1/biases" => Some("features.0.bias".to_string()),
        "tiny/logits/weights" => Some("classifier.weight".to_string()),
        "tiny/logits/biases" => Some("classifier.bias".to_string()),
        _ => None,
    };
    let exported = dir.join("exported.safetensors");
    assert_eq!(
        slim::checkpoint::export_checkpoint(&checkpoint, &exported, slim::checkpoint::Format::SafeTensors, back)
            .unwrap(),
        4
    );
    let names: Vec<String> = list_variables(&exported).unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["classifier.bias", "classifier.weight", "features.0.bias", "features.0.weight"]);
    // Into a fresh net through the PyTorch names again: the same outputs.
    let fresh = VarStore::new(Device::Cpu);
    let again = Tiny.build(&fresh, "tiny", &[1, 2, 5, 5]).unwrap();
    assign_from_checkpoint(&exported, torch_names(&fresh), AssignOptions::default()).unwrap();
    let input = Tensor::from_slice(&expected("input")).view([1, 2, 5, 5]);
    let (a, b) = (net.forward(&input).unwrap(), again.forward(&input).unwrap());
    assert!(a.equal(&b));
    std::fs::remove_dir_all(&dir).unwrap();
}
