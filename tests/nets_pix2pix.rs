//! The pix2pix generator and discriminator of `models/research/slim/nets/pix2pix.py`: TF-Slim's variable names
//! under `pix2pix_arg_scope`, end-point shapes (the discriminator's 35×35 patch map for 256×256 images with four
//! layers, as `pix2pix_test.py` expects), parameter counts worked out from the published layer sizes, dropout
//! that stays on in eval mode, and errors for sizes the generator cannot take.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{
    Pix2pixBlock, Pix2pixDiscriminator, Pix2pixGenerator, Pix2pixUpsample, pix2pix_arg_scope, pix2pix_default_blocks,
};
use slim::prelude::*;

fn parameters(vs: &VarStore) -> i64 {
    vs.collection(TRAINABLE_VARIABLES).iter().map(|v| v.tensor().numel() as i64).sum()
}

fn generator(blocks: Vec<Pix2pixBlock>, upsample: Pix2pixUpsample) -> Pix2pixGenerator {
    Pix2pixGenerator { num_outputs: 3, blocks, upsample }
}

#[test]
fn the_default_generator_has_tf_slims_names_and_parameter_count() {
    let vs = VarStore::new(Device::Cpu);
    let _scope = pix2pix_arg_scope().enter();
    let net = generator(pix2pix_default_blocks(), Pix2pixUpsample::NearestNeighborConv);
    net.build(&vs, "Generator", &[1, 3, 128, 128]).unwrap();
    let names: Vec<String> = vs.variables().iter().map(|v| v.name().to_string()).collect();
    for name in [
        "Generator/encoder/Conv/biases",
        "Generator/encoder/Conv_1/InstanceNorm/gamma",
        "Generator/encoder/Conv_6/biases",
        "Generator/decoder/Conv/InstanceNorm/beta",
        "Generator/decoder/Conv_6/weights",
        "Generator/output/Conv/biases",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("Generator/encoder/Conv/InstanceNorm")), "no normalizer first");
    assert!(!names.iter().any(|n| n.starts_with("Generator/encoder/Conv_6/InstanceNorm")), "nor last");
    // Encoder: 4×4 convs 3→64 (biases), then 64→128→256→512→512→512 (instance norm's beta and gamma), the last
    // 512→512 with biases. Decoder: 4×4 convs from the concatenated channels (512, then 1024, 1024, 1024, 768,
    // 384, 192) to 512, 512, 512, 512, 256, 128, 64, each instance-normalized. Output: 4×4 64→3 with biases.
    let encoder = (3 * 64 * 16 + 64)
        + [(64, 128), (128, 256), (256, 512), (512, 512), (512, 512)]
            .iter()
            .map(|(i, o)| i * o * 16 + 2 * o)
            .sum::<i64>()
        + (512 * 512 * 16 + 512);
    let decoder: i64 = [(512, 512), (1024, 512), (1024, 512), (1024, 512), (768, 256), (384, 128), (192, 64)]
        .iter()
        .map(|(i, o)| i * o * 16 + 2 * o)
        .sum();
    let expected = encoder + decoder + 64 * 3 * 16 + 3;
    assert_eq!((parameters(&vs), expected), (48_839_875, 48_839_875));
}

