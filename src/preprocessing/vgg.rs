//! TF-Slim's `vgg_preprocessing` (used by vgg, resnet_v1, resnet_v2 and alexnet_v2). Training: resize the
//! smaller side to a random size in [256, 512], take a random crop of the output size, flip left-right at
//! random, subtract the RGB means. Evaluation: resize the smaller side to 256, take the central crop, subtract
//! the means. Pixels stay on the 0–255 scale.

use tch::{Kind, Tensor};

use super::image_ops::{aspect_preserving_resize, central_crop, crop, map_images};
use crate::Result;
use crate::data::Preprocessing;
use crate::data::SplitMix64;

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

    fn one(&self, image: &Tensor, random: &mut SplitMix64) -> Tensor {
        if !self.training {
            let resized = aspect_preserving_resize(image, self.resize_side_min.max(self.size));
            return subtract_means(&central_crop(&resized, self.size, self.size));
        }
        let span = (self.resize_side_max - self.resize_side_min + 1).max(1) as u64;
        let side = self.resize_side_min + random.below(span) as i64;
        let resized = aspect_preserving_resize(image, side.max(self.size));
        let (h, w) = (resized.size()[1], resized.size()[2]);
        let top = random.below((h - self.size + 1) as u64) as i64;
        let left = random.below((w - self.size + 1) as u64) as i64;
        let cropped = crop(&resized, top, left, self.size, self.size);
        let flipped = if random.below(2) == 1 { cropped.flip([2]) } else { cropped };
        subtract_means(&flipped)
    }
}

/// TF-Slim's `_mean_image_subtraction`: the RGB means from 3-channel images, their average from grayscale ones.
fn subtract_means(image: &Tensor) -> Tensor {
    let means: Vec<f32> = match image.size()[0] {
        3 => VGG_RGB_MEANS.iter().map(|m| *m as f32).collect(),
        channels => vec![(VGG_RGB_MEANS.iter().sum::<f64>() / 3.0) as f32; channels as usize],
    };
    image - Tensor::from_slice(&means).view([-1, 1, 1]).to_device(image.device())
}

impl Preprocessing for VggPreprocessing {
    fn apply(&self, images: &Tensor, batch: u64) -> Tensor {
        map_images(images, self.seed, batch, |image, random| self.one(image, random))
    }

    fn apply_one(&self, image: &Tensor, example: u64) -> Result<Tensor> {
        Ok(self.one(&image.to_kind(Kind::Float), &mut SplitMix64::new(self.seed, example)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_resizes_crops_the_centre_and_subtracts_the_means() {
        let images = Tensor::full([2, 3, 32, 48], 200, (Kind::Uint8, tch::Device::Cpu));
        let out = VggPreprocessing::new(224, false, 0).apply(&images, 0);
        assert_eq!(out.size(), [2, 3, 224, 224]);
        let red = out.get(0).get(0).mean(Kind::Float).double_value(&[]);
        assert!((red - (200.0 - 123.68)).abs() < 1e-3, "{red}");
    }

    #[test]
    fn training_draws_sizes_crops_and_flips_from_the_seed_and_batch() {
        let images = Tensor::randint(256, [4, 3, 40, 30], (Kind::Uint8, tch::Device::Cpu));
        let train = VggPreprocessing { size: 24, training: true, resize_side_min: 30, resize_side_max: 60, seed: 3 };
        let (a, b) = (train.apply(&images, 7), train.apply(&images, 7));
        assert_eq!(a.size(), [4, 3, 24, 24]);
        assert!(a.equal(&b), "the same batch number gives the same batch");
        assert!(!a.equal(&train.apply(&images, 8)), "another batch number draws again");
    }
}
