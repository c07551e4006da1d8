//! TF-Slim's ImageNet ResNets: names, end points and shapes, parameter counts against a count made from the
//! layer shapes (and torchvision's published ResNet-50/101/152 sizes for v1), atrous `output_stride` giving the
//! same features as the strided net, pre-logit features, fully convolutional use, and bad settings.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{Network, ResNet, ResNetDepth, ResNetVersion, get_network, resnet_arg_scope};
use slim::prelude::*;

mod common;
use common::{assert_end_points, assert_variables, copy_variables};

fn build(net: ResNet, vs: &VarStore, shape: &[i64]) -> Result<Built<ResNet>> {
    let scope = net.default_scope();
    arg_scope!(resnet_arg_scope(1e-4) => { net.build(vs, &scope, shape) })
}

fn trainable(vs: &VarStore) -> i64 {
    vs.collection(TRAINABLE_VARIABLES).iter().map(Variable::numel).sum()
}

/// Trainable parameters from the layer shapes alone: convs without biases under batch norm (β and γ), v2's
/// pre-activation norms, biased convs where v2 has no normalizer, 1×1-conv logits with biases.
fn expected_trainable(version: ResNetVersion, depth: ResNetDepth, classes: i64) -> i64 {
    let conv = |o: i64, i: i64, k: i64| o * i * k * k;
    let norm = |c: i64| 2 * c;
    let v1 = version == ResNetVersion::V1;
    let mut total = conv(64, 3, 7) + if v1 { norm(64) } else { 64 };
    let mut depth_in = 64;
    for (units, base) in depth.units().into_iter().zip([64i64, 128, 256, 512]) {
        for _ in 0..units {
            let (b, out) = (base, 4 * base);
            total += conv(b, depth_in, 1) + norm(b) + conv(b, b, 3) + norm(b) + conv(out, b, 1);
            let projection = if depth_in != out { conv(out, depth_in, 1) } else { 0 };
            total += match v1 {
                true => norm(out) + if projection > 0 { projection + norm(out) } else { 0 },
                false => norm(depth_in) + out + if projection > 0 { projection + out } else { 0 },
            };
            depth_in = out;
        }
    }
    total + if v1 { 0 } else { norm(2048) } + conv(classes, 2048, 1) + classes
}

#[test]
fn parameter_counts_match_the_layer_shapes_and_torchvisions_resnets() {
    let published = [(ResNetDepth::R50, 25_557_032), (ResNetDepth::R101, 44_549_160), (ResNetDepth::R152, 60_192_808)];
    for (depth, count) in published {
        assert_eq!(expected_trainable(ResNetVersion::V1, depth, 1000), count, "the shape count itself, {depth:?}");
    }
    for version in [ResNetVersion::V1, ResNetVersion::V2] {
        for depth in [ResNetDepth::R50, ResNetDepth::R101, ResNetDepth::R152, ResNetDepth::R200] {
            let vs = VarStore::new(Device::Cpu);
            build(ResNet::classifier(version, depth, Some(1000)), &vs, &[1, 3, 64, 64]).unwrap();
            assert_eq!(trainable(&vs), expected_trainable(version, depth, 1000), "{version:?} {depth:?}");
        }
    }
}

