//! The zoo through `get_network`: TF-Slim's scopes and names, parameter counts, what each arg scope sets, and the
//! error for an unknown name.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{Network, get_network};
use slim::prelude::*;

fn parameters(vs: &VarStore) -> i64 {
    vs.num_model_parameters()
}

#[test]
fn lenet_and_cifarnet_have_tf_slims_names_and_sizes() {
    let vs = VarStore::new(Device::Cpu);
    let lenet = get_network("lenet", &vs, 10, 0.0, 1, None).unwrap();
    assert_eq!(vs.variable("LeNet/conv2/weights").unwrap().shape(), [64, 32, 5, 5]);
    assert_eq!(vs.variable("LeNet/fc3/weights").unwrap().shape(), [1024, 7 * 7 * 64]);
    assert_eq!(parameters(&vs), 832 + 51_264 + 3_212_288 + 10_250);
    let logits = lenet.forward_t(&Tensor::zeros([2, 1, 28, 28], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(logits.size(), [2, 10]);

    let vs = VarStore::new(Device::Cpu);
    let cifarnet = get_network("cifarnet", &vs, 10, 0.004, 3, None).unwrap();
    assert!(matches!(cifarnet, Network::CifarNet(_)));
    assert_eq!(parameters(&vs), 4_864 + 102_464 + 1_573_248 + 73_920 + 1_930);
    // cifarnet_arg_scope: fully connected biases start at 0.1 and carry l2 decay; the logits override both.
    let fc3_biases = vs.variable("CifarNet/fc3/biases").unwrap().tensor().mean(Kind::Float).double_value(&[]);
    assert!((fc3_biases - 0.1).abs() < 1e-6);
    assert_eq!(vs.variable("CifarNet/logits/biases").unwrap().tensor().abs().sum(Kind::Float).double_value(&[]), 0.0);
    let regularized: Vec<String> = vs.regularization_losses().iter().map(|l| l.name().to_string()).collect();
    assert_eq!(regularized, ["CifarNet/fc3/weights/Regularizer", "CifarNet/fc4/weights/Regularizer"]);
    let logits = cifarnet.forward_t(&Tensor::rand([2, 3, 32, 32], (Kind::Float, Device::Cpu)), Mode::Train).unwrap();
    assert_eq!(logits.size(), [2, 10]);
}

#[test]
fn resnets_by_depth_and_unknown_names() {
    let vs = VarStore::new(Device::Cpu);
    get_network("resnet_cifar_20", &vs, 10, 2e-4, 3, None).unwrap();
    assert!(vs.variable("resnet_cifar_20/stage3/block2/conv2/weights").is_some());
    let err = get_network("inception_v9", &vs, 10, 0.0, 3, None).err().unwrap().to_string();
    assert!(err.contains("unknown network \"inception_v9\"") && err.contains("lenet, cifarnet, alexnet_v2"), "{err}");
    assert!(get_network("resnet_cifar_21", &vs, 10, 0.0, 3, None).is_err());
    // He et al.'s deepest CIFAR net is the limit: a mistyped depth is an error, not millions of layers.
    let err = get_network("resnet_cifar_120002", &vs, 10, 0.0, 3, None).err().unwrap().to_string();
    assert!(err.contains("unknown network \"resnet_cifar_120002\"") && err.contains("up to 1202"), "{err}");
}

#[test]
fn widened_cifar_resnets_have_k_times_the_filters() {
    let vs = VarStore::new(Device::Cpu);
    let net = get_network("resnet_cifar_8_x2", &vs, 10, 2e-4, 3, None).unwrap();
    assert_eq!(vs.variable("resnet_cifar_8_x2/conv1/weights").unwrap().shape(), [32, 3, 3, 3]);
    assert_eq!(vs.variable("resnet_cifar_8_x2/stage3/block0/conv2/weights").unwrap().shape(), [128, 128, 3, 3]);
    assert_eq!(vs.variable("resnet_cifar_8_x2/logits/weights").unwrap().shape(), [10, 128]);
    let logits = net.forward_t(&Tensor::rand([2, 3, 28, 28], (Kind::Float, Device::Cpu)), Mode::Train).unwrap();
    assert_eq!(logits.size(), [2, 10]);
    // One spelling per net: no "_x1" (that is resnet_cifar_8), no leading zeros, nothing past the widest.
    for name in
        ["resnet_cifar_8_x1", "resnet_cifar_8_x02", "resnet_cifar_8_x17", "resnet_cifar_8_x", "resnet_cifar_9_x2"]
    {
        let err = get_network(name, &VarStore::new(Device::Cpu), 10, 0.0, 3, None).err().unwrap().to_string();
        assert!(err.contains("unknown network") && err.contains("_x<2..16>"), "{name}: {err}");
    }
}

#[test]
fn alexnet_v2_has_tf_slims_shapes() {
    let vs = VarStore::new(Device::Cpu);
    let net = get_network("alexnet_v2", &vs, 1000, 5e-4, 3, None).unwrap();
    assert_eq!(vs.variable("alexnet_v2/conv1/weights").unwrap().shape(), [64, 3, 11, 11]);
    assert_eq!(vs.variable("alexnet_v2/fc6/weights").unwrap().shape(), [4096, 256, 5, 5]);
    let conv = |o: i64, i: i64, k: i64| o * i * k * k + o;
    let expected = conv(64, 3, 11)
        + conv(192, 64, 5)
        + conv(384, 192, 3)
        + conv(384, 384, 3)
        + conv(256, 384, 3)
        + conv(4096, 256, 5)
        + conv(4096, 4096, 1)
        + conv(1000, 4096, 1);
    assert_eq!(parameters(&vs), expected);
    let bias = vs.variable("alexnet_v2/fc6/biases").unwrap().tensor().mean(Kind::Float).double_value(&[]);
    assert!((bias - 0.1).abs() < 1e-6);
    assert_eq!(vs.variable("alexnet_v2/fc8/biases").unwrap().tensor().abs().sum(Kind::Float).double_value(&[]), 0.0);
    let logits = net.forward_t(&Tensor::zeros([1, 3, 224, 224], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(logits.size(), [1, 1000]);
}

/// TF-Slim's `overfeat`: its variables (145,704,424 parameters at 1,000 classes), its end points (TF-Slim's
/// overfeat_test `testEndPoints`, plus slim's recorded dropouts), logits at 231×231, and an input too small for
/// `fc6`'s 6×6 window refused naming the layer.
#[test]
fn overfeat_has_tf_slims_shapes_and_end_points() {
    let vs = VarStore::new(Device::Cpu);
    let Network::Overfeat(net) = get_network("overfeat", &vs, 1000, 5e-4, 3, None).unwrap() else { unreachable!() };
    assert_eq!(parameters(&vs), 145_704_424);
    assert_eq!(vs.variable("overfeat/fc6/weights").unwrap().shape(), [3072, 1024, 6, 6]);
    let bias = |name: &str| vs.variable(name).unwrap().tensor().mean(Kind::Float).double_value(&[]);
    assert_eq!((bias("overfeat/conv1/biases"), bias("overfeat/fc8/biases")), (0.0, 0.0));
    assert!((bias("overfeat/fc7/biases") - 0.1).abs() < 1e-6);
    let out = net.forward_t(&Tensor::zeros([2, 3, 231, 231], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [2, 1000]);
    let names: Vec<&str> = out.end_points.names().collect();
    let expected = [
        "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "dropout6", "fc7", "dropout7",
        "fc8",
    ];
    assert_eq!(names, expected.map(|name| format!("overfeat/{name}")));
    assert_eq!(out.end_points.get("pool5").map(Tensor::size), Some(vec![2, 1024, 6, 6]));

    let vs = VarStore::new(Device::Cpu);
    let small = get_network("overfeat", &vs, 10, 0.0, 3, Some(224)).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(small.contains("overfeat/fc6"), "{small}");
}

#[test]
fn without_num_classes_the_nets_return_their_pre_logit_features() {
    use slim::nets::{AlexnetV2, CifarNet, Lenet, Vgg, VggDepth, vgg_arg_scope};
    let rand = |shape: &[i64]| Tensor::rand(shape, (Kind::Float, Device::Cpu));
    let vs = VarStore::new(Device::Cpu);
    let lenet = Lenet { num_classes: None, dropout_keep_prob: 0.5 }.build(&vs, "LeNet", &[1, 1, 28, 28]).unwrap();
    assert_eq!(lenet.forward_t(&rand(&[2, 1, 28, 28]), Mode::Train).unwrap().output.size(), [2, 1024]);
    assert!(vs.variable("LeNet/fc4/weights").is_none());

    let vs = VarStore::new(Device::Cpu);
    let cifarnet = CifarNet { num_classes: None, dropout_keep_prob: 0.5 }.build(&vs, "CifarNet", &[1, 3, 32, 32]);
    assert_eq!(cifarnet.unwrap().forward_t(&rand(&[2, 3, 32, 32]), Mode::Eval).unwrap().output.size(), [2, 192]);
    assert!(vs.variable("CifarNet/logits/weights").is_none());

    let vs = VarStore::new(Device::Cpu);
    let alexnet = AlexnetV2 { num_classes: None, dropout_keep_prob: 0.5, spatial_squeeze: true };
    let alexnet = alexnet.build(&vs, "alexnet_v2", &[1, 3, 224, 224]).unwrap();
    assert_eq!(alexnet.forward_t(&rand(&[1, 3, 224, 224]), Mode::Eval).unwrap().output.size(), [1, 4096, 1, 1]);
    assert!(vs.variable("alexnet_v2/fc8/weights").is_none());

    let vs = VarStore::new(Device::Cpu);
    let vgg = Vgg { depth: VggDepth::A, num_classes: None, dropout_keep_prob: 0.5, spatial_squeeze: true };
    let vgg = arg_scope!(vgg_arg_scope(5e-4) => { vgg.build(&vs, "vgg_a", &[1, 3, 224, 224]) }).unwrap();
    assert_eq!(vgg.forward_t(&rand(&[1, 3, 224, 224]), Mode::Eval).unwrap().output.size(), [1, 4096, 1, 1]);
    assert!(vs.variable("vgg_a/fc8/weights").is_none() && vs.variable("vgg_a/fc7/weights").is_some());
}

/// TF-Slim's classification end points: `Logits` and `Predictions` (the softmax over the classes) for lenet,
/// cifarnet and mobilenet_v1; resnet's lowercase `predictions` (vgg and alexnet_v2 have neither in TF-Slim).
#[test]
fn classifiers_name_their_logits_and_predictions_as_tf_slim_does() {
    let cases = [
        ("lenet", 1, 28, Some("Logits"), "Predictions"),
        ("cifarnet", 3, 32, Some("Logits"), "Predictions"),
        ("mobilenet_v1_025", 3, 64, Some("Logits"), "Predictions"),
        ("resnet_v1_50", 3, 64, None, "predictions"),
        ("resnet_v2_50", 3, 64, None, "predictions"),
    ];
    for (name, channels, side, logits_key, predictions_key) in cases {
        let vs = VarStore::new(Device::Cpu);
        let images = (Tensor::arange(2 * channels * side * side, (Kind::Float, Device::Cpu)) * 0.1).sin();
        let images = images.view([2, channels, side, side]);
        let out = match get_network(name, &vs, 7, 0.0, channels, Some(side)).unwrap() {
            Network::Lenet(net) => net.forward_t(&images, Mode::Eval).unwrap(),
            Network::CifarNet(net) => net.forward_t(&images, Mode::Eval).unwrap(),
            Network::MobilenetV1(net) => net.forward_t(&images, Mode::Eval).unwrap(),
            Network::ResNet(net) => net.forward_t(&images, Mode::Eval).unwrap(),
            _ => unreachable!("{name}"),
        };
        let classes = match out.output.dim() {
            2 => out.output.shallow_clone(),
            _ => out.output.flatten(1, -1),
        };
        if let Some(key) = logits_key {
            assert!(out.end_points.get(key).unwrap().equal(&out.output), "{name}");
        }
        let predictions = out.end_points.get(predictions_key).unwrap_or_else(|| panic!("{name}: {predictions_key}"));
        let expected = classes.softmax(-1, Kind::Float).view(&out.output.size()[..]);
        assert!(predictions.allclose(&expected, 1e-6, 1e-7, false), "{name}");
        let sums = predictions.flatten(1, -1).sum_dim_intlist(&[1i64][..], false, Kind::Float);
        assert!(sums.allclose(&Tensor::ones([2], (Kind::Float, Device::Cpu)), 1e-5, 1e-6, false), "{name}");
    }
}
