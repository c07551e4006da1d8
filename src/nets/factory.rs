//! `nets_factory`: the zoo's nets by TF-Slim's names, each built with its arg scope.

use std::path::Path;

use crate::model::{Built, ModelOutput, TorchScriptOptions};
use crate::nets::{
    AlexnetV2, CifarNet, CifarResNet, InceptionResnetV2, InceptionV1, InceptionV2, InceptionV3, InceptionV4, Lenet,
    MobilenetV1, MobilenetV2, MobilenetV3, MobilenetV3Version, Nasnet, Overfeat, Pnasnet, ResNet, ResNetDepth,
    ResNetVersion, S3dg, Vgg, VggDepth, alexnet_v2_arg_scope, cifarnet_arg_scope, i3d_arg_scope,
    inception_resnet_v2_arg_scope, inception_v1_arg_scope, inception_v2_arg_scope, inception_v3_arg_scope,
    inception_v4_arg_scope, lenet_arg_scope, mobilenet_training_scope, mobilenet_v1_arg_scope, nasnet_arg_scope,
    overfeat_arg_scope, resnet_arg_scope, s3dg_arg_scope, vgg_arg_scope,
};
use crate::prelude::*;

/// A zoo net built and ready, behind one type.
pub enum Network {
    /// `lenet`.
    Lenet(Built<Lenet>),
    /// `cifarnet`.
    CifarNet(Built<CifarNet>),
    /// `alexnet_v2`.
    AlexnetV2(Built<AlexnetV2>),
    /// `vgg_a`, `vgg_16`, `vgg_19`.
    Vgg(Built<Vgg>),
    /// `resnet_cifar_<6n+2>` and its widened `resnet_cifar_<6n+2>_x<k>` (version 2).
    CifarResNet(Built<CifarResNet>),
    /// `resnet_v1_50` … `resnet_v2_200`.
    ResNet(Built<ResNet>),
    /// `inception_v1`.
    InceptionV1(Built<InceptionV1>),
    /// `inception_v2`.
    InceptionV2(Built<InceptionV2>),
    /// `inception_v3` (its auxiliary logits are an end point).
    InceptionV3(Built<InceptionV3>),
    /// `inception_v4` (its auxiliary logits are an end point).
    InceptionV4(Built<InceptionV4>),
    /// `inception_resnet_v2` (its auxiliary logits are an end point).
    InceptionResnetV2(Built<InceptionResnetV2>),
    /// `mobilenet_v1`, `mobilenet_v1_075`, `mobilenet_v1_050`, `mobilenet_v1_025`.
    MobilenetV1(Built<MobilenetV1>),
    /// `mobilenet_v2`, `mobilenet_v2_140`, `mobilenet_v2_035`.
    MobilenetV2(Built<MobilenetV2>),
    /// `mobilenet_v3_large`, `mobilenet_v3_small`, their `_minimalistic` variants, `mobilenet_edgetpu`,
    /// `mobilenet_edgetpu_075`.
    MobilenetV3(Built<MobilenetV3>),
    /// `overfeat`.
    Overfeat(Built<Overfeat>),
    /// `i3d`, `s3dg`: video classifiers of `[N, C, T, H, W]` clips.
    S3dg(Built<S3dg>),
    /// `nasnet_cifar`, `nasnet_mobile`, `nasnet_large`.
    Nasnet(Built<Nasnet>),
    /// `pnasnet_mobile`, `pnasnet_large`.
    Pnasnet(Built<Pnasnet>),
}

/// `$body` with `$net` bound to the built net inside whichever variant `$network` is.
macro_rules! with_built_net {
    ($network:expr, $net:ident => $body:expr) => {
        match $network {
            Network::Lenet($net) => $body,
            Network::CifarNet($net) => $body,
            Network::AlexnetV2($net) => $body,
            Network::Vgg($net) => $body,
            Network::CifarResNet($net) => $body,
            Network::ResNet($net) => $body,
            Network::InceptionV1($net) => $body,
            Network::InceptionV2($net) => $body,
            Network::InceptionV3($net) => $body,
            Network::InceptionV4($net) => $body,
            Network::InceptionResnetV2($net) => $body,
            Network::MobilenetV1($net) => $body,
            Network::MobilenetV2($net) => $body,
            Network::MobilenetV3($net) => $body,
            Network::Overfeat($net) => $body,
            Network::S3dg($net) => $body,
            Network::Nasnet($net) => $body,
            Network::Pnasnet($net) => $body,
        }
    };
}

impl Network {
    /// Applies the net in `mode`; returns the logits.
    pub fn forward_t(&self, images: &Tensor, mode: Mode) -> Result<Tensor> {
        self.forward_with_end_points(images, mode).map(|out| out.output)
    }

