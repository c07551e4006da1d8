//! TF-Slim's `cifarnet` preprocessing. Training: pad by 4, take a random 32×32 crop, flip left-right at random,
//! standardize each image; evaluation: crop or pad to the size, standardize. The random draws come from the
//! seed and the batch's number, so they do not depend on threads or on libtorch's generator.

use tch::{Kind, Tensor};

use super::crop_or_pad::crop_or_pad;
use crate::data::Preprocessing;
use crate::data::{DecodedImage, FloatImage, SplitMix64};
use crate::{Error, Result};

/// TF's `per_image_standardization`: each image minus its mean, over max(its standard deviation, 1/√n).
fn standardize(images: &Tensor) -> Tensor {
    let per_image = images.flatten(1, -1);
    let n = per_image.size()[1] as f64;
    let mean = per_image.mean_dim(1, true, Kind::Float);
    let std = per_image.std_dim(1, false, true).clamp_min(1.0 / n.sqrt());
    ((per_image - mean) / std).view_as(images)
}

/// TF-Slim's `cifarnet_preprocessing` for images of side `size` (32 for CIFAR).
#[derive(Clone, Copy, Debug)]
pub struct CifarnetPreprocessing {
    /// The output side.
    pub size: i64,
    /// Training (random crop and flip) or evaluation (centre crop or pad).
    pub training: bool,
    /// The seed of the random draws.
    pub seed: u64,
}

impl CifarnetPreprocessing {
    /// Checks that images padded to `h`×`w` hold the training crop.
    fn check_crop(&self, h: i64, w: i64) -> Result<()> {
        if self.size < 1 || h < self.size || w < self.size {
            let message = format!(
                "a {}×{} image padded by 4 is smaller than the {size}×{size} crop",
                h - 8,
                w - 8,
                size = self.size
            );
            return Err(Error::invalid("cifarnet_preprocessing", message));
        }
        Ok(())
    }
}

impl CifarnetPreprocessing {
    /// The batch standardized: evaluation's central crop, or training's random crops of the padded images and
    /// flips, image `i`'s from `draws(i, tops, lefts)` (see [`crop_draws`]).
    fn batch(&self, images: &Tensor, mut draws: impl FnMut(i64, i64, i64) -> (i64, i64, bool)) -> Result<Tensor> {
        let images = images.to_kind(Kind::Float);
        if !self.training {
            return Ok(standardize(&crop_or_pad(&images, self.size)));
        }
        let padding = 4;
        let padded = images.constant_pad_nd([padding, padding, padding, padding]);
        let (h, w) = (padded.size()[2], padded.size()[3]);
        self.check_crop(h, w)?;
        let crops: Vec<Tensor> = (0..images.size()[0])
            .map(|i| {
                let (top, left, flip) = draws(i, h - self.size + 1, w - self.size + 1);
                let crop = padded.get(i).narrow(1, top, self.size).narrow(2, left, self.size);
                if flip { crop.flip([2]) } else { crop }
            })
            .collect();
        Ok(standardize(&Tensor::stack(&crops, 0)))
    }
}

/// A crop's top (below `tops`), its left (below `lefts`) and whether to flip it, drawn in that order.
fn crop_draws(random: &mut SplitMix64, tops: i64, lefts: i64) -> (i64, i64, bool) {
    let top = random.below(tops.max(1) as u64) as i64;
    let left = random.below(lefts.max(1) as u64) as i64;
    (top, left, random.below(2) == 1)
}

impl Preprocessing for CifarnetPreprocessing {
    fn apply(&self, images: &Tensor, batch: u64) -> Result<Tensor> {
        let mut random = SplitMix64::new(self.seed, batch);
        self.batch(images, |_, tops, lefts| crop_draws(&mut random, tops, lefts))
    }

    /// Each image draws from its example's number, as a streamed one does.
    fn apply_examples(&self, images: &Tensor, _batch: u64, first: u64) -> Result<Tensor> {
        self.batch(images, |i, tops, lefts| crop_draws(&mut SplitMix64::new(self.seed, first + i as u64), tops, lefts))
    }

    fn apply_decoded(&self, image: &DecodedImage, example: u64) -> Result<FloatImage> {
        let image = image.to_tensor()?.to_kind(Kind::Float).unsqueeze(0);
        if !self.training {
            return FloatImage::from_tensor(&standardize(&crop_or_pad(&image, self.size)).squeeze_dim(0));
        }
        let padded = image.constant_pad_nd([4, 4, 4, 4]);
        let (h, w) = (padded.size()[2], padded.size()[3]);
        self.check_crop(h, w)?;
        let (top, left, flip) =
            crop_draws(&mut SplitMix64::new(self.seed, example), h - self.size + 1, w - self.size + 1);
        let crop = padded.narrow(2, top, self.size).narrow(3, left, self.size);
        let flipped = if flip { crop.flip([3]) } else { crop };
        FloatImage::from_tensor(&standardize(&flipped).squeeze_dim(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardized_images_have_zero_mean_and_unit_deviation() {
        let images = Tensor::arange(2 * 3 * 4 * 4, (Kind::Float, tch::Device::Cpu)).view([2, 3, 4, 4]);
        let out = standardize(&images);
        let means: Vec<f64> = Vec::try_from(out.flatten(1, -1).mean_dim(1, false, Kind::Double)).unwrap_or_default();
        assert!(means.iter().all(|m| m.abs() < 1e-5), "{means:?}");
        let constant = standardize(&Tensor::ones([1, 1, 2, 2], (Kind::Float, tch::Device::Cpu)));
        assert_eq!(constant.abs().sum(Kind::Float).double_value(&[]), 0.0, "a flat image stays 0, no division by 0");
        assert_eq!(crop_or_pad(&images, 2).size(), [2, 3, 2, 2]);
        assert_eq!(crop_or_pad(&images, 6).size(), [2, 3, 6, 6]);
    }
}
