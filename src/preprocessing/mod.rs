//! TF-Slim's preprocessings (its `preprocessing/` folder): `lenet`, `cifarnet`, `vgg` and `inception`, the
//! image operations they share, and `get_preprocessing` to pick one by name or by the net it feeds; and random
//! erasing, which goes on top of any of them. Each is a
//! [`Preprocessing`](crate::data::Preprocessing) that a [`Provider`](crate::data::Provider) applies to every
//! batch.

mod cifarnet;
mod crop_or_pad;
mod factory;
mod image_ops;
mod inception;
mod lenet;
mod random_erasing;
mod vgg;

pub use cifarnet::CifarnetPreprocessing;
pub use factory::{PREPROCESSING_NAMES, get_preprocessing, preprocessed_image_tag};
pub use inception::InceptionPreprocessing;
pub use lenet::LenetPreprocessing;
pub use random_erasing::{ErasedRectangle, RandomErasing};
pub use vgg::{VGG_RGB_MEANS, VggPreprocessing};
