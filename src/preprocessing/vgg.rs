//! TF-Slim's `vgg_preprocessing` (used by vgg, resnet_v1, resnet_v2 and alexnet_v2). Training: resize the
//! smaller side to a random size in [256, 512], take a random crop of the output size, flip left-right at
//! random, subtract the RGB means. Evaluation: resize the smaller side to 256 (the output size, when that is
//! larger), take the central crop, subtract the means. Pixels stay on the 0–255 scale.

use tch::Tensor;

use super::image_ops::{ImageOps, Source, Window, aspect_preserving_size, map_examples, map_images, resize};
use crate::data::{DecodedImage, FloatImage, Preprocessing, SplitMix64};
use crate::{Error, Result};

/// TF-Slim's `_R_MEAN`, `_G_MEAN`, `_B_MEAN` (ImageNet's channel means on the 0–255 scale).
pub const VGG_RGB_MEANS: [f64; 3] = [123.68, 116.78, 103.94];

/// TF-Slim's `vgg_preprocessing.preprocess_image` to `size`×`size`.
#[derive(Clone, Copy, Debug)]
pub struct VggPreprocessing {
    /// The output side (224 for the ImageNet nets).
    pub size: i64,
    /// Training (random resize, crop and flip) or evaluation (fixed resize, central crop).
    pub training: bool,
    /// The smallest side resized to in training, and the fixed one in evaluation (256).
    pub resize_side_min: i64,
    /// The largest side resized to in training (512).
    pub resize_side_max: i64,
    /// The seed of the random draws.
    pub seed: u64,
}

impl VggPreprocessing {
    /// TF-Slim's defaults (256–512 in training, 256 in evaluation) for `size`×`size` outputs.
    pub fn new(size: i64, training: bool, seed: u64) -> Self {
        VggPreprocessing { size, training, resize_side_min: 256, resize_side_max: 512, seed }
    }

    /// Resizes the smaller side to `side` (at least the output size) and keeps the `size`×`size` window that
    /// `place` picks in the resized image, without computing the rest of it.
    fn resize_and_crop(
        &self,
        image: &Source,
        side: usize,
        place: impl FnOnce((usize, usize), usize) -> Window,
    ) -> Result<FloatImage> {
        let size = usize::try_from(self.size).ok().filter(|&size| size > 0);
        let size = size.ok_or_else(|| Error::invalid("vgg_preprocessing", format!("size {}", self.size)))?;
        let resized = aspect_preserving_size(image.height, image.width, side.max(size));
        let whole = Window::whole(image.height, image.width);
        Ok(resize(image, whole, resized, place(resized, size), 1.0))
    }

    fn one(&self, image: &Source, random: &mut SplitMix64) -> Result<FloatImage> {
        if !self.training {
            let side = self.resize_side_min.max(1) as usize;
            let mut out = self.resize_and_crop(image, side, |resized, size| Window::central(resized, size, size))?;
            subtract_means(&mut out);
            return Ok(out);
        }
        let span = (self.resize_side_max - self.resize_side_min + 1).max(1) as u64;
        let side = (self.resize_side_min + random.below(span) as i64).max(1) as usize;
        let mut out = self.resize_and_crop(image, side, |(height, width), size| {
            let top = random.below((height - size + 1) as u64) as usize;
            let left = random.below((width - size + 1) as u64) as usize;
            Window { top, left, height: size, width: size }
        })?;
        if random.below(2) == 1 {
            out.flip_left_right();
        }
        subtract_means(&mut out);
        Ok(out)
    }
}

/// TF-Slim's `_mean_image_subtraction`: the RGB means from 3-channel images, their average from the others.
fn subtract_means(image: &mut FloatImage) {
    let average = (VGG_RGB_MEANS.iter().sum::<f64>() / 3.0) as f32;
    let rgb = image.channels == 3;
    image.map_channels(|channel, value| value - if rgb { VGG_RGB_MEANS[channel] as f32 } else { average });
}

impl Preprocessing for VggPreprocessing {
    fn apply(&self, images: &Tensor, batch: u64) -> Result<Tensor> {
        map_images(images, self.seed, batch, |image, random| self.one(image, random))
    }

    /// Each image draws from its example's number, as a streamed one does.
    fn apply_examples(&self, images: &Tensor, _batch: u64, first: u64) -> Result<Tensor> {
        map_examples(images, self.seed, first, |image, random| self.one(image, random))
    }

    fn apply_decoded(&self, image: &DecodedImage, example: u64) -> Result<FloatImage> {
        self.one(&Source::of_decoded(image)?, &mut SplitMix64::new(self.seed, example))
    }
}

#[cfg(test)]
mod tests {
    use tch::Kind;

    use super::*;

    #[test]
    fn evaluation_resizes_crops_the_centre_and_subtracts_the_means() {
        let images = Tensor::full([2, 3, 32, 48], 200, (Kind::Uint8, tch::Device::Cpu));
        let out = VggPreprocessing::new(224, false, 0).apply(&images, 0).unwrap();
        assert_eq!(out.size(), [2, 3, 224, 224]);
        let red = out.get(0).get(0).mean(Kind::Float).double_value(&[]);
        assert!((red - (200.0 - 123.68)).abs() < 1e-3, "{red}");
    }

    #[test]
    fn training_draws_sizes_crops_and_flips_from_the_seed_and_batch() {
        let images = Tensor::randint(256, [4, 3, 40, 30], (Kind::Uint8, tch::Device::Cpu));
        let train = VggPreprocessing { size: 24, training: true, resize_side_min: 30, resize_side_max: 60, seed: 3 };
        let (a, b) = (train.apply(&images, 7).unwrap(), train.apply(&images, 7).unwrap());
        assert_eq!(a.size(), [4, 3, 24, 24]);
        assert!(a.equal(&b), "the same batch number gives the same batch");
        assert!(!a.equal(&train.apply(&images, 8).unwrap()), "another batch number draws again");
    }
}
