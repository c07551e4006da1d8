//! `preprocessing_factory`: preprocessing functions by TF-Slim's names, or by the name of the net they feed.

use super::preprocessing::CifarnetPreprocessing;
use super::provider::{Preprocessing, lenet_preprocessing};
use crate::{Error, Result};

/// The names [`get_preprocessing`] knows: preprocessing names, then the zoo nets that use them
/// (`resnet_cifar_<6n+2>` stands for every depth).
pub const PREPROCESSING_NAMES: [&str; 3] = ["lenet", "cifarnet", "resnet_cifar_<6n+2>"];

/// TF-Slim's `preprocessing_factory.get_preprocessing(name, is_training)`: the preprocessing called `name`, or
/// the one the zoo net called `name` uses, for images of side `size`, with random draws (training only) from
/// `seed`. An unknown name is an error listing the known ones.
pub fn get_preprocessing(name: &str, training: bool, size: i64, seed: u64) -> Result<Box<dyn Preprocessing>> {
    let cifarnet = || Box::new(CifarnetPreprocessing { size, training, seed });
    match name {
        "lenet" => Ok(Box::new(lenet_preprocessing)),
        "cifarnet" => Ok(cifarnet()),
        other if other.starts_with("resnet_cifar_") => Ok(cifarnet()),
        other => Err(Error::invalid(
            "preprocessing_factory",
            format!("unknown preprocessing {other:?}; known: {}", PREPROCESSING_NAMES.join(", ")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use tch::{Kind, Tensor};

    use super::*;

    #[test]
    fn names_give_their_preprocessing_and_unknown_names_list_the_known_ones() {
        let bytes = Tensor::full([2, 1, 28, 28], 255, (Kind::Uint8, tch::Device::Cpu));
        let lenet = get_preprocessing("lenet", true, 28, 0).map(|p| p.apply(&bytes, 0));
        assert_eq!(lenet.map(|x| x.max().double_value(&[])).ok(), Some(127.0 / 128.0));
        let resnet = get_preprocessing("resnet_cifar_20", false, 24, 0).map(|p| p.apply(&bytes, 0).size());
        assert_eq!(resnet.ok(), Some(vec![2, 1, 24, 24]));
        let message = get_preprocessing("inceptoin", true, 28, 0).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("\"inceptoin\"") && message.contains("lenet, cifarnet"), "{message}");
    }
}
