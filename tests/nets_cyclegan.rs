//! The CycleGAN generator of `models/research/slim/nets/cyclegan.py`: TF-Slim's variable names under
//! `cyclegan_arg_scope`, end-point shapes, the parameter count worked out from the published layer sizes, the
//! input stage's numerics (reflection padding, VALID convolution, instance norm with epsilon 0.001, ReLU), and
//! the published error for sizes that are not multiples of 4.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{CycleganGenerator, cyclegan_arg_scope};
use slim::prelude::*;

fn build(vs: &VarStore, generator: &CycleganGenerator, shape: &[i64]) -> Result<Built<CycleganGenerator>> {
    let _scope = cyclegan_arg_scope(0.0).enter();
    generator.clone().build(vs, "Generator", shape)
}

#[test]
fn the_generator_keeps_the_image_shape_with_tf_slims_names_and_end_points() {
    let vs = VarStore::new(Device::Cpu);
    let generator = build(&vs, &CycleganGenerator::default(), &[1, 3, 32, 32]).unwrap();
    let names: Vec<String> = vs.variables().iter().map(|v| v.name().to_string()).collect();
    for name in [
        "Generator/input/Conv/weights",
        "Generator/input/Conv/InstanceNorm/beta",
        "Generator/input/Conv/InstanceNorm/gamma",
        "Generator/encoder/Conv/weights",
        "Generator/encoder/Conv_1/InstanceNorm/gamma",
        "Generator/residual_blocks/block_0/Conv/weights",
        "Generator/residual_blocks/block_5/Conv_1/InstanceNorm/beta",
        "Generator/decoder/decoder1/upconv/Conv2d_transpose/weights",
        "Generator/decoder/decoder2/upconv/Conv2d_transpose/biases",
        "Generator/output/Conv/weights",
        "Generator/output/Conv/biases",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
    }
    assert_eq!(names.len(), 51, "{names:?}");
    // input 7×7 3→64, encoder 3×3 64→128→256, 12 residual 3×3 256→256 (each with instance norm's beta and
    // gamma), decoder transposed 3×3 256→128→64 with biases, output 7×7 64→3 with biases.
    let expected = (3 * 64 * 49 + 128)
        + (64 * 128 * 9 + 256)
        + (128 * 256 * 9 + 512)
        + 12 * (256 * 256 * 9 + 512)
        + (256 * 128 * 9 + 128)
        + (128 * 64 * 9 + 64)
        + (64 * 3 * 49 + 3);
    let parameters: i64 = vs.collection(TRAINABLE_VARIABLES).iter().map(|v| v.tensor().numel() as i64).sum();
    assert_eq!((parameters, expected), (7_841_219, 7_841_219));

    let images = Tensor::rand([2, 3, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
    let out = generator.forward_t(&images, Mode::Train).unwrap();
    assert_eq!(out.output.size(), [2, 3, 32, 32]);
    let shapes: Vec<(&str, Vec<i64>)> = [
        ("encoder_0", [2, 64, 32, 32]),
        ("encoder_1", [2, 128, 16, 16]),
        ("encoder_2", [2, 256, 8, 8]),
        ("resnet_block_5", [2, 256, 8, 8]),
        ("decoder1", [2, 128, 16, 16]),
        ("decoder2", [2, 64, 32, 32]),
        ("logits", [2, 3, 32, 32]),
        ("predictions", [2, 3, 32, 32]),
    ]
    .into_iter()
    .map(|(name, shape)| (name, shape.to_vec()))
    .collect();
    for (name, shape) in shapes {
        let tensor = out.end_points.get(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(tensor.size(), shape, "{name}");
    }
    let predictions = out.end_points.get("predictions").unwrap();
    assert!(predictions.allclose(&out.end_points.get("logits").unwrap().tanh(), 1e-6, 1e-6, false));

    // The input stage: reflection padding by 3, a 7×7 VALID convolution without biases, instance norm over each
    // example's channel (epsilon 0.001; gamma 1 and beta 0 at initialization), ReLU.
    let weights = vs.variables().into_iter().find(|v| v.name() == "Generator/input/Conv/weights").unwrap();
    let linear =
        images.reflection_pad2d([3, 3, 3, 3]).conv2d::<Tensor>(weights.tensor(), None, [1, 1], [0, 0], [1, 1], 1);
    let mean = linear.mean_dim(&[2i64, 3][..], true, Kind::Float);
    let variance = (&linear - &mean).square().mean_dim(&[2i64, 3][..], true, Kind::Float);
    let expected = ((&linear - &mean) / (variance + 0.001).sqrt()).relu();
    let encoder_0 = out.end_points.get("encoder_0").unwrap();
    assert!(encoder_0.allclose(&expected, 1e-4, 1e-4, false), "{}", (encoder_0 - &expected).abs().max());
}

#[test]
fn sizes_that_are_not_multiples_of_four_are_errors() {
    for shape in [[1i64, 3, 30, 32], [1, 3, 32, 18]] {
        let vs = VarStore::new(Device::Cpu);
        let error = build(&vs, &CycleganGenerator::default(), &shape).err().unwrap().to_string();
        assert!(error.contains("cyclegan") && error.contains("multiples of 4"), "{error}");
    }
    let vs = VarStore::new(Device::Cpu);
    let two_blocks = CycleganGenerator { num_resnet_blocks: 2, num_filters: 8, ..CycleganGenerator::default() };
    let out = build(&vs, &two_blocks, &[1, 1, 12, 20])
        .unwrap()
        .forward_t(&Tensor::zeros([1, 1, 12, 20], (Kind::Float, Device::Cpu)), Mode::Eval);
    assert_eq!(out.unwrap().output.size(), [1, 1, 12, 20], "a rectangular image of one channel keeps its shape");
}