    /// Applies the net in `mode`; returns the logits and every end point.
    pub fn forward_with_end_points(&self, images: &Tensor, mode: Mode) -> Result<ModelOutput> {
        with_built_net!(self, net => net.forward_t(images, mode))
    }

    /// Traces the net's eval-mode logits into a TorchScript file at `path`
    /// ([`Built::export_torchscript_with`](crate::model::Built::export_torchscript_with)).
    pub fn export_torchscript_with(&self, path: &Path, example: &Tensor, options: TorchScriptOptions) -> Result<()> {
        with_built_net!(self, net => net.export_torchscript_with(path, example, options))
    }
}

/// The names [`get_network`] knows (`resnet_cifar_20` stands for any `resnet_cifar_<6n+2>` and
/// `resnet_cifar_<6n+2>_x<k>`).
pub const NETWORK_NAMES: [&str; 41] = [
    "lenet",
    "cifarnet",
    "alexnet_v2",
    "overfeat",
    "vgg_a",
    "vgg_16",
    "vgg_19",
    "inception_v1",
    "inception_v2",
    "inception_v3",
    "inception_v4",
    "inception_resnet_v2",
    "mobilenet_v1",
    "mobilenet_v1_075",
    "mobilenet_v1_050",
    "mobilenet_v1_025",
    "mobilenet_v2",
    "mobilenet_v2_140",
    "mobilenet_v2_035",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "mobilenet_v3_large_minimalistic",
    "mobilenet_v3_small_minimalistic",
    "mobilenet_edgetpu",
    "mobilenet_edgetpu_075",
    "resnet_v1_50",
    "resnet_v1_101",
    "resnet_v1_152",
    "resnet_v1_200",
    "resnet_v2_50",
    "resnet_v2_101",
    "resnet_v2_152",
    "resnet_v2_200",
    "resnet_cifar_20",
    "i3d",
    "s3dg",
    "nasnet_cifar",
    "nasnet_mobile",
    "nasnet_large",
    "pnasnet_mobile",
    "pnasnet_large",
];

/// The frames of the example clip [`get_network`] builds `i3d` and `s3dg` from: any count of 9 or more gives the
/// same layers (the head pools 2 of the frames the base leaves), and 16 costs a quarter of TF-Slim's 64.
pub const VIDEO_FRAMES: i64 = 16;

/// The widest widening `resnet_cifar_<6n+2>_x<k>` takes (Zagoruyko and Komodakis's wide ResNets go to 10).
const MAX_CIFAR_RESNET_WIDENING: i64 = 16;

/// The deepest `resnet_cifar_<6n+2>` (He et al. trained 1202 layers on CIFAR-10), so that a mistyped name is an
/// error rather than a net of millions of layers.
const MAX_CIFAR_RESNET_DEPTH: usize = 1202;

/// The depth (8 to [`MAX_CIFAR_RESNET_DEPTH`]) and widening of `resnet_cifar_<6n+2>` (1) or
/// `resnet_cifar_<6n+2>_x<k>` (k from 2 to [`MAX_CIFAR_RESNET_WIDENING`]: 16·k, 32·k and 64·k filters), if `name` is
/// one.
fn cifar_resnet_shape(name: &str) -> Option<(usize, i64)> {
    let rest = name.strip_prefix("resnet_cifar_")?;
    let (depth, widening) = match rest.split_once("_x") {
        Some((depth, widening)) => (depth, widening.parse::<i64>().ok()?),
        None => (rest, 1),
    };
    let depth = depth.parse::<usize>().ok()?;
    let canonical = match widening {
        1 => format!("resnet_cifar_{depth}"),
        _ => format!("resnet_cifar_{depth}_x{widening}"),
    };
    let known = (8..=MAX_CIFAR_RESNET_DEPTH).contains(&depth)
        && (depth - 2) % 6 == 0
        && (1..=MAX_CIFAR_RESNET_WIDENING).contains(&widening);
    (known && canonical == name).then_some((depth, widening))
}

/// The ImageNet ResNet called `name` (`resnet_v1_50` … `resnet_v2_200`), if it is one.
fn resnet_named(name: &str, num_classes: i64) -> Option<ResNet> {
    let (version, layers) = match name.strip_prefix("resnet_v1_") {
        Some(layers) => (ResNetVersion::V1, layers),
        None => (ResNetVersion::V2, name.strip_prefix("resnet_v2_")?),
    };
    let depth = [ResNetDepth::R50, ResNetDepth::R101, ResNetDepth::R152, ResNetDepth::R200]
        .into_iter()
        .find(|depth| depth.layers().to_string() == layers)?;
    Some(ResNet::classifier(version, depth, Some(num_classes)))
}