#[test]
fn a_small_generator_mirrors_its_encoder_and_keeps_dropout_in_eval_mode() {
    let blocks = [(8, 0.5), (16, 0.5), (16, 0.0)]
        .map(|(num_filters, decoder_keep_prob)| Pix2pixBlock { num_filters, decoder_keep_prob })
        .to_vec();
    for upsample in [Pix2pixUpsample::NearestNeighborConv, Pix2pixUpsample::Conv2dTranspose] {
        let vs = VarStore::new(Device::Cpu);
        let _scope = pix2pix_arg_scope().enter();
        let net = generator(blocks.clone(), upsample).build(&vs, "Generator", &[1, 3, 32, 32]).unwrap();
        let images = Tensor::randn([2, 3, 32, 32], (Kind::Float, Device::Cpu));
        let out = net.forward_t(&images, Mode::Eval).unwrap();
        assert_eq!(out.output.size(), [2, 3, 32, 32]);
        let expected = [
            ("encoder0", [2, 8, 16, 16]),
            ("encoder1", [2, 16, 8, 8]),
            ("encoder2", [2, 16, 4, 4]),
            ("decoder0", [2, 16, 8, 8]),
            ("decoder1", [2, 16, 16, 16]),
            ("decoder2", [2, 8, 32, 32]),
            ("predictions", [2, 3, 32, 32]),
        ];
        for (name, shape) in expected {
            assert_eq!(out.end_points.get(name).unwrap_or_else(|| panic!("{name}")).size(), shape, "{name}");
        }
        let again = net.forward_t(&images, Mode::Eval).unwrap();
        assert!(!out.output.equal(&again.output), "{upsample:?}: the decoder's dropout runs in eval mode too");
        let upsampler = if upsample == Pix2pixUpsample::Conv2dTranspose { "Conv2d_transpose_1" } else { "Conv_1" };
        let names: Vec<String> = vs.variables().iter().map(|v| v.name().to_string()).collect();
        let name = format!("Generator/decoder/{upsampler}/InstanceNorm/gamma");
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
}

#[test]
fn the_discriminator_maps_256_pixels_to_35_patches() {
    let vs = VarStore::new(Device::Cpu);
    let _scope = pix2pix_arg_scope().enter();
    let net = Pix2pixDiscriminator { num_filters: vec![64, 128, 256, 512], padding: 2 };
    let net = net.build(&vs, "Discriminator", &[1, 3, 256, 256]).unwrap();
    let out = net.forward_t(&Tensor::randn([2, 3, 256, 256], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [2, 1, 35, 35]);
    let shapes: Vec<Vec<i64>> =
        ["conv0", "conv1", "conv2", "conv3"].iter().map(|name| out.end_points.get(name).unwrap().size()).collect();
    assert_eq!(shapes, [vec![2, 64, 129, 129], vec![2, 128, 65, 65], vec![2, 256, 33, 33], vec![2, 512, 34, 34]]);
    let names: Vec<String> = vs.variables().iter().map(|v| v.name().to_string()).collect();
    assert!(names.iter().any(|n| n == "Discriminator/conv0/biases"), "{names:?}");
    assert!(names.iter().any(|n| n == "Discriminator/conv3/InstanceNorm/gamma"), "{names:?}");
    assert!(names.iter().any(|n| n == "Discriminator/conv4/biases"), "{names:?}");
    let expected =
        (3 * 64 * 16 + 64) + (64 * 128 * 16 + 256) + (128 * 256 * 16 + 512) + (256 * 512 * 16 + 1024) + (512 * 16 + 1);
    assert_eq!(parameters(&vs), expected);
    let predictions = out.end_points.get("predictions").unwrap();
    assert!(predictions.allclose(&out.output.sigmoid(), 1e-6, 1e-6, false));
    let unpadded = Pix2pixDiscriminator { num_filters: vec![8, 8], padding: 0 };
    let out = unpadded.build(&VarStore::new(Device::Cpu), "d", &[1, 3, 32, 32]).unwrap();
    let logits = out.forward_t(&Tensor::zeros([1, 3, 32, 32], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(logits.output.size(), [1, 1, 9, 9], "VALID: 32 → 15 → 12 → 9 without padding");
}

#[test]
fn images_the_generator_cannot_take_are_errors() {
    for shape in [[1i64, 3, 32, 16], [1, 3, 36, 36]] {
        let vs = VarStore::new(Device::Cpu);
        let error = generator(pix2pix_default_blocks(), Pix2pixUpsample::default())
            .build(&vs, "Generator", &shape)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("pix2pix generator") && error.contains("2^7"), "{error}");
    }
    let error = Pix2pixDiscriminator { num_filters: vec![], padding: 2 }
        .build(&VarStore::new(Device::Cpu), "d", &[1, 3, 32, 32])
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("at least one layer"), "{error}");
}
