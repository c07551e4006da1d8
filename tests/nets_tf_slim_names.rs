//! slim's zoo against TF-Slim's own nets: every model variable that tf_slim.nets, or models/research/slim's
//! nets_factory for the nets tf_slim does not ship, creates (name and shape, listed by scripts/make-zoo-names.py
//! with TF 2.21 and tf-slim 1.1 into tests/fixtures/zoo/variables.json.gz) exists in the slim net built by
//! `get_network` under the same name, with the shape converted to slim's layout, and slim creates no other model
//! variable. So TF-Slim's checkpoints of these nets restore name for name.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::io::Read;

use slim::nets::get_network;
use slim::prelude::*;

/// TF-Slim's model variables per net: name → shape in TF's layout.
fn tf_slim_variables() -> BTreeMap<String, Vec<(String, Vec<i64>)>> {
    let file = std::fs::File::open("tests/fixtures/zoo/variables.json.gz").unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A TF shape in slim's layout: HWIO convs become OIHW, depthwise `[h, w, in, multiplier]` becomes
/// `[in · multiplier, 1, h, w]`, `[in, out]` matrices `[out, in]`.
fn slim_shape(name: &str, tf: &[i64]) -> Vec<i64> {
    match tf {
        [h, w, i, m] if name.ends_with("depthwise_weights") => vec![i * m, 1, *h, *w],
        [h, w, i, o] => vec![*o, *i, *h, *w],
        [d, h, w, i, o] => vec![*o, *i, *d, *h, *w],
        [i, o] => vec![*o, *i],
        other => other.to_vec(),
    }
}

fn check(name: &str, classes: i64) {
    let vs = VarStore::new(Device::Cpu);
    get_network(name, &vs, classes, 1e-4, 3, None).unwrap();
    compare(name, &vs);
}

/// Every model variable TF-Slim's `name` creates is in `vs` with its shape in slim's layout, and no other.
fn compare(name: &str, vs: &VarStore) {
    let expected = &tf_slim_variables()[name];
    let ours: BTreeMap<String, Vec<i64>> =
        vs.collection(MODEL_VARIABLES).iter().map(|v| (v.name().to_string(), v.shape())).collect();
    let mut problems = Vec::new();
    for (variable, shape) in expected {
        match ours.get(variable) {
            None => problems.push(format!("missing {variable}")),
            Some(found) if *found != slim_shape(variable, shape) => {
                problems.push(format!("{variable}: {found:?}, TF-Slim {shape:?}"));
            }
            Some(_) => {}
        }
    }
    let theirs: Vec<&String> = expected.iter().map(|(variable, _)| variable).collect();
    problems.extend(ours.keys().filter(|v| !theirs.contains(v)).map(|v| format!("extra {v}")));
    assert!(problems.is_empty(), "{name}: {} problems:\n{}", problems.len(), problems.join("\n"));
    assert_eq!(ours.len(), expected.len());
}

#[test]
fn alexnet_overfeat_and_vgg_match_tf_slim() {
    for name in ["alexnet_v2", "overfeat", "vgg_a", "vgg_16", "vgg_19"] {
        check(name, 1000);
    }
}

#[test]
fn inception_v1_v2_and_v3_match_tf_slim() {
    check("inception_v1", 1001);
    check("inception_v2", 1001);
    check("inception_v3", 1001);
}

#[test]
fn resnets_match_tf_slim() {
    check("resnet_v1_50", 1000);
    check("resnet_v1_101", 1000);
    check("resnet_v2_50", 1001);
    check("resnet_v2_152", 1001);
}

#[test]
fn inception_v4_and_inception_resnet_v2_match_research_slim() {
    check("inception_v4", 1001);
    check("inception_resnet_v2", 1001);
}

#[test]
fn mobilenet_v2_and_v3_match_research_slim() {
    for name in [
        "mobilenet_v2",
        "mobilenet_v2_140",
        "mobilenet_v2_035",
        "mobilenet_v3_large",
        "mobilenet_v3_small",
        "mobilenet_v3_large_minimalistic",
        "mobilenet_v3_small_minimalistic",
        "mobilenet_edgetpu",
        "mobilenet_edgetpu_075",
    ] {
        check(name, 1001);
    }
}

#[test]
fn i3d_and_s3dg_match_research_slim() {
    check("i3d", 400);
    check("s3dg", 400);
}

#[test]
fn nasnet_and_pnasnet_match_research_slim() {
    check("nasnet_cifar", 10);
    for name in ["nasnet_mobile", "nasnet_large", "pnasnet_mobile", "pnasnet_large"] {
        check(name, 1001);
    }
}

#[test]
fn lenet_cifarnet_mobilenet_v1_and_the_other_resnets_match_research_slim() {
    check("lenet", 10);
    check("cifarnet", 10);
    for name in
        ["mobilenet_v1", "mobilenet_v1_075", "mobilenet_v1_050", "mobilenet_v1_025", "resnet_v2_101", "resnet_v2_200"]
    {
        check(name, 1001);
    }
    check("resnet_v1_152", 1000);
    check("resnet_v1_200", 1000);
}

#[test]
fn the_generative_nets_match_research_slim() {
    use slim::nets::{
        CycleganGenerator, DcganDiscriminator, DcganGenerator, Pix2pixDiscriminator, Pix2pixGenerator,
        cyclegan_arg_scope, pix2pix_arg_scope, pix2pix_default_blocks,
    };
    let vs = VarStore::new(Device::Cpu);
    DcganGenerator::default().build(&vs, "Generator", &[1, 64]).unwrap();
    compare("dcgan_generator", &vs);
    let vs = VarStore::new(Device::Cpu);
    DcganDiscriminator::default().build(&vs, "Discriminator", &[1, 3, 32, 32]).unwrap();
    compare("dcgan_discriminator", &vs);
    let vs = VarStore::new(Device::Cpu);
    arg_scope!(cyclegan_arg_scope(0.0) => { CycleganGenerator::default().build(&vs, "", &[1, 3, 32, 32]) }).unwrap();
    compare("cyclegan_generator", &vs);
    let vs = VarStore::new(Device::Cpu);
    let generator = Pix2pixGenerator { num_outputs: 3, blocks: pix2pix_default_blocks(), upsample: Default::default() };
    arg_scope!(pix2pix_arg_scope() => { generator.build(&vs, "", &[1, 3, 256, 256]) }).unwrap();
    compare("pix2pix_generator", &vs);
    let vs = VarStore::new(Device::Cpu);
    let discriminator = Pix2pixDiscriminator { num_filters: vec![64, 128, 256, 512], padding: 2 };
    arg_scope!(pix2pix_arg_scope() => { discriminator.build(&vs, "", &[1, 3, 256, 256]) }).unwrap();
    compare("pix2pix_discriminator", &vs);
}