/// TF-Slim's `network_fn.default_image_size`: the side the zoo net called `name` was made for (28 for lenet, 32
/// for cifarnet and the CIFAR ResNets, 299 for inception_v3, inception_v4 and inception_resnet_v2, 224 for the
/// ImageNet nets).
pub fn default_image_size(name: &str) -> i64 {
    match name {
        "lenet" => 28,
        "cifarnet" | "nasnet_cifar" => 32,
        "inception_v3" | "inception_v4" | "inception_resnet_v2" => 299,
        "nasnet_large" | "pnasnet_large" => 331,
        "overfeat" => 231,
        _ if name.starts_with("resnet_cifar_") => 32,
        _ => 224,
    }
}

/// TF-Slim's `nets_factory.get_network_fn(name, num_classes, weight_decay)`: the net built in `vs` under its
/// TF-Slim scope and arg scope, from images of `[1, channels, size, size]` (its default size when `size` is
/// `None`; clips of `[1, channels, VIDEO_FRAMES, size, size]` for `i3d` and `s3dg`). An unknown name is an error
/// listing the known ones.
pub fn get_network(
    name: &str,
    vs: &VarStore,
    num_classes: i64,
    weight_decay: f64,
    channels: i64,
    size: Option<i64>,
) -> Result<Network> {
    let side = size.unwrap_or_else(|| default_image_size(name));
    let shape = [1, channels, side, side];
    let vgg = |depth: VggDepth| -> Result<Network> {
        let net = Vgg { depth, num_classes: Some(num_classes), dropout_keep_prob: 0.5, spatial_squeeze: true };
        let built = crate::arg_scope!(vgg_arg_scope(weight_decay) => { net.build(vs, depth.scope(), &shape) })?;
        Ok(Network::Vgg(built))
    };
    let mobilenet = |depth_multiplier: f64| -> Result<Network> {
        let net = MobilenetV1::classifier(Some(num_classes), depth_multiplier);
        let scope = mobilenet_v1_arg_scope(weight_decay, 0.09);
        Ok(Network::MobilenetV1(crate::arg_scope!(scope => { net.build(vs, "MobilenetV1", &shape) })?))
    };
    let mobilenet_v2 = |net: MobilenetV2| -> Result<Network> {
        let scope = mobilenet_training_scope(weight_decay, 0.09, 0.997);
        Ok(Network::MobilenetV2(crate::arg_scope!(scope => { net.build(vs, "MobilenetV2", &shape) })?))
    };
    // TF-Slim's EdgeTPU 0.75 keeps its last conv at 1280 (`finegrain_classification_mode`).
    let mobilenet_v3 = |version: MobilenetV3Version, depth_multiplier: f64| -> Result<Network> {
        let net = MobilenetV3 {
            finegrain_classification_mode: depth_multiplier < 1.0,
            ..MobilenetV3::classifier(version, Some(num_classes), depth_multiplier)
        };
        let scope = mobilenet_training_scope(weight_decay, 0.09, 0.997);
        Ok(Network::MobilenetV3(crate::arg_scope!(scope => { net.build(vs, version.default_scope(), &shape) })?))
    };
    // A NASNet in no scope, as TF-Slim builds it, with its arg scope's batch-norm settings.
    let nasnet = |net: Nasnet, (decay, epsilon): (f64, f64)| -> Result<Network> {
        let scope = nasnet_arg_scope(weight_decay, decay, epsilon);
        Ok(Network::Nasnet(crate::arg_scope!(scope => { net.build(vs, "", &shape) })?))
    };
    // An Inception net: its type's classifier, built inside its arg scope under its type's name (TF-Slim's scope).
    macro_rules! inception {
        ($net:ident, $arg_scope:ident) => {{
            let net = $net::classifier(Some(num_classes));
            let scope = $arg_scope(weight_decay);
            Ok(Network::$net(crate::arg_scope!(scope => { net.build(vs, stringify!($net), &shape) })?))
        }};
    }
    match name {
        "lenet" => {
            let net = Lenet { num_classes: Some(num_classes), dropout_keep_prob: 0.5 };
            Ok(Network::Lenet(crate::arg_scope!(lenet_arg_scope(weight_decay) => { net.build(vs, "LeNet", &shape) })?))
        }
        "cifarnet" => {
            let net = CifarNet { num_classes: Some(num_classes), dropout_keep_prob: 0.5 };
            let built = crate::arg_scope!(cifarnet_arg_scope(weight_decay) => { net.build(vs, "CifarNet", &shape) })?;
            Ok(Network::CifarNet(built))
        }
        "alexnet_v2" => {
            let net = AlexnetV2 { num_classes: Some(num_classes), dropout_keep_prob: 0.5, spatial_squeeze: true };
            let scope = alexnet_v2_arg_scope(weight_decay);
            Ok(Network::AlexnetV2(crate::arg_scope!(scope => { net.build(vs, "alexnet_v2", &shape) })?))
        }
        "overfeat" => {
            let net = Overfeat { num_classes: Some(num_classes), dropout_keep_prob: 0.5, spatial_squeeze: true };
            let scope = overfeat_arg_scope(weight_decay);
            Ok(Network::Overfeat(crate::arg_scope!(scope => { net.build(vs, "overfeat", &shape) })?))
        }
        "vgg_a" => vgg(VggDepth::A),
        "vgg_16" => vgg(VggDepth::D16),
        "vgg_19" => vgg(VggDepth::E19),
        "mobilenet_v1" => mobilenet(1.0),
        "mobilenet_v1_075" => mobilenet(0.75),
        "mobilenet_v1_050" => mobilenet(0.5),
        "mobilenet_v1_025" => mobilenet(0.25),
        "mobilenet_v2" => mobilenet_v2(MobilenetV2::classifier(Some(num_classes), 1.0)),
        "mobilenet_v2_140" => mobilenet_v2(MobilenetV2::classifier(Some(num_classes), 1.4)),
        "mobilenet_v2_035" => mobilenet_v2(MobilenetV2 {
            finegrain_classification_mode: true,
            ..MobilenetV2::classifier(Some(num_classes), 0.35)
        }),
        "mobilenet_v3_large" => mobilenet_v3(MobilenetV3Version::Large, 1.0),
        "mobilenet_v3_small" => mobilenet_v3(MobilenetV3Version::Small, 1.0),
        "mobilenet_v3_large_minimalistic" => mobilenet_v3(MobilenetV3Version::LargeMinimalistic, 1.0),
        "mobilenet_v3_small_minimalistic" => mobilenet_v3(MobilenetV3Version::SmallMinimalistic, 1.0),
        "mobilenet_edgetpu" => mobilenet_v3(MobilenetV3Version::EdgeTpu, 1.0),
        "mobilenet_edgetpu_075" => mobilenet_v3(MobilenetV3Version::EdgeTpu, 0.75),
        "inception_v1" => inception!(InceptionV1, inception_v1_arg_scope),
        "inception_v2" => inception!(InceptionV2, inception_v2_arg_scope),
        "inception_v3" => inception!(InceptionV3, inception_v3_arg_scope),
        "inception_v4" => inception!(InceptionV4, inception_v4_arg_scope),
        "inception_resnet_v2" => inception!(InceptionResnetV2, inception_resnet_v2_arg_scope),
        "nasnet_cifar" => nasnet(Nasnet::cifar(Some(num_classes)), (0.9, 1e-5)),
        "nasnet_mobile" => nasnet(Nasnet::mobile(Some(num_classes)), (0.9997, 1e-3)),
        "nasnet_large" => nasnet(Nasnet::large(Some(num_classes)), (0.9997, 1e-3)),
        "pnasnet_mobile" | "pnasnet_large" => {
            let net = match name {
                "pnasnet_mobile" => Pnasnet::mobile(Some(num_classes)),
                _ => Pnasnet::large(Some(num_classes)),
            };
            let scope = nasnet_arg_scope(weight_decay, 0.9997, 1e-3);
            Ok(Network::Pnasnet(crate::arg_scope!(scope => { net.build(vs, "", &shape) })?))
        }
        "i3d" | "s3dg" => {
            let clip = [1, channels, VIDEO_FRAMES, side, side];
            let (net, scope) = match name {
                "i3d" => (S3dg::i3d(Some(num_classes)), i3d_arg_scope(weight_decay, 0.999, 0.001, false)),
                _ => (S3dg::classifier(Some(num_classes)), s3dg_arg_scope(weight_decay, 0.999, 0.001)),
            };
            Ok(Network::S3dg(crate::arg_scope!(scope => { net.build(vs, "InceptionV1", &clip) })?))
        }
        other => match (resnet_named(other, num_classes), cifar_resnet_shape(other)) {
            (Some(net), _) => {
                let scope = net.default_scope();
                let arg_scope = resnet_arg_scope(weight_decay);
                Ok(Network::ResNet(crate::arg_scope!(arg_scope => { net.build(vs, &scope, &shape) })?))
            }
            (None, Some((depth, widening))) => {
                let filters = 16 * widening;
                let net = CifarResNet { n: (depth - 2) / 6, filters, version: 2, num_classes, weight_decay };
                Ok(Network::CifarResNet(net.build(vs, other, &shape)?))
            }
            _ => Err(Error::invalid(
                "nets_factory",
                format!(
                    "unknown network {other:?}; known: {} (any resnet_cifar_<6n+2> up to 1202, widened by _x<2..16>)",
                    NETWORK_NAMES.join(", ")
                ),
            )),
        },
    }
}
