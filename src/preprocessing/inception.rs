//! TF-Slim's `inception_preprocessing` (used by the inception nets and mobilenet), in its fast mode. Training:
//! crop a random box covering 5–100% of the image with an aspect ratio in [3/4, 4/3] (at least 10% of the
//! image, as `sample_distorted_bounding_box` with `min_object_covered=0.1`), resize it bilinearly, flip
//! left-right at random, distort brightness (±32/255) and saturation (×0.5–1.5) in a random order, clip to
//! [0, 1]. Evaluation: the central 87.5%, resized. Both end scaled to [−1, 1].

use tch::Tensor;

use super::image_ops::{ImageOps, Source, Window, map_examples, map_images, resize};
use crate::data::{DecodedImage, FloatImage, Preprocessing, SplitMix64};
use crate::{Error, Result};

/// Attempts at a random box before taking the whole image (TF-Slim: `max_attempts=100`).
const MAX_ATTEMPTS: usize = 100;

/// TF-Slim's `inception_preprocessing.preprocess_image` to `size`×`size` (`fast_mode=True`).
#[derive(Clone, Copy, Debug)]
pub struct InceptionPreprocessing {
    /// The output side (224 for inception_v1 and mobilenet_v1, 299 for inception_v3).
    pub size: i64,
    /// Training (random box, flip, colour) or evaluation (central crop).
    pub training: bool,
    /// The seed of the random draws.
    pub seed: u64,
}

impl InceptionPreprocessing {
    /// A random box of an `h`×`w` image: (top, left, height, width).
    fn random_box(h: i64, w: i64, random: &mut SplitMix64) -> (i64, i64, i64, i64) {
        let image_area = (h * w) as f64;
        for _ in 0..MAX_ATTEMPTS {
            let area = random.uniform(0.05, 1.0) * image_area;
            let ratio = random.uniform(0.75, 4.0 / 3.0);
            let (height, width) = ((area / ratio).sqrt().round() as i64, (area * ratio).sqrt().round() as i64);
            if height < 1 || width < 1 || height > h || width > w || ((height * width) as f64) < 0.1 * image_area {
                continue;
            }
            let top = random.below((h - height + 1) as u64) as i64;
            let left = random.below((w - width + 1) as u64) as i64;
            return (top, left, height, width);
        }
        (0, 0, h, w)
    }

    /// TF-Slim's `distort_color` in fast mode: brightness and saturation in one of the two orders, clipped.
    fn distort_color(image: &mut FloatImage, random: &mut SplitMix64) {
        let delta = random.uniform(-32.0 / 255.0, 32.0 / 255.0) as f32;
        let factor = random.uniform(0.5, 1.5) as f32;
        if random.below(2) == 0 {
            image.map(|value| value + delta);
            image.adjust_saturation(factor);
        } else {
            image.adjust_saturation(factor);
            image.map(|value| value + delta);
        }
        image.map(|value| value.clamp(0.0, 1.0));
    }

    fn one(&self, image: &Source, random: &mut SplitMix64) -> Result<FloatImage> {
        let size = usize::try_from(self.size).ok().filter(|&size| size > 0);
        let size = size.ok_or_else(|| Error::invalid("inception_preprocessing", format!("size {}", self.size)))?;
        let (h, w) = (image.height, image.width);
        let whole = Window::whole(size, size);
        let mut out = match self.training {
            false => resize(image, Window::central_fraction(h, w, 0.875), (size, size), whole, 255.0),
            true => {
                let (top, left, height, width) = Self::random_box(h as i64, w as i64, random);
                let window =
                    Window { top: top as usize, left: left as usize, height: height as usize, width: width as usize };
                let mut out = resize(image, window, (size, size), whole, 255.0);
                if random.below(2) == 1 {
                    out.flip_left_right();
                }
                Self::distort_color(&mut out, random);
                out
            }
        };
        out.map(|value| (value - 0.5) * 2.0);
        Ok(out)
    }
}

impl Preprocessing for InceptionPreprocessing {
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
    fn evaluation_crops_the_central_part_and_scales_to_plus_minus_one() {
        let images = Tensor::full([1, 3, 40, 40], 255, (Kind::Uint8, tch::Device::Cpu));
        let out = InceptionPreprocessing { size: 20, training: false, seed: 0 }.apply(&images, 0).unwrap();
        assert_eq!(out.size(), [1, 3, 20, 20]);
        assert!((out.mean(Kind::Float).double_value(&[]) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn training_boxes_cover_at_least_a_tenth_and_outputs_stay_in_range() {
        let mut random = SplitMix64::new(1, 0);
        for _ in 0..200 {
            let (top, left, height, width) = InceptionPreprocessing::random_box(30, 50, &mut random);
            assert!(top + height <= 30 && left + width <= 50 && height * width * 10 >= 30 * 50);
        }
        let images = Tensor::randint(256, [3, 3, 30, 50], (Kind::Uint8, tch::Device::Cpu));
        let train = InceptionPreprocessing { size: 16, training: true, seed: 5 };
        let out = train.apply(&images, 2).unwrap();
        assert_eq!(out.size(), [3, 3, 16, 16]);
        assert!(out.min().double_value(&[]) >= -1.0 && out.max().double_value(&[]) <= 1.0);
        assert!(out.equal(&train.apply(&images, 2).unwrap()) && !out.equal(&train.apply(&images, 3).unwrap()));
    }
}
