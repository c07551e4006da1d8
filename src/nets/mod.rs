//! The model zoo, written with slim's own macros.

mod alexnet;
mod cifar_resnet;
mod cifarnet;
mod cyclegan;
mod dcgan;
mod factory;
mod i3d_blocks;
mod inception_blocks;
mod inception_resnet_v2;
mod inception_v1;
mod inception_v2;
mod inception_v3;
mod inception_v4;
mod lenet;
mod logits;
mod mobilenet_base;
mod mobilenet_blocks;
mod mobilenet_v1;
mod mobilenet_v2;
mod mobilenet_v3;
mod nasnet;
mod nasnet_cell;
mod overfeat;
mod pix2pix;
mod pnasnet;
mod resnet;
mod resnet_utils;
mod s3dg;
mod thinning;
mod vgg;

pub use alexnet::{AlexnetV2, alexnet_v2_arg_scope};
pub use cifar_resnet::{CifarResNet, resnet_block};
pub use cifarnet::{CifarNet, cifarnet_arg_scope};
pub use cyclegan::{CycleganGenerator, cyclegan_arg_scope};
pub use dcgan::{DcganDiscriminator, DcganGenerator};
pub use factory::{NETWORK_NAMES, Network, VIDEO_FRAMES, default_image_size, get_network};
pub use inception_resnet_v2::{InceptionResnetV2, inception_resnet_v2_arg_scope};
pub use inception_v1::{InceptionV1, inception_v1_arg_scope};
pub use inception_v2::{InceptionV2, inception_v2_arg_scope};
pub use inception_v3::{InceptionV3, inception_v3_arg_scope};
pub use inception_v4::{InceptionV4, inception_v4_arg_scope};
pub use lenet::{Lenet, lenet_arg_scope};
pub use mobilenet_base::mobilenet_training_scope;
pub use mobilenet_v1::{MobilenetV1, mobilenet_v1_arg_scope};
pub use mobilenet_v2::MobilenetV2;
pub use mobilenet_v3::{MobilenetV3, MobilenetV3Version};
pub use nasnet::{Nasnet, NasnetConfig, NasnetStem, nasnet_arg_scope};
pub use overfeat::{Overfeat, overfeat_arg_scope};
pub use pix2pix::{
    Pix2pixBlock, Pix2pixDiscriminator, Pix2pixGenerator, Pix2pixUpsample, pix2pix_arg_scope, pix2pix_default_blocks,
};
pub use pnasnet::Pnasnet;
pub use resnet::{ResNet, ResNetDepth, ResNetVersion, bottleneck_v1, bottleneck_v2, torchvision_resnet_map};
pub use resnet_utils::{conv2d_same, resnet_arg_scope, subsample};
pub use s3dg::{S3dg, i3d_arg_scope, s3dg_arg_scope};
pub use vgg::{Vgg, VggDepth, torchvision_vgg_map, vgg_arg_scope};
