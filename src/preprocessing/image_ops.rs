//! Image operations of TF's `tf.image` that the zoo's preprocessings use, on one `[C, H, W]` float image:
//! TF 1's bilinear resize (corner-aligned sampling `src = dst · in / out`, as TF-Slim's scripts ran it), the
//! aspect-preserving resize, crops, and the saturation adjustment; and the per-image loop over a batch.

use tch::{Kind, Tensor};

use crate::data::SplitMix64;

/// `one` applied to each image of a `[B, C, H, W]` batch (as floats), with the random draws of batch number
/// `batch` from `seed`, stacked again.
pub(super) fn map_images(
    images: &Tensor,
    seed: u64,
    batch: u64,
    one: impl Fn(&Tensor, &mut SplitMix64) -> Tensor,
) -> Tensor {
    let images = images.to_kind(Kind::Float);
    let mut random = SplitMix64::new(seed, batch);
    let out: Vec<Tensor> = (0..images.size()[0]).map(|i| one(&images.get(i), &mut random)).collect();
    Tensor::stack(&out, 0)
}

/// The two source rows (or columns) and the weight of the second, for each of `out` outputs from `input`.
fn sampling(input: i64, out: i64) -> (Tensor, Tensor, Tensor) {
    let scale = input as f64 / out as f64;
    let source = (Tensor::arange(out, (Kind::Float, tch::Device::Cpu)) * scale).clamp_max((input - 1) as f64);
    let low = source.floor();
    let weight = &source - &low;
    let low = low.to_kind(Kind::Int64);
    let high = (&low + 1).clamp_max(input - 1);
    (low, high, weight)
}

/// TF 1's `resize_bilinear(align_corners=False)` (no half-pixel centres) of a `[C, H, W]` image to
/// `height`×`width`.
pub(super) fn resize_bilinear(image: &Tensor, height: i64, width: i64) -> Tensor {
    let (h, w) = (image.size()[1], image.size()[2]);
    if (h, w) == (height, width) {
        return image.shallow_clone();
    }
    let device = image.device();
    let (top, bottom, dy) = sampling(h, height);
    let rows_low = image.index_select(1, &top.to_device(device));
    let rows_high = image.index_select(1, &bottom.to_device(device));
    let rows = rows_low.lerp_tensor(&rows_high, &dy.to_device(device).view([1, -1, 1]));
    let (left, right, dx) = sampling(w, width);
    let columns_low = rows.index_select(2, &left.to_device(device));
    let columns_high = rows.index_select(2, &right.to_device(device));
    columns_low.lerp_tensor(&columns_high, &dx.to_device(device).view([1, 1, -1]))
}

/// TF-Slim's `_aspect_preserving_resize`: the smaller side becomes `smallest_side`.
pub(super) fn aspect_preserving_resize(image: &Tensor, smallest_side: i64) -> Tensor {
    let (h, w) = (image.size()[1] as f64, image.size()[2] as f64);
    let scale = smallest_side as f64 / h.min(w);
    resize_bilinear(image, (h * scale).round() as i64, (w * scale).round() as i64)
}

/// The `height`×`width` window at `top`, `left`.
pub(super) fn crop(image: &Tensor, top: i64, left: i64, height: i64, width: i64) -> Tensor {
    image.narrow(1, top, height).narrow(2, left, width)
}

/// TF-Slim's `_central_crop`: the centred `height`×`width` window (the image must be at least that large).
pub(super) fn central_crop(image: &Tensor, height: i64, width: i64) -> Tensor {
    let (h, w) = (image.size()[1], image.size()[2]);
    crop(image, (h - height) / 2, (w - width) / 2, height.min(h), width.min(w))
}

/// TF's `central_crop(image, fraction)`: the centred window holding `fraction` of each side.
pub(super) fn central_fraction(image: &Tensor, fraction: f64) -> Tensor {
    let (h, w) = (image.size()[1], image.size()[2]);
    let top = ((h as f64 - h as f64 * fraction) / 2.0) as i64;
    let left = ((w as f64 - w as f64 * fraction) / 2.0) as i64;
    crop(image, top, left, h - 2 * top, w - 2 * left)
}

