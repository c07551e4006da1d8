//! Test-time augmentation by mirroring: score a batch of images by the mean of the logits for the images and
//! for their left-right mirror images, the two-view evaluation that classification papers report as "+flip".

use tch::{Kind, Tensor};

use crate::error::TorchContext;
use crate::{Error, Result};

/// The mean, in float32, of `forward(images)` and `forward(images mirrored left-right)`. `images` is a batch in
/// NCHW order (any memory format); `forward` returns one row of logits per image, of any floating kind (a
/// bfloat16 autocast's logits are averaged in float32). Costs two forward passes.
///
/// Worth it only for a net trained with random left-right flips (TF-Slim's `cifarnet`, `inception` and `vgg`
/// preprocessing): a net that never saw mirror images scores them worse, and their mean with it.
pub fn mirror_averaged_logits(images: &Tensor, mut forward: impl FnMut(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let size = images.size();
    if size.len() != 4 {
        return Err(Error::invalid(
            "mirror_averaged_logits",
            format!("expected a batch of images [batch, channels, height, width], got shape {size:?}"),
        ));
    }
    let logits = forward(images)?;
    let mirrored = forward(&images.f_flip([3]).context("mirror_averaged_logits")?)?;
    if logits.size() != mirrored.size() {
        return Err(Error::invalid(
            "mirror_averaged_logits",
            format!("the mirror images' logits have shape {:?}, the images' {:?}", mirrored.size(), logits.size()),
        ));
    }
    Ok((logits.to_kind(Kind::Float) + mirrored.to_kind(Kind::Float)) / 2.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    /// A "net" that is not mirror-symmetric: each image's logits are its first column's values.
    fn first_column(images: &Tensor) -> Result<Tensor> {
        Ok(images.select(1, 0).select(2, 0))
    }

    #[test]
    fn averages_the_logits_of_the_images_and_of_their_mirror_images() {
        // Two 1×2×3 images: rows [1 2 3; 4 5 6] and [7 8 9; 10 11 12].
        let images = Tensor::arange(12, (Kind::Float, tch::Device::Cpu)).view([2, 1, 2, 3]) + 1.0;
        let averaged = mirror_averaged_logits(&images, first_column).unwrap();
        // First column and last column, averaged: (1+3)/2, (4+6)/2; (7+9)/2, (10+12)/2.
        assert_eq!(Vec::<f32>::try_from(averaged.flatten(0, -1)).unwrap(), [2.0, 5.0, 8.0, 11.0]);
        assert_eq!(averaged.kind(), Kind::Float);
    }

    #[test]
    fn bfloat16_logits_are_averaged_in_float32() {
        let images = Tensor::ones([1, 1, 1, 2], (Kind::Float, tch::Device::Cpu));
        let averaged = mirror_averaged_logits(&images, |x| Ok(x.flatten(1, -1).to_kind(Kind::BFloat16))).unwrap();
        assert_eq!(averaged.kind(), Kind::Float);
        assert_eq!(averaged.size(), [1, 2]);
    }

    #[test]
    fn a_batch_that_is_not_four_dimensional_and_a_forward_error_are_refused() {
        let flat = Tensor::ones([2, 3], (Kind::Float, tch::Device::Cpu));
        let error = mirror_averaged_logits(&flat, first_column).unwrap_err().to_string();
        assert!(error.contains("mirror_averaged_logits") && error.contains("[2, 3]"), "{error}");
        let images = Tensor::ones([1, 1, 2, 2], (Kind::Float, tch::Device::Cpu));
        let error = mirror_averaged_logits(&images, |_| Err(Error::invalid("net", "broken"))).unwrap_err();
        assert_eq!(error.to_string(), "net: broken");
    }
}
