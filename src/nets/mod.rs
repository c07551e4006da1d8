//! The model zoo, written with slim's own macros.

mod cifar_resnet;

pub use cifar_resnet::{CifarResNet, resnet_block};