/// TF's `adjust_saturation` of an RGB image in [0, 1] by `factor`: hue and value stay, saturation is scaled
/// (and clipped to 1). With value `v = max` each channel is `v − (v − c)`, and scaling the saturation scales
/// `v − c`, so no HSV round trip is needed. Images of another channel count are returned unchanged.
pub(super) fn adjust_saturation(image: &Tensor, factor: f64) -> Tensor {
    if image.size()[0] != 3 {
        return image.shallow_clone();
    }
    let value = image.amax(&[0i64][..], true);
    let minimum = image.amin(&[0i64][..], true);
    let saturation = (&value - &minimum) / value.clamp_min(1e-12);
    // The saturation after scaling is min(s·factor, 1): the distance to `value` grows by min(factor, 1/s).
    let growth = (saturation.clamp_min(1e-12).reciprocal()).clamp_max(factor.max(0.0));
    &value - (&value - image) * growth
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(values: &[f32], c: i64, h: i64, w: i64) -> Tensor {
        Tensor::from_slice(values).view([c, h, w])
    }

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::try_from(t.flatten(0, -1)).unwrap_or_default()
    }

    #[test]
    fn resize_samples_at_dst_times_scale_as_tf1() {
        // TF 1: resize_bilinear([[0, 1], [2, 3]] → 4×4) samples rows/columns at 0, 0.5, 1, 1 (the edge repeats).
        let out = resize_bilinear(&image(&[0.0, 1.0, 2.0, 3.0], 1, 2, 2), 4, 4);
        let expected = [0.0, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0, 2.0, 2.0, 2.5, 3.0, 3.0, 2.0, 2.5, 3.0, 3.0];
        assert_eq!(values(&out), expected);
        let down = resize_bilinear(&Tensor::arange(16, (Kind::Float, tch::Device::Cpu)).view([1, 4, 4]), 2, 2);
        assert_eq!(values(&down), [0.0, 2.0, 8.0, 10.0], "downsizing by 2 takes every other pixel");
    }

    #[test]
    fn aspect_preserving_resize_and_crops() {
        let tall = Tensor::zeros([3, 40, 20], (Kind::Float, tch::Device::Cpu));
        assert_eq!(aspect_preserving_resize(&tall, 10).size(), [3, 20, 10]);
        let numbered = Tensor::arange(25, (Kind::Float, tch::Device::Cpu)).view([1, 5, 5]);
        assert_eq!(values(&central_crop(&numbered, 3, 3)), [6.0, 7.0, 8.0, 11.0, 12.0, 13.0, 16.0, 17.0, 18.0]);
        assert_eq!(central_fraction(&Tensor::zeros([1, 8, 8], (Kind::Float, tch::Device::Cpu)), 0.5).size(), [1, 4, 4]);
    }

    #[test]
    fn saturation_scales_the_distance_to_the_brightest_channel() {
        let rgb = image(&[0.8, 0.4, 0.2], 3, 1, 1); // v 0.8, s 0.75
        let halved = values(&adjust_saturation(&rgb, 0.5));
        for (got, want) in halved.iter().zip([0.8, 0.6, 0.5]) {
            assert!((got - want).abs() < 1e-6, "{halved:?}");
        }
        let doubled = values(&adjust_saturation(&rgb, 2.0)); // s would be 1.5: clipped to 1, growth 4/3
        for (got, want) in doubled.iter().zip([0.8, 0.8 - 0.4 * 4.0 / 3.0, 0.0]) {
            assert!((got - want).abs() < 1e-6, "{doubled:?}");
        }
        let gray = image(&[0.5, 0.5, 0.5], 3, 1, 1);
        assert_eq!(values(&adjust_saturation(&gray, 1.5)), [0.5, 0.5, 0.5]);
    }
}
