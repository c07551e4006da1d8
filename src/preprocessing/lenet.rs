//! TF-Slim's `lenet` preprocessing: each image cropped or padded to the net's size, centred, and its bytes
//! brought to [−1, 1).

use tch::{Kind, Tensor};

use super::crop_or_pad::{crop_or_pad, crop_or_pad_decoded};
use crate::data::{DecodedImage, FloatImage, Preprocessing};
use crate::{Error, Result};

/// TF-Slim's `lenet_preprocessing.preprocess_image`: `resize_image_with_crop_or_pad` to `size`×`size` (28 for
/// LeNet), then `(x − 128) / 128`; the same in training and evaluation (no random draws).
#[derive(Clone, Copy, Debug)]
pub struct LenetPreprocessing {
    /// The output side.
    pub size: i64,
}

impl LenetPreprocessing {
    /// The output side as a length; an error unless it is positive.
    fn side(&self) -> Result<usize> {
        usize::try_from(self.size).ok().filter(|side| *side > 0).ok_or_else(|| {
            Error::invalid("lenet_preprocessing", format!("the size must be positive, got {}", self.size))
        })
    }
}

impl Preprocessing for LenetPreprocessing {
    fn apply(&self, images: &Tensor, _batch: u64) -> Result<Tensor> {
        self.side()?;
        Ok((crop_or_pad(&images.to_kind(Kind::Float), self.size) - 128.0) / 128.0)
    }

    fn apply_decoded(&self, image: &DecodedImage, _example: u64) -> Result<FloatImage> {
        Ok(crop_or_pad_decoded(image, self.side()?, |byte| (f32::from(byte) - 128.0) / 128.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_become_values_in_minus_one_to_one_in_a_frame_of_the_size() -> Result<()> {
        let bytes = Tensor::from_slice(&[0u8, 128, 255, 64]).view([1, 1, 2, 2]);
        let same = LenetPreprocessing { size: 2 }.apply(&bytes, 0)?;
        assert_eq!(Vec::<f32>::try_from(same.flatten(0, -1)).ok(), Some(vec![-1.0, 0.0, 127.0 / 128.0, -0.5]));
        let padded = LenetPreprocessing { size: 4 }.apply(&bytes, 0)?;
        assert_eq!(padded.size(), [1, 1, 4, 4]);
        assert_eq!(padded.double_value(&[0, 0, 0, 0]), -1.0, "TF-Slim pads with zeros before centring");
        let image = DecodedImage { height: 2, width: 2, channels: 1, pixels: vec![0, 128, 255, 64] };
        let decoded = LenetPreprocessing { size: 4 }.apply_decoded(&image, 0)?;
        assert_eq!(decoded.into_tensor()?.unsqueeze(0), padded);
        assert!(LenetPreprocessing { size: 0 }.apply(&bytes, 0).is_err());
        Ok(())
    }
}