#[test]
fn resnet_v1_50_has_tf_slims_names_end_points_and_shapes() {
    let vs = VarStore::new(Device::Cpu);
    let net =
        build(ResNet::classifier(ResNetVersion::V1, ResNetDepth::R50, Some(1000)), &vs, &[1, 3, 224, 224]).unwrap();
    assert_variables(
        &vs,
        &[
            "resnet_v1_50/conv1/weights",
            "resnet_v1_50/conv1/BatchNorm/gamma",
            "resnet_v1_50/conv1/BatchNorm/moving_variance",
            "resnet_v1_50/block1/unit_1/bottleneck_v1/shortcut/weights",
            "resnet_v1_50/block1/unit_1/bottleneck_v1/conv2/BatchNorm/beta",
            "resnet_v1_50/block4/unit_3/bottleneck_v1/conv3/weights",
            "resnet_v1_50/logits/biases",
        ],
    );
    assert!(vs.variable("resnet_v1_50/block1/unit_2/bottleneck_v1/shortcut/weights").is_none(), "identity shortcut");
    assert!(vs.variable("resnet_v1_50/conv1/biases").is_none(), "batch norm replaces the conv biases");
    let out = net.forward_t(&Tensor::rand([2, 3, 224, 224], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [2, 1000]);
    assert_end_points(
        &out,
        &[
            ("resnet_v1_50/conv1", [2, 64, 112, 112]),
            ("resnet_v1_50/pool1", [2, 64, 56, 56]),
            ("resnet_v1_50/block1/unit_2/bottleneck_v1/conv3", [2, 256, 56, 56]),
            ("resnet_v1_50/block1/unit_3/bottleneck_v1/conv3", [2, 256, 28, 28]),
            ("resnet_v1_50/block2/unit_4/bottleneck_v1/conv3", [2, 512, 14, 14]),
            ("resnet_v1_50/block3/unit_6/bottleneck_v1/conv3", [2, 1024, 7, 7]),
            ("resnet_v1_50/block4/unit_3/bottleneck_v1/conv3", [2, 2048, 7, 7]),
            ("resnet_v1_50/logits", [2, 1000, 1, 1]),
        ],
    );
}

#[test]
fn resnet_v2_pre_activates_and_normalizes_after_the_last_block() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(ResNet::classifier(ResNetVersion::V2, ResNetDepth::R50, Some(10)), &vs, &[1, 3, 64, 64]).unwrap();
    assert_variables(
        &vs,
        &[
            "resnet_v2_50/conv1/biases",
            "resnet_v2_50/block1/unit_1/bottleneck_v2/preact/gamma",
            "resnet_v2_50/block1/unit_1/bottleneck_v2/shortcut/biases",
            "resnet_v2_50/block1/unit_1/bottleneck_v2/conv3/biases",
            "resnet_v2_50/postnorm/moving_mean",
        ],
    );
    assert!(vs.variable("resnet_v2_50/conv1/BatchNorm/beta").is_none(), "v2's root conv has no normalizer");
    let images = Tensor::rand([2, 3, 64, 64], (Kind::Float, Device::Cpu));
    assert_eq!(net.forward_t(&images, Mode::Train).unwrap().output.size(), [2, 10]);
}

#[test]
fn atrous_output_strides_give_the_strided_features_densely() {
    // TF-Slim's testAtrousValues: with the same weights, the features at output_stride 8 or 16, taken every
    // 4th or 2nd pixel, equal the nominal (stride 32) features.
    let images = Tensor::rand([1, 3, 65, 65], (Kind::Float, Device::Cpu));
    for version in [ResNetVersion::V1, ResNetVersion::V2] {
        let features = |output_stride: Option<i64>, weights: Option<&VarStore>| {
            let vs = VarStore::new(Device::Cpu);
            let net = ResNet {
                version,
                depth: ResNetDepth::R50,
                num_classes: None,
                global_pool: false,
                output_stride,
                spatial_squeeze: false,
            };
            let built = build(net, &vs, &[1, 3, 65, 65]).unwrap();
            if let Some(weights) = weights {
                copy_variables(weights, &vs);
            }
            (built.forward_t(&images, Mode::Eval).unwrap().output, vs)
        };
        let (nominal, weights) = features(None, None);
        assert_eq!(nominal.size(), [1, 2048, 3, 3]);
        assert!(nominal.abs().max().double_value(&[]) > 0.1, "the features are not all zero");
        for (output_stride, factor) in [(16, 2), (8, 4)] {
            let (dense, _) = features(Some(output_stride), Some(&weights));
            assert_eq!(dense.size()[2], 65usize.div_ceil(output_stride as usize) as i64, "stride {output_stride}");
            let sampled = dense.slice(2, 0, None, factor).slice(3, 0, None, factor);
            let difference = (&sampled - &nominal).abs().max().double_value(&[]);
            let scale = nominal.abs().max().double_value(&[]);
            assert!(difference <= 1e-4 * scale.max(1.0), "{version:?} stride {output_stride}: {difference} vs {scale}");
        }
    }
}

