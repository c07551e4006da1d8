//! The DCGAN generator and discriminator of `models/research/slim/nets/dcgan.py`: TF-Slim's variable names and
//! shapes, end-point shapes at the default sizes (as `dcgan_test.py` checks them), parameter counts worked out
//! from the published layer sizes, and the published errors for sizes the nets cannot take.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{DcganDiscriminator, DcganGenerator};
use slim::prelude::*;

fn parameters(vs: &VarStore) -> i64 {
    vs.collection(TRAINABLE_VARIABLES).iter().map(|v| v.tensor().numel() as i64).sum()
}

fn names(vs: &VarStore) -> Vec<String> {
    vs.variables().iter().map(|v| v.name().to_string()).collect()
}

fn end_point_shapes(out: &ModelOutput, names: &[&str]) -> Vec<Vec<i64>> {
    names.iter().map(|name| out.end_points.get(name).unwrap_or_else(|| panic!("{name}")).size()).collect()
}

#[test]
fn the_generator_doubles_a_code_up_to_final_size_images_with_tf_slims_names() {
    let vs = VarStore::new(Device::Cpu);
    let generator = DcganGenerator::default().build(&vs, "Generator", &[1, 64]).unwrap();
    let codes = Tensor::randn([2, 64], (Kind::Float, Device::Cpu));
    let out = generator.forward_t(&codes, Mode::Train).unwrap();
    assert_eq!(out.output.size(), [2, 3, 32, 32]);
    let layers =
        ["Generator/deconv1", "Generator/deconv2", "Generator/deconv3", "Generator/deconv4", "Generator/logits"];
    let shapes = end_point_shapes(&out, &layers);
    assert_eq!(
        shapes,
        [vec![2, 512, 4, 4], vec![2, 256, 8, 8], vec![2, 128, 16, 16], vec![2, 64, 32, 32], vec![2, 3, 32, 32]]
    );
    let names = names(&vs);
    for name in [
        "Generator/deconv1/weights",
        "Generator/deconv1/BatchNorm/beta",
        "Generator/deconv1/BatchNorm/Generator/deconv1/BatchNorm/moving_mean/biased",
        "Generator/deconv1/BatchNorm/Generator/deconv1/BatchNorm/moving_mean/local_step",
        "Generator/deconv3/BatchNorm/moving_variance",
        "Generator/deconv4/biases",
        "Generator/logits/weights",
        "Generator/logits/biases",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("Generator/deconv4/BatchNorm")), "the last deconv has no normalizer");
    assert!(!names.iter().any(|n| n == "Generator/deconv1/biases"), "normalized layers have no biases");
    // deconv1 64→512, deconv2 512→256, deconv3 256→128 (4×4, betas), deconv4 128→64 with biases, logits 64→3.
    let expected = 64 * 512 * 16 + 512 + 512 * 256 * 16 + 256 + 256 * 128 * 16 + 128 + 128 * 64 * 16 + 64 + 64 * 3 + 3;
    assert_eq!(parameters(&vs), expected);
    assert_eq!(expected, 3_277_955);

    let vs = VarStore::new(Device::Cpu);
    let larger = DcganGenerator { depth: 32, final_size: 64, num_outputs: 1 };
    let out = larger
        .build(&vs, "Generator", &[1, 16])
        .unwrap()
        .forward_t(&Tensor::randn([3, 16], (Kind::Float, Device::Cpu)), Mode::Eval);
    let out = out.unwrap();
    assert_eq!(out.output.size(), [3, 1, 64, 64]);
    assert_eq!(out.end_points.get("Generator/deconv1").unwrap().size(), [3, 32 * 16, 4, 4], "5 layers for 64×64");
}

#[test]
fn the_discriminator_halves_square_images_down_to_one_logit() {
    let vs = VarStore::new(Device::Cpu);
    let discriminator = DcganDiscriminator::default().build(&vs, "Discriminator", &[1, 3, 32, 32]).unwrap();
    let images = Tensor::randn([2, 3, 32, 32], (Kind::Float, Device::Cpu));
    let out = discriminator.forward_t(&images, Mode::Train).unwrap();
    assert_eq!(out.output.size(), [2, 1]);
    let layers = [
        "Discriminator/conv1",
        "Discriminator/conv2",
        "Discriminator/conv3",
        "Discriminator/conv4",
        "Discriminator/conv5",
    ];
    let shapes = end_point_shapes(&out, &layers);
    assert_eq!(
        shapes,
        [vec![2, 64, 16, 16], vec![2, 128, 8, 8], vec![2, 256, 4, 4], vec![2, 512, 2, 2], vec![2, 1024, 1, 1]]
    );
    let names = names(&vs);
    for name in [
        "Discriminator/conv1/biases",
        "Discriminator/conv2/BatchNorm/Discriminator/conv2/BatchNorm/moving_mean/biased",
        "Discriminator/Conv/weights",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("Discriminator/conv1/BatchNorm")), "the first conv has no normalizer");
    let expected = 3 * 64 * 16
        + 64
        + 64 * 128 * 16
        + 128
        + 128 * 256 * 16
        + 256
        + 256 * 512 * 16
        + 512
        + 512 * 1024 * 16
        + 1024
        + 1024
        + 1;
    assert_eq!(parameters(&vs), expected);
    // conv1: TF's SAME padding for a 4×4 window at stride 2 on 32 pixels is 1 on each side; leaky ReLU with TF's
    // slope, 0.2.
    let variable = |name: &str| vs.variables().into_iter().find(|v| v.name() == name).unwrap().tensor().shallow_clone();
    let (weights, biases) = (variable("Discriminator/conv1/weights"), variable("Discriminator/conv1/biases"));
    let linear = images.conv2d(&weights, Some(&biases), [2, 2], [1, 1], [1, 1], 1);
    let expected = linear.maximum(&(&linear * 0.2));
    let conv1 = out.end_points.get("Discriminator/conv1").unwrap();
    assert!(conv1.allclose(&expected, 1e-5, 1e-5, false), "conv1 is leaky_relu(conv(x)) with slope 0.2");
    assert!(linear.lt(0.0).any().int64_value(&[]) == 1, "some pre-activations are negative");
}

#[test]
fn sizes_the_nets_cannot_take_are_errors_naming_the_net_and_the_size() {
    for final_size in [24, 4, 0] {
        let vs = VarStore::new(Device::Cpu);
        let error = DcganGenerator { final_size, ..DcganGenerator::default() }
            .build(&vs, "Generator", &[1, 64])
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("dcgan generator") && error.contains(&format!("got {final_size}")), "{error}");
    }
    let vs = VarStore::new(Device::Cpu);
    let error = DcganGenerator::default().build(&vs, "Generator", &[1, 64, 1]).err().unwrap().to_string();
    assert!(error.contains("codes [batch, n]"), "{error}");
    for shape in [[1i64, 3, 32, 16], [1, 3, 24, 24]] {
        let vs = VarStore::new(Device::Cpu);
        let error = DcganDiscriminator::default().build(&vs, "Discriminator", &shape).err().unwrap().to_string();
        assert!(error.contains("dcgan discriminator") && error.contains(&format!("{shape:?}")), "{error}");
    }
}
