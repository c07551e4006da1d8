//! Random erasing (Zhong et al., 2017; torchvision's `RandomErasing`): after another preprocessing, each
//! training image has, with a given probability, one random rectangle of its pixels set to 0 in every channel
//! — the mean of a standardized image, the middle of `lenet`'s [−1, 1). The draws come from the seed and the
//! example's (or batch's) number, as the crops of `cifarnet` do.

use tch::{Kind, Tensor};

use crate::data::{DecodedImage, FloatImage, Preprocessing, SplitMix64};
use crate::{Error, Result};

/// Mixed into the seed so that the erasing's draws are not the inner preprocessing's.
const ERASING_STREAM_SALT: u64 = 0x6572_6173_696e_6721;

/// How many rectangles are drawn before an image is left whole (torchvision's 10).
const ATTEMPTS: usize = 10;

/// A rectangle of an image: top row, left column, height, width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErasedRectangle {
    /// The first row erased.
    pub top: usize,
    /// The first column erased.
    pub left: usize,
    /// Rows erased.
    pub height: usize,
    /// Columns erased.
    pub width: usize,
}

/// Random erasing on top of the preprocessing `inner` (for training; evaluation leaves images whole).
#[derive(Clone, Debug)]
pub struct RandomErasing<P> {
    inner: P,
    probability: f64,
    area: (f64, f64),
    aspect: (f64, f64),
    seed: u64,
}

impl<P: Preprocessing> RandomErasing<P> {
    /// Erases with `probability` (in [0, 1]) a rectangle of 2–40% of the image's area with a height-to-width
    /// ratio in [0.3, 1/0.3] (the paper's values), drawn from `seed`.
    pub fn new(inner: P, probability: f64, seed: u64) -> Result<Self> {
        RandomErasing { inner, probability: 0.0, area: (0.02, 0.4), aspect: (0.3, 1.0 / 0.3), seed }
            .probability(probability)
    }

    /// The probability that an image has a rectangle erased; an error outside [0, 1].
    pub fn probability(mut self, probability: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&probability) {
            return Err(Error::invalid(
                "RandomErasing",
                format!("the probability must be in [0, 1], got {probability}"),
            ));
        }
        self.probability = probability;
        Ok(self)
    }

    /// The bounds of the erased fraction of the image's area; an error unless `0 < low ≤ high ≤ 1`.
    pub fn area(mut self, low: f64, high: f64) -> Result<Self> {
        if !(low > 0.0 && low <= high && high <= 1.0) {
            return Err(Error::invalid(
                "RandomErasing",
                format!("the area's fraction needs 0 < low <= high <= 1, got [{low}, {high}]"),
            ));
        }
        self.area = (low, high);
        Ok(self)
    }

    /// The bounds of the rectangle's height-to-width ratio (drawn log-uniformly); an error unless
    /// `0 < low ≤ high` and both are finite.
    pub fn aspect(mut self, low: f64, high: f64) -> Result<Self> {
        if !(low > 0.0 && low <= high && high.is_finite()) {
            return Err(Error::invalid(
                "RandomErasing",
                format!("the aspect ratio needs finite 0 < low <= high, got [{low}, {high}]"),
            ));
        }
        self.aspect = (low, high);
        Ok(self)
    }

    /// The rectangle erased from an image of `height`×`width`, if any, drawn from `random`: first whether to
    /// erase, then up to 10 rectangles (area, log aspect ratio, top, left) until one fits inside the image.
    pub fn rectangle(&self, random: &mut SplitMix64, height: usize, width: usize) -> Option<ErasedRectangle> {
        if random.uniform(0.0, 1.0) >= self.probability {
            return None;
        }
        let image_area = (height * width) as f64;
        (0..ATTEMPTS).find_map(|_| {
            let area = image_area * random.uniform(self.area.0, self.area.1);
            let aspect = random.uniform(self.aspect.0.ln(), self.aspect.1.ln()).exp();
            let rows = (area * aspect).sqrt().round() as usize;
            let columns = (area / aspect).sqrt().round() as usize;
            if rows == 0 || columns == 0 || rows >= height || columns >= width {
                return None;
            }
            let top = random.below((height - rows + 1) as u64) as usize;
            let left = random.below((width - columns + 1) as u64) as usize;
            Some(ErasedRectangle { top, left, height: rows, width: columns })
        })
    }

    /// A generator of example (or batch) number `stream`'s draws.
    fn random(&self, stream: u64) -> SplitMix64 {
        SplitMix64::new(self.seed ^ ERASING_STREAM_SALT, stream)
    }

    /// `images` (`[B, C, H, W]`) with image `i`'s rectangle from `random_of(i)` set to 0, by a plain loop over
    /// a copy of the values (no libtorch kernel on a preprocessing thread).
    fn erase_batch(&self, images: Tensor, mut random_of: impl FnMut(usize) -> SplitMix64) -> Result<Tensor> {
        let shape = images.size();
        let &[batch, channels, height, width] = &shape[..] else {
            return Err(Error::invalid("RandomErasing", format!("expected [B, C, H, W] images, got {shape:?}")));
        };
        let (channels, height, width) = (channels as usize, height as usize, width as usize);
        let rectangles: Vec<_> =
            (0..batch as usize).map(|i| self.rectangle(&mut random_of(i), height, width)).collect();
        if rectangles.iter().all(Option::is_none) {
            return Ok(images);
        }
        let torch_error = |source| Error::Torch { context: "RandomErasing".into(), source };
        let mut values = Vec::<f32>::try_from(&images.contiguous().view([-1])).map_err(torch_error)?;
        let image_len = (height * width * channels).max(1);
        for (image, rectangle) in values.chunks_exact_mut(image_len).zip(&rectangles) {
            if let Some(rectangle) = rectangle {
                erase(image, height, width, *rectangle);
            }
        }
        Tensor::from_slice(&values).f_view(&shape[..]).map_err(torch_error)
    }
}

