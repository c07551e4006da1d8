//! `slim::nets::Vgg`: TF-Slim's vgg_16 under `vgg_arg_scope` (its exact variable names and checkpoint shapes, the
//! fully connected layers as convolutions), and the torchvision name map.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{Vgg, VggDepth, torchvision_vgg_map, vgg_arg_scope};
use slim::prelude::*;

mod common;

/// torchvision's vgg16 state-dict shapes (of 1000 classes), in its order.
fn torchvision_vgg16_shapes() -> Vec<Vec<i64>> {
    let mut shapes = Vec::new();
    let mut channels = 3;
    for (convs, width) in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)] {
        for _ in 0..convs {
            shapes.push(vec![width, channels, 3, 3]);
            shapes.push(vec![width]);
            channels = width;
        }
    }
    for (outputs, inputs) in [(4096, 512 * 7 * 7), (4096, 4096), (1000, 4096)] {
        shapes.push(vec![outputs, inputs]);
        shapes.push(vec![outputs]);
    }
    shapes
}

#[test]
fn vgg_16_has_tf_slims_checkpoint_names_and_shapes_and_maps_from_torchvision() {
    let vs = VarStore::new(Device::Cpu);
    let definition =
        Vgg { depth: VggDepth::D16, num_classes: Some(1000), dropout_keep_prob: 0.5, spatial_squeeze: true };
    let net = arg_scope!(vgg_arg_scope(5e-4) => { definition.build(&vs, "vgg_16", &[1, 3, 224, 224]).unwrap() });
    assert_eq!(net.model_variables().len(), 32);
    assert_eq!(net.num_parameters(), 138_357_544);
    assert_eq!(vs.regularization_losses().len(), 16);
    assert_eq!(vs.variable("vgg_16/conv5/conv5_3/weights").unwrap().shape(), [512, 512, 3, 3]);
    assert_eq!(vs.variable("vgg_16/fc6/weights").unwrap().shape(), [4096, 512, 7, 7]);
    assert_eq!(vs.variable("vgg_16/fc8/weights").unwrap().shape(), [1000, 4096, 1, 1]);
    let layers: Vec<&str> = net.layer_names().collect();
    assert!(layers.contains(&"vgg_16/conv3/conv3_3") && layers.contains(&"vgg_16/pool5"));
    let map = torchvision_vgg_map(VggDepth::D16, "vgg_16");
    let names = map.names();
    assert_eq!(names.len(), 32);
    assert_eq!(
        (names[4].theirs.as_str(), names[4].slim.as_str()),
        ("features.5.weight", "vgg_16/conv2/conv2_1/weights")
    );
    assert_eq!(
        (names[25].theirs.as_str(), names[25].slim.as_str()),
        ("features.28.bias", "vgg_16/conv5/conv5_3/biases")
    );
    assert_eq!((names[26].theirs.as_str(), names[26].matrix), ("classifier.0.weight", true));
    assert!(map.counters().is_empty());
    for (name, torch_shape) in names.iter().zip(torchvision_vgg16_shapes()) {
        let slim = &name.slim;
        let variable = vs.variable(slim).unwrap_or_else(|| panic!("no {slim}"));
        assert_eq!(variable.numel(), torch_shape.iter().product::<i64>(), "{slim} vs torchvision {torch_shape:?}");
    }
    let logits = net.forward_t(&Tensor::zeros([1, 3, 224, 224], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(logits.output.size(), [1, 1000]);
}

/// slim's vgg_16 exported with `export_state_dict` is torchvision's vgg16 state dict: its names, its shapes (the
/// classifier as matrices), nothing else; restored back through the same map it gives the same logits. With
/// `SLIM_TORCH_PYTHON`, torchvision's own vgg16 loads it strictly and computes slim's logits
/// (`benches/peers/torchvision_loads_slim_state_dict.py`).
#[test]
fn vgg_16_exports_as_torchvisions_state_dict_and_round_trips() {
    use slim::checkpoint::{AssignOptions, CheckpointReader, Saver, assign_from_checkpoint, export_state_dict};
    let dir = std::env::temp_dir().join(format!("slim-vgg-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let build = |vs: &VarStore| {
        let definition =
            Vgg { depth: VggDepth::D16, num_classes: Some(10), dropout_keep_prob: 0.5, spatial_squeeze: true };
        arg_scope!(vgg_arg_scope(5e-4) => { definition.build(vs, "vgg_16", &[1, 3, 224, 224]).unwrap() })
    };
    tch::manual_seed(9);
    let vs = VarStore::new(Device::Cpu);
    let net = build(&vs);
    tch::no_grad(|| {
        for variable in vs.variables().iter().filter(|v| v.name().ends_with("biases")) {
            variable.tensor().shallow_clone().copy_(&(Tensor::rand_like(variable.tensor()) * 0.1));
        }
    });
    let input = (Tensor::arange(3 * 224 * 224, (Kind::Float, Device::Cpu)) * 0.013).sin().view([1, 3, 224, 224]);
    let logits = net.forward_t(&input, Mode::Eval).unwrap().output;
    let checkpoint = Saver::new(&dir).unwrap().save(&vs, 3).unwrap();
    let map = torchvision_vgg_map(VggDepth::D16, "vgg_16");
    let state = dir.join("vgg16.safetensors");
    assert_eq!(export_state_dict(&checkpoint, &state, &map).unwrap(), 32);

    let mut expected = torchvision_vgg16_shapes();
    let last = expected.len();
    expected[last - 2] = vec![10, 4096];
    expected[last - 1] = vec![10];
    let entries = CheckpointReader::open(&state).unwrap().list().unwrap();
    assert_eq!(entries.len(), 32, "no global step, nothing beyond torchvision's keys");
    for (name, shape) in map.names().iter().zip(&expected) {
        let entry = entries.iter().find(|e| e.name == name.theirs).unwrap_or_else(|| panic!("no {}", name.theirs));
        assert_eq!(&entry.shape, shape, "{}", name.theirs);
    }
    let again = export_state_dict(&checkpoint, &state, &map).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(again.contains("exists already"), "{again}");
    let wrong_scope =
        export_state_dict(&checkpoint, dir.join("other.safetensors"), &torchvision_vgg_map(VggDepth::D16, "vgg16"));
    let message = wrong_scope.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("lacks 32 variable(s)") && message.contains("vgg16/fc8/biases"), "{message}");
    assert!(!dir.join("other.safetensors").exists());

    let fresh = VarStore::new(Device::Cpu);
    let reloaded = build(&fresh);
    let options = AssignOptions { ignore_missing_vars: false, reshape_variables: true };
    let report = assign_from_checkpoint(&state, map.variable_map(&fresh).unwrap(), options).unwrap();
    assert_eq!(report.applied.len(), 32);
    assert!(reloaded.forward_t(&input, Mode::Eval).unwrap().output.equal(&logits));
    if let Ok(python) = std::env::var("SLIM_TORCH_PYTHON") {
        let values = common::float_values;
        let case = serde_json::json!({
            "net": "vgg16", "num_classes": 10, "state": state,
            "input_nchw": values(&input), "input_shape": [1, 3, 224, 224], "logits": values(&logits),
        });
        common::torchvision_loads(&python, &dir, &case);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