#[test]
fn pre_logit_features_and_fully_convolutional_use() {
    let vs = VarStore::new(Device::Cpu);
    let features = build(ResNet::classifier(ResNetVersion::V1, ResNetDepth::R50, None), &vs, &[1, 3, 64, 64]).unwrap();
    assert!(vs.variables().iter().all(|v| !v.name().contains("logits")), "no logits without num_classes");
    let pooled = features.forward_t(&Tensor::rand([2, 3, 96, 96], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(pooled.output.size(), [2, 2048, 1, 1]);

    let vs = VarStore::new(Device::Cpu);
    let dense = ResNet {
        version: ResNetVersion::V1,
        depth: ResNetDepth::R50,
        num_classes: Some(21),
        global_pool: false,
        output_stride: Some(16),
        spatial_squeeze: false,
    };
    let net = build(dense, &vs, &[1, 3, 321, 321]).unwrap();
    let logits = net.forward_t(&Tensor::rand([1, 3, 321, 321], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(logits.output.size(), [1, 21, 21, 21]);
}

#[test]
fn impossible_settings_are_errors_naming_the_net() {
    let with = |output_stride: Option<i64>, global_pool: bool| ResNet {
        version: ResNetVersion::V1,
        depth: ResNetDepth::R50,
        num_classes: Some(10),
        global_pool,
        output_stride,
        spatial_squeeze: true,
    };
    let error = |net: ResNet| build(net, &VarStore::new(Device::Cpu), &[1, 3, 64, 64]).err().unwrap().to_string();
    assert!(
        error(with(Some(6), true)).contains("resnet_v1_50") && error(with(Some(6), true)).contains("multiple of 4")
    );
    assert!(error(with(Some(64), true)).contains("out of reach"));
    assert!(error(with(None, false)).contains("spatial_squeeze needs 1×1 logits"));
}

#[test]
fn the_factory_builds_resnets_by_tf_slims_names() {
    let vs = VarStore::new(Device::Cpu);
    let net = get_network("resnet_v2_101", &vs, 5, 1e-4, 3, Some(64)).unwrap();
    assert!(matches!(net, Network::ResNet(_)));
    assert!(vs.variable("resnet_v2_101/block3/unit_23/bottleneck_v2/conv2/weights").is_some());
    let logits = net.forward_t(&Tensor::rand([1, 3, 64, 64], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(logits.size(), [1, 5]);
    assert!(get_network("resnet_v1_34", &vs, 5, 1e-4, 3, Some(64)).is_err());
}

/// torchvision's resnet50 state dict: names and shapes as `torchvision.models.resnet50().state_dict()` has them,
/// filled with numbered values.
fn torchvision_resnet50_state() -> Vec<(String, Tensor)> {
    let mut state: Vec<(String, Vec<i64>)> = vec![("conv1.weight".into(), vec![64, 3, 7, 7])];
    let norm = |prefix: &str, channels: i64| {
        let shape = |name| if name == "num_batches_tracked" { vec![] } else { vec![channels] };
        ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
            .map(|name| (format!("{prefix}.{name}"), shape(name)))
    };
    state.extend(norm("bn1", 64));
    let mut inputs = 64;
    for (layer, (units, width)) in [(3, 64), (4, 128), (6, 256), (3, 512)].into_iter().enumerate() {
        for unit in 0..units {
            let prefix = format!("layer{}.{unit}", layer + 1);
            let shapes = [vec![width, inputs, 1, 1], vec![width, width, 3, 3], vec![4 * width, width, 1, 1]];
            for (conv, shape) in shapes.into_iter().enumerate() {
                state.push((format!("{prefix}.conv{}.weight", conv + 1), shape.clone()));
                state.extend(norm(&format!("{prefix}.bn{}", conv + 1), shape[0]));
            }
            if unit == 0 {
                state.push((format!("{prefix}.downsample.0.weight"), vec![4 * width, inputs, 1, 1]));
                state.extend(norm(&format!("{prefix}.downsample.1"), 4 * width));
            }
            inputs = 4 * width;
        }
    }
    state.push(("fc.weight".into(), vec![1000, 2048]));
    state.push(("fc.bias".into(), vec![1000]));
    state
        .into_iter()
        .enumerate()
        .map(|(i, (name, shape))| (name, Tensor::full(&shape[..], i as f64, (Kind::Float, Device::Cpu))))
        .collect()
}

#[test]
fn torchvision_resnet50_weights_restore_into_resnet_v1_50() {
    use slim::checkpoint::{AssignOptions, assign_from_checkpoint};
    use slim::nets::torchvision_resnet_map;
    let path = std::env::temp_dir().join(format!("slim-torchvision-resnet50-{}.safetensors", std::process::id()));
    let state = torchvision_resnet50_state();
    Tensor::write_safetensors(&state, &path).unwrap();
    let vs = VarStore::new(Device::Cpu);
    build(ResNet::classifier(ResNetVersion::V1, ResNetDepth::R50, Some(1000)), &vs, &[1, 3, 64, 64]).unwrap();
    let map = torchvision_resnet_map(ResNetDepth::R50, "resnet_v1_50");
    assert_eq!(map.counters().len(), 53, "a num_batches_tracked per batch norm");
    let options = AssignOptions { ignore_missing_vars: false, reshape_variables: true };
    let report = assign_from_checkpoint(&path, map.variable_map(&vs).unwrap(), options).unwrap();
    let text = report.to_string();
    assert!(text.contains(": 267 applied, 0 missing, 53 unused, 0 mismatched"), "{text}");
    assert!(
        text.lines()
            .filter(|l| l.contains("unused"))
            .all(|l| l.contains("num_batches_tracked") || l.contains("restore"))
    );
    let value = |name: &str| vs.variable(name).unwrap().tensor().mean(Kind::Float).double_value(&[]);
    let index = |name: &str| state.iter().position(|(n, _)| n == name).unwrap() as f64;
    assert_eq!(
        value("resnet_v1_50/block4/unit_1/bottleneck_v1/shortcut/BatchNorm/moving_variance"),
        index("layer4.0.downsample.1.running_var")
    );
    assert_eq!(value("resnet_v1_50/logits/weights"), index("fc.weight"));
    std::fs::remove_file(&path).unwrap();
}

/// torchvision's resnet50 state dict → slim's resnet_v1_50 → a slim checkpoint, and a TF checkpoint exported
/// from it → `export_state_dict` from either: torchvision's keys and shapes exactly (every `num_batches_tracked`
/// an int64 0), each tensor as it came in. With `SLIM_TORCH_PYTHON`, torchvision's own resnet50 loads it strictly
/// (`benches/peers/torchvision_loads_slim_state_dict.py`).
#[test]
fn resnet_v1_50_exports_as_torchvisions_state_dict_from_any_checkpoint() {
    use slim::checkpoint::{
        AssignOptions, Format, Saver, assign_from_checkpoint, export_checkpoint, export_state_dict,
    };
    use slim::nets::torchvision_resnet_map;
    let dir = std::env::temp_dir().join(format!("slim-resnet-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let state = torchvision_resnet50_state();
    let torchvision = dir.join("torchvision.safetensors");
    Tensor::write_safetensors(&state, &torchvision).unwrap();
    let vs = VarStore::new(Device::Cpu);
    build(ResNet::classifier(ResNetVersion::V1, ResNetDepth::R50, Some(1000)), &vs, &[1, 3, 64, 64]).unwrap();
    let map = torchvision_resnet_map(ResNetDepth::R50, "resnet_v1_50");
    let options = AssignOptions { ignore_missing_vars: false, reshape_variables: true };
    assign_from_checkpoint(&torchvision, map.variable_map(&vs).unwrap(), options).unwrap();
    let checkpoint = Saver::new(dir.join("train")).unwrap().save(&vs, 5).unwrap();
    let tf_prefix = dir.join("tf").join("model.ckpt-5");
    std::fs::create_dir_all(tf_prefix.parent().unwrap()).unwrap();
    export_checkpoint(&checkpoint, &tf_prefix, Format::TfBundle, |name| Some(name.to_string())).unwrap();

    for (source, output) in [(&checkpoint, "from_slim.safetensors"), (&tf_prefix, "from_tf.safetensors")] {
        let output = dir.join(output);
        assert_eq!(export_state_dict(source, &output, &map).unwrap(), state.len());
        let exported = Tensor::read_safetensors(&output).unwrap();
        assert_eq!(exported.len(), state.len());
        for (name, value) in &state {
            let (_, got) = exported.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}"));
            assert_eq!(got.size(), value.size(), "{name}");
            match name.ends_with("num_batches_tracked") {
                true => assert_eq!((got.kind(), got.int64_value(&[])), (Kind::Int64, 0), "{name}"),
                false => assert!(got.equal(value), "{name}"),
            }
        }
        if let Ok(python) = std::env::var("SLIM_TORCH_PYTHON") {
            let case = serde_json::json!({ "net": "resnet50", "num_classes": 1000, "state": output });
            common::torchvision_loads(&python, &dir, &case);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
