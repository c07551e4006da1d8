//! TF's `resize_image_with_crop_or_pad`: an image centred in a `size`×`size` frame, cropped where it is larger
//! and padded with zeros where it is smaller (on a batch tensor, or on one decoded image in a plain loop).

use tch::Tensor;

use crate::data::{DecodedImage, FloatImage};

/// Where a side of `length` pixels starts in a frame of `size`: the crop's first pixel, the padding's width.
fn offsets(length: usize, size: usize) -> (usize, usize) {
    (length.saturating_sub(size) / 2, size.saturating_sub(length) / 2)
}

/// TF's `resize_with_crop_or_pad` of `[B, C, H, W]` images to `size`×`size`, centred.
pub(super) fn crop_or_pad(images: &Tensor, size: i64) -> Tensor {
    let (h, w) = (images.size()[2], images.size()[3]);
    let padded = images.constant_pad_nd([
        ((size - w).max(0)) / 2,
        (size - w).max(0) - (size - w).max(0) / 2,
        ((size - h).max(0)) / 2,
        (size - h).max(0) - (size - h).max(0) / 2,
    ]);
    let (h, w) = (padded.size()[2], padded.size()[3]);
    padded.narrow(2, (h - size) / 2, size).narrow(3, (w - size) / 2, size)
}

/// One decoded image cropped or padded to `size`×`size` as [`crop_or_pad`] does, channels first, each byte
/// (padding's zeros included) mapped by `value`.
pub(super) fn crop_or_pad_decoded(image: &DecodedImage, size: usize, value: impl Fn(u8) -> f32) -> FloatImage {
    let channels = image.channels;
    let (top, pad_top) = offsets(image.height, size);
    let (left, pad_left) = offsets(image.width, size);
    let mut data = vec![value(0); channels * size * size];
    let rows = image.height.min(size);
    let columns = image.width.min(size);
    for c in 0..channels {
        for y in 0..rows {
            let source_row = (top + y) * image.width;
            let target_row = (c * size + pad_top + y) * size + pad_left;
            for x in 0..columns {
                data[target_row + x] = value(image.pixels[(source_row + left + x) * channels + c]);
            }
        }
    }
    FloatImage { channels, height: size, width: size, data }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    #[test]
    fn a_decoded_image_is_cropped_and_padded_as_the_batch_is() {
        // 3 rows × 6 columns × 2 channels, into 4×4: one row of padding, below (TF puts the odd one there);
        // columns 1 to 4 kept.
        let pixels: Vec<u8> = (0..36).collect();
        let image = DecodedImage { height: 3, width: 6, channels: 2, pixels: pixels.clone() };
        let decoded = crop_or_pad_decoded(&image, 4, f32::from);
        let batch = Tensor::from_slice(&pixels).view([1, 3, 6, 2]).permute([0, 3, 1, 2]).to_kind(Kind::Float);
        let expected = crop_or_pad(&batch, 4).flatten(0, -1);
        assert_eq!(decoded.data, Vec::<f32>::try_from(&expected).unwrap_or_default());
        assert_eq!(decoded.shape(), [2, 4, 4]);
        assert_eq!(&decoded.data[..4], &[2.0, 4.0, 6.0, 8.0], "row 0 from column 1, channel 0");
        assert_eq!(&decoded.data[12..16], &[0.0; 4], "the padded last row");
        let tall = Tensor::zeros([1, 1, 7, 2], (Kind::Float, Device::Cpu));
        assert_eq!(crop_or_pad(&tall, 4).size(), [1, 1, 4, 4]);
    }
}
