//! TF-Slim's NASNet-A and PNASNet (`nets/nasnet/nasnet_test.py` and `pnasnet_test.py` ported, NCHW): every end
//! point's shape for nasnet_cifar, nasnet_mobile, nasnet_large and pnasnet_mobile, the pooled features without
//! classes, drop path annealed in over the global step, and the factory. Names and shapes against research/slim's
//! own nets: `tests/nets_tf_slim_names.rs`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{Nasnet, Network, Pnasnet, get_network, nasnet_arg_scope};
use slim::prelude::*;

mod common;
use common::rand;

fn build<M: Model>(net: M, vs: &VarStore, side: i64) -> Result<Built<M>> {
    arg_scope!(nasnet_arg_scope(4e-5, 0.9997, 1e-3) => { net.build(vs, "", &[1, 3, side, side]) })
}

/// TF-Slim's end points: `Stem`, the cells by (side, depth), the reduction cells, `global_pool`, and the three
/// `[N, classes]` heads.
fn assert_end_points(out: &ModelOutput, stem: (i64, i64), cells: &[(i64, i64)], reductions: &[(i64, i64)], pool: i64) {
    let batch = out.output.size()[0];
    let map = |(side, depth): (i64, i64)| vec![batch, depth, side, side];
    assert_eq!(out.end_points.get("Stem").unwrap().size(), map(stem), "Stem");
    for (i, cell) in cells.iter().enumerate() {
        assert_eq!(out.end_points.get(&format!("Cell_{i}")).unwrap().size(), map(*cell), "Cell_{i}");
    }
    for (i, cell) in reductions.iter().enumerate() {
        assert_eq!(
            out.end_points.get(&format!("Reduction_Cell_{i}")).unwrap().size(),
            map(*cell),
            "Reduction_Cell_{i}"
        );
    }
    assert_eq!(out.end_points.get("global_pool").unwrap().size(), [batch, pool]);
    for head in ["AuxLogits", "Logits", "Predictions"] {
        assert_eq!(out.end_points.get(head).unwrap().size(), [batch, 10], "{head}");
    }
}

/// `n` cells of `side`×`side` and `depth`.
fn cells(n: usize, side: i64, depth: i64) -> Vec<(i64, i64)> {
    vec![(side, depth); n]
}

#[test]
fn nasnet_cifar_and_mobile_end_points() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(Nasnet::cifar(Some(10)), &vs, 32).unwrap();
    let out = net.forward_t(&rand(&[2, 3, 32, 32]), Mode::Eval).unwrap();
    let layers = [cells(6, 32, 192), cells(6, 16, 384), cells(6, 8, 768)].concat();
    assert_end_points(&out, (32, 96), &layers, &[(16, 256), (8, 512)], 768);
    assert_eq!(out.output.size(), [2, 10]);

    let vs = VarStore::new(Device::Cpu);
    let net = build(Nasnet::mobile(Some(10)), &vs, 224).unwrap();
    let out = net.forward_t(&rand(&[2, 3, 224, 224]), Mode::Eval).unwrap();
    let layers = [cells(4, 28, 264), cells(4, 14, 528), cells(4, 7, 1056)].concat();
    assert_end_points(&out, (28, 88), &layers, &[(14, 352), (7, 704)], 1056);
}

#[test]
fn nasnet_large_and_pnasnet_mobile_end_points() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(Nasnet::large(Some(10)), &vs, 331).unwrap();
    let out = net.forward_t(&rand(&[1, 3, 331, 331]), Mode::Eval).unwrap();
    let layers = [cells(6, 42, 1008), cells(6, 21, 2016), cells(6, 11, 4032)].concat();
    assert_end_points(&out, (42, 336), &layers, &[(21, 1344), (11, 2688)], 4032);

    let vs = VarStore::new(Device::Cpu);
    let net = build(Pnasnet::mobile(Some(10)), &vs, 224).unwrap();
    let out = net.forward_t(&rand(&[2, 3, 224, 224]), Mode::Eval).unwrap();
    let layers = [cells(3, 28, 270), cells(3, 14, 540), cells(3, 7, 1080)].concat();
    assert_end_points(&out, (28, 135), &layers, &[], 1080);
    assert!(out.end_points.get("Reduction_Cell_0").is_none(), "PNASNet strides its own cells");
}

#[test]
fn without_classes_the_features_and_no_aux_head() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(Nasnet::mobile(None), &vs, 96).unwrap();
    let out = net.forward_t(&rand(&[2, 3, 96, 96]), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [2, 1056], "testBuildPreLogitsMobileModel (at 96×96)");
    assert!(vs.variables().iter().all(|v| !v.name().starts_with("aux_")), "no auxiliary head");
    let vs = VarStore::new(Device::Cpu);
    let config = slim::nets::NasnetConfig { use_aux_head: false, ..slim::nets::NasnetConfig::nasnet_mobile() };
    let net = build(Nasnet { config, ..Nasnet::mobile(Some(5)) }, &vs, 96).unwrap();
    let out = net.forward_t(&rand(&[2, 3, 96, 96]), Mode::Eval).unwrap();
    assert!(out.end_points.get("AuxLogits").is_none(), "testNoAuxHeadMobileModel");
}

#[test]
fn drop_path_starts_off_and_anneals_in_over_the_global_step() {
    let vs = VarStore::new(Device::Cpu);
    let net = build(Nasnet::cifar(Some(10)), &vs, 32).unwrap();
    let step = vs.variable("global_step").expect("drop path gets or creates the global step");
    let images = rand(&[8, 3, 32, 32]);
    let first = net.forward_t(&images, Mode::Train).unwrap().output;
    let again = net.forward_t(&images, Mode::Train).unwrap().output;
    assert!(first.equal(&again), "at step 0 nothing is dropped (and cifar's dense dropout keeps all)");
    let _done = tch::no_grad(|| step.tensor().shallow_clone().fill_(937_500));
    let dropped = net.forward_t(&images, Mode::Train).unwrap().output;
    assert!(!dropped.allclose(&first, 1e-4, 1e-4, false), "after the burn-in, paths are dropped");
    let eval = net.forward_t(&images, Mode::Eval).unwrap().output;
    assert!(eval.equal(&net.forward_t(&images, Mode::Eval).unwrap().output), "never in eval mode");
}

#[test]
fn the_factory_builds_all_five_at_their_sizes() {
    let vs = VarStore::new(Device::Cpu);
    let network = get_network("nasnet_cifar", &vs, 10, 5e-4, 3, None).unwrap();
    assert!(matches!(network, Network::Nasnet(_)));
    assert_eq!(network.forward_t(&rand(&[1, 3, 32, 32]), Mode::Eval).unwrap().size(), [1, 10]);
    let error = get_network("pnasnet_mobile", &VarStore::new(Device::Cpu), 7, 4e-5, 3, Some(64)).err().unwrap();
    assert!(error.to_string().contains("aux_5/aux_logits") && error.to_string().contains("got 4×4"), "{error}");
    let vs = VarStore::new(Device::Cpu);
    let network = get_network("pnasnet_mobile", &vs, 7, 4e-5, 3, Some(96)).unwrap();
    assert!(matches!(network, Network::Pnasnet(_)));
    assert_eq!(vs.variable("final_layer/FC/weights").unwrap().shape(), [7, 1080]);
    assert_eq!(slim::nets::default_image_size("nasnet_large"), 331);
    assert_eq!(slim::nets::default_image_size("pnasnet_mobile"), 224);
}
