//! `preprocessing_factory`: preprocessing functions by TF-Slim's names, or by the name of the net they feed.

use super::cifarnet::CifarnetPreprocessing;
use super::inception::InceptionPreprocessing;
use super::lenet::LenetPreprocessing;
use super::vgg::VggPreprocessing;
use crate::data::Preprocessing;
use crate::{Error, Result};

/// The names [`get_preprocessing`] knows: its four preprocessings, and the zoo nets mapped to them as TF-Slim's
/// `preprocessing_factory` maps them.
pub const PREPROCESSING_NAMES: [&str; 4] = ["lenet", "cifarnet", "vgg", "inception"];

/// The preprocessing a zoo net uses, by the net's name.
fn preprocessing_of_net(name: &str) -> Option<&'static str> {
    let family = |prefix: &str| name.starts_with(prefix);
    match name {
        "lenet" | "cifarnet" | "vgg" | "inception" => PREPROCESSING_NAMES.iter().copied().find(|known| *known == name),
        _ if family("resnet_cifar_") => Some("cifarnet"),
        _ if family("vgg_")
            || family("resnet_v1_")
            || family("resnet_v2_")
            || name == "alexnet_v2"
            || name == "overfeat" =>
        {
            Some("vgg")
        }
        "nasnet_mobile" | "nasnet_large" | "pnasnet_mobile" | "pnasnet_large" => Some("inception"),
        _ if family("inception_") || family("mobilenet_") => Some("inception"),
        _ => None,
    }
}

/// The tag of the image summary TF-Slim's preprocessing called `name` (or the zoo net's called `name`) writes of
/// the image it hands to the net in training: inception's `final_distorted_image`, cifarnet's
/// `distorted_image`; the lenet and vgg preprocessings write none.
pub fn preprocessed_image_tag(name: &str) -> Option<&'static str> {
    match preprocessing_of_net(name)? {
        "inception" => Some("final_distorted_image"),
        "cifarnet" => Some("distorted_image"),
        _ => None,
    }
}

/// TF-Slim's `preprocessing_factory.get_preprocessing(name, is_training)`: the preprocessing called `name`, or
/// the one the zoo net called `name` uses, for outputs of side `size`, with random draws (training only) from
/// `seed`. An unknown name is an error listing the known ones.
pub fn get_preprocessing(name: &str, training: bool, size: i64, seed: u64) -> Result<Box<dyn Preprocessing>> {
    match preprocessing_of_net(name) {
        Some("lenet") => Ok(Box::new(LenetPreprocessing { size })),
        Some("cifarnet") => Ok(Box::new(CifarnetPreprocessing { size, training, seed })),
        Some("vgg") => Ok(Box::new(VggPreprocessing::new(size, training, seed))),
        Some(_) => Ok(Box::new(InceptionPreprocessing { size, training, seed })),
        None => Err(Error::invalid(
            "preprocessing_factory",
            format!(
                "unknown preprocessing {name:?}; known: {} (or a zoo net's name: resnet_cifar_*, vgg_*, resnet_v1_*, \
                 resnet_v2_*, alexnet_v2, inception_*, mobilenet_*, nasnet_mobile/_large, pnasnet_mobile/_large)",
                PREPROCESSING_NAMES.join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use tch::{Kind, Tensor};

    use super::*;

    #[test]
    fn preprocessings_name_the_image_they_summarize_as_tf_slims_do() {
        assert_eq!(preprocessed_image_tag("mobilenet_v1"), Some("final_distorted_image"));
        assert_eq!(preprocessed_image_tag("cifarnet"), Some("distorted_image"));
        assert_eq!((preprocessed_image_tag("lenet"), preprocessed_image_tag("vgg_16")), (None, None));
        assert_eq!(preprocessed_image_tag("nonsense"), None);
    }

    #[test]
    fn names_give_their_preprocessing_and_unknown_names_list_the_known_ones() {
        let bytes = Tensor::full([2, 1, 28, 28], 255, (Kind::Uint8, tch::Device::Cpu));
        let lenet = get_preprocessing("lenet", true, 28, 0).and_then(|p| p.apply(&bytes, 0));
        assert_eq!(lenet.map(|x| x.max().double_value(&[])).ok(), Some(127.0 / 128.0));
        let resnet =
            get_preprocessing("resnet_cifar_20", false, 24, 0).and_then(|p| p.apply(&bytes, 0)).map(|x| x.size());
        assert_eq!(resnet.ok(), Some(vec![2, 1, 24, 24]));
        let vgg = get_preprocessing("resnet_v1_50", false, 16, 0).and_then(|p| p.apply(&bytes, 0));
        assert_eq!(vgg.map(|x| x.size()).ok(), Some(vec![2, 1, 16, 16]));
        let inception = get_preprocessing("mobilenet_v1", false, 16, 0).and_then(|p| p.apply(&bytes, 0));
        assert_eq!(inception.map(|x| x.max().double_value(&[])).ok(), Some(1.0));
        for nas in ["nasnet_mobile", "nasnet_large", "pnasnet_mobile", "pnasnet_large"] {
            let inception = get_preprocessing(nas, false, 16, 0).and_then(|p| p.apply(&bytes, 0));
            assert_eq!(inception.map(|x| x.max().double_value(&[])).ok(), Some(1.0), "{nas}: TF-Slim's inception");
        }
        assert!(get_preprocessing("nasnet_cifar", true, 32, 0).is_err(), "TF-Slim maps no preprocessing to it");
        let message = get_preprocessing("inceptoin", true, 28, 0).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("\"inceptoin\"") && message.contains("lenet, cifarnet, vgg, inception"), "{message}");
    }
}