/// Sets `rectangle` to 0 in every channel of `image`, channel-major planes of `height`×`width`, row-major.
fn erase(image: &mut [f32], height: usize, width: usize, rectangle: ErasedRectangle) {
    for plane in image.chunks_exact_mut((height * width).max(1)) {
        for row in rectangle.top..rectangle.top + rectangle.height {
            let start = row * width + rectangle.left;
            plane[start..start + rectangle.width].fill(0.0);
        }
    }
}

impl<P: Preprocessing> Preprocessing for RandomErasing<P> {
    fn apply(&self, images: &Tensor, batch: u64) -> Result<Tensor> {
        let preprocessed = self.inner.apply(images, batch)?.to_kind(Kind::Float);
        let mut random = self.random(batch);
        self.erase_batch(preprocessed, |_| SplitMix64::new(random.next_u64(), 0))
    }

    fn apply_examples(&self, images: &Tensor, batch: u64, first: u64) -> Result<Tensor> {
        let preprocessed = self.inner.apply_examples(images, batch, first)?.to_kind(Kind::Float);
        self.erase_batch(preprocessed, |i| self.random(first + i as u64))
    }

    fn apply_decoded(&self, image: &DecodedImage, example: u64) -> Result<FloatImage> {
        let mut preprocessed = self.inner.apply_decoded(image, example)?;
        let (height, width) = (preprocessed.height, preprocessed.width);
        if let Some(rectangle) = self.rectangle(&mut self.random(example), height, width) {
            erase(&mut preprocessed.data, height, width, rectangle);
        }
        Ok(preprocessed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocessing::LenetPreprocessing;

    fn erasing(probability: f64) -> RandomErasing<LenetPreprocessing> {
        RandomErasing::new(LenetPreprocessing { size: 28 }, probability, 7).unwrap()
    }

    #[test]
    fn rectangles_fit_the_image_and_cover_the_asked_area() {
        let erasing = erasing(1.0);
        let mut random = SplitMix64::new(1, 2);
        for _ in 0..2000 {
            let r = erasing.rectangle(&mut random, 28, 28).expect("28×28 always fits a rectangle in 10 tries");
            assert!(r.top + r.height <= 28 && r.left + r.width <= 28, "{r:?}");
            let fraction = (r.height * r.width) as f64 / 784.0;
            assert!((0.01..=0.45).contains(&fraction), "{r:?}: {fraction} of the image (rounding of 2–40%)");
            let aspect = r.height as f64 / r.width as f64;
            assert!((0.2..=5.0).contains(&aspect), "{r:?}");
        }
    }

    #[test]
    fn the_probability_is_the_share_of_images_erased() {
        let erasing = erasing(0.25);
        let erased = (0..4000).filter(|&i| erasing.rectangle(&mut erasing.random(i), 28, 28).is_some()).count();
        assert!((900..1100).contains(&erased), "{erased} of 4000 erased at p = 0.25");
        assert!((0..100).all(|i| self::erasing(0.0).rectangle(&mut erasing.random(i), 28, 28).is_none()));
    }

    #[test]
    fn batches_and_decoded_images_erase_the_same_pixels_to_zero() {
        let erasing = erasing(1.0);
        let bytes = Tensor::full([3, 1, 28, 28], 255, (Kind::Uint8, tch::Device::Cpu));
        let batch = erasing.apply_examples(&bytes, 0, 40).unwrap();
        for i in 0..3 {
            let r = erasing.rectangle(&mut erasing.random(40 + i as u64), 28, 28).unwrap();
            let zeros = batch.get(i).eq(0.0).sum(Kind::Int64).int64_value(&[]);
            assert_eq!(zeros as usize, r.height * r.width, "image {i}: only its rectangle is 0");
            let rectangle =
                batch.get(i).narrow(1, r.top as i64, r.height as i64).narrow(2, r.left as i64, r.width as i64);
            assert_eq!(rectangle.abs().sum(Kind::Float).double_value(&[]), 0.0);
            let decoded = DecodedImage { height: 28, width: 28, channels: 1, pixels: vec![255; 784] };
            let one = erasing.apply_decoded(&decoded, 40 + i as u64).unwrap().into_tensor().unwrap();
            assert!(one.equal(&batch.get(i)), "image {i}: the streamed path erases what the batch path does");
        }
    }

    #[test]
    fn bad_settings_are_errors_naming_random_erasing() {
        let lenet = LenetPreprocessing { size: 28 };
        for error in [
            RandomErasing::new(lenet, 1.5, 0).err(),
            RandomErasing::new(lenet, f64::NAN, 0).err(),
            RandomErasing::new(lenet, 0.5, 0).and_then(|e| e.area(0.5, 0.1)).err(),
            RandomErasing::new(lenet, 0.5, 0).and_then(|e| e.area(0.0, 0.1)).err(),
            RandomErasing::new(lenet, 0.5, 0).and_then(|e| e.aspect(0.0, 2.0)).err(),
            RandomErasing::new(lenet, 0.5, 0).and_then(|e| e.aspect(1.0, f64::INFINITY)).err(),
        ] {
            assert!(error.expect("an error").to_string().contains("RandomErasing"));
        }
    }
}
