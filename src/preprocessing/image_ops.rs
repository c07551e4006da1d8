//! Image operations of TF's `tf.image` that the zoo's preprocessings use, on one image on the CPU in plain loops
//! (no libtorch call a pixel, no threads of their own, so that preprocessing threads scale): TF 1's bilinear
//! resize (corner-aligned sampling `src = dst · in / out`, as TF-Slim's scripts ran it) of a window of the
//! image, computing only the part of the output that a crop keeps, the aspect-preserving size, central
//! windows, flips, brightness and saturation; and the per-image loop over a batch.

use std::borrow::Cow;

use tch::{Kind, Tensor};

use crate::data::{DecodedImage, FloatImage, SplitMix64};
use crate::{Error, Result};

/// An image's pixels: bytes (borrowed from a decoded image, or copied from a tensor), or floats for a tensor of
/// another kind.
enum Pixels<'a> {
    Bytes(Cow<'a, [u8]>),
    Floats(Vec<f32>),
}

/// An image to preprocess: `[H, W, C]` pixels, channels last.
pub(super) struct Source<'a> {
    pub(super) height: usize,
    pub(super) width: usize,
    channels: usize,
    pixels: Pixels<'a>,
}

impl Source<'static> {
    /// The pixels of a `[C, H, W]` image tensor (bytes stay bytes; other kinds become floats).
    pub(super) fn of_tensor(image: &Tensor) -> Result<Self> {
        let torch = |source| Error::Torch { context: "preprocessing".into(), source };
        let &[channels, height, width] = &image.size()[..] else {
            return Err(Error::invalid("preprocessing", format!("expected a [C, H, W] image, got {:?}", image.size())));
        };
        if channels < 1 || height < 1 || width < 1 {
            return Err(Error::invalid("preprocessing", format!("an empty image: {:?}", image.size())));
        }
        let hwc = image.permute([1, 2, 0]).flatten(0, -1);
        let pixels = match image.kind() {
            Kind::Uint8 => Pixels::Bytes(Cow::Owned(Vec::<u8>::try_from(&hwc).map_err(torch)?)),
            _ => Pixels::Floats(Vec::<f32>::try_from(&hwc.to_kind(Kind::Float)).map_err(torch)?),
        };
        Ok(Source { height: height as usize, width: width as usize, channels: channels as usize, pixels })
    }
}

impl<'a> Source<'a> {
    /// A decoded image's pixels, borrowed.
    pub(super) fn of_decoded(image: &'a DecodedImage) -> Result<Self> {
        let expected = image.height * image.width * image.channels;
        if expected == 0 || image.pixels.len() != expected {
            return Err(Error::invalid(
                "preprocessing",
                format!("a malformed {}×{}×{} image", image.height, image.width, image.channels),
            ));
        }
        let pixels = Pixels::Bytes(Cow::Borrowed(&image.pixels));
        Ok(Source { height: image.height, width: image.width, channels: image.channels, pixels })
    }
}

/// A rectangle of an image: its top row, left column, height and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Window {
    pub(super) top: usize,
    pub(super) left: usize,
    pub(super) height: usize,
    pub(super) width: usize,
}

impl Window {
    /// The whole of a `height`×`width` image.
    pub(super) fn whole(height: usize, width: usize) -> Window {
        Window { top: 0, left: 0, height, width }
    }

    /// TF-Slim's `_central_crop`: the centred `height`×`width` window of a `within`-sized image (no larger than
    /// it).
    pub(super) fn central(within: (usize, usize), height: usize, width: usize) -> Window {
        let (height, width) = (height.min(within.0), width.min(within.1));
        Window { top: (within.0 - height) / 2, left: (within.1 - width) / 2, height, width }
    }

    /// TF's `central_crop(image, fraction)`: the centred window holding `fraction` of each side.
    pub(super) fn central_fraction(height: usize, width: usize, fraction: f64) -> Window {
        let top = ((height as f64 - height as f64 * fraction) / 2.0) as usize;
        let left = ((width as f64 - width as f64 * fraction) / 2.0) as usize;
        Window { top, left, height: height - 2 * top, width: width - 2 * left }
    }
}

/// What the preprocessings do to a float image besides resizing it.
pub(super) trait ImageOps {
    /// Mirrors the image left to right.
    fn flip_left_right(&mut self);
    /// Applies `f` to every value.
    fn map(&mut self, f: impl Fn(f32) -> f32);
    /// Applies `f(channel, value)` to every value.
    fn map_channels(&mut self, f: impl Fn(usize, f32) -> f32);
    /// TF's `adjust_saturation` of an RGB image in [0, 1] by `factor`: hue and value stay, saturation is scaled
    /// (and clipped to 1). With value `v = max` each channel is `v − (v − c)`, and scaling the saturation scales
    /// `v − c`, so no HSV round trip is needed. Images of another channel count are left as they are.
    fn adjust_saturation(&mut self, factor: f32);
}

impl ImageOps for FloatImage {
    fn flip_left_right(&mut self) {
        self.data.chunks_exact_mut(self.width).for_each(<[f32]>::reverse);
    }

    fn map(&mut self, f: impl Fn(f32) -> f32) {
        self.data.iter_mut().for_each(|value| *value = f(*value));
    }

    fn map_channels(&mut self, f: impl Fn(usize, f32) -> f32) {
        let plane = self.height * self.width;
        for (channel, values) in self.data.chunks_exact_mut(plane).enumerate() {
            values.iter_mut().for_each(|value| *value = f(channel, *value));
        }
    }

    fn adjust_saturation(&mut self, factor: f32) {
        if self.channels != 3 {
            return;
        }
        let plane = self.height * self.width;
        let (red, rest) = self.data.split_at_mut(plane);
        let (green, blue) = rest.split_at_mut(plane);
        for ((r, g), b) in red.iter_mut().zip(green.iter_mut()).zip(blue.iter_mut()) {
            let value = r.max(*g).max(*b);
            let minimum = r.min(*g).min(*b);
            let saturation = (value - minimum) / value.max(1e-12);
            // The saturation after scaling is min(s·factor, 1): the distance to `value` grows by min(factor, 1/s).
            let growth = (1.0 / saturation.max(1e-12)).min(factor.max(0.0));
            for channel in [r, g, b] {
                *channel = value - (value - *channel) * growth;
            }
        }
    }
}

/// The two source rows (or columns) and the weight of the second, for each of `out` outputs from `input`.
fn sampling(input: usize, out: usize) -> Vec<(usize, usize, f32)> {
    let scale = (input as f64 / out as f64) as f32;
    let last = (input - 1) as f32;
    (0..out)
        .map(|i| {
            let source = (i as f32 * scale).min(last);
            let low = source.floor();
            (low as usize, (low as usize + 1).min(input - 1), source - low)
        })
        .collect()
}

/// TF 1's `resize_bilinear(align_corners=False)` of `window` of `source` (each value times `1 / divisor`, as TF's
/// `convert_image_dtype` scales bytes) to
/// `out` = (height, width), of which only the `keep` window is computed and returned (a crop after a resize,
/// without the resize's other pixels). Rows are interpolated first, then columns, each as TF does:
/// `a + (b − a) · weight`.
pub(super) fn resize(source: &Source, window: Window, out: (usize, usize), keep: Window, divisor: f32) -> FloatImage {
    match &source.pixels {
        Pixels::Bytes(pixels) => resize_typed(pixels.as_ref(), source, window, out, keep, divisor),
        Pixels::Floats(pixels) => resize_typed(pixels, source, window, out, keep, divisor),
    }
}

fn resize_typed<T: Copy + Into<f32>>(
    pixels: &[T],
    source: &Source,
    window: Window,
    out: (usize, usize),
    keep: Window,
    divisor: f32,
) -> FloatImage {
    let rows = &sampling(window.height, out.0)[keep.top..keep.top + keep.height];
    let columns = &sampling(window.width, out.1)[keep.left..keep.left + keep.width];
    // The source columns the kept outputs read, each once (a downsized row reads fewer than it has).
    let mut needed: Vec<usize> = columns.iter().flat_map(|&(left, right, _)| [left, right]).collect();
    needed.sort_unstable();
    needed.dedup();
    let slot = |column: usize| needed.binary_search(&column).unwrap_or_default();
    let taps: Vec<(usize, usize, f32)> =
        columns.iter().map(|&(left, right, dx)| (slot(left), slot(right), dx)).collect();
    let (channels, scale, count) = (source.channels, 1.0 / divisor, needed.len());
    let offsets: Vec<usize> = needed.iter().map(|&x| (window.left + x) * channels).collect();
    let stride = source.width * channels;
    let mut data = vec![0.0f32; channels * keep.height * keep.width];
    let mut interpolated = vec![0.0f32; channels * count]; // the needed columns of one output row, by channel
    for (y, &(top, bottom, dy)) in rows.iter().enumerate() {
        let upper = &pixels[(window.top + top) * stride..][..stride];
        let lower = &pixels[(window.top + bottom) * stride..][..stride];
        for (slot, &offset) in offsets.iter().enumerate() {
            for c in 0..channels {
                let (a, b) = (upper[offset + c].into(), lower[offset + c].into());
                interpolated[c * count + slot] = (a + (b - a) * dy) * scale;
            }
        }
        for (c, row) in interpolated.chunks_exact(count).enumerate() {
            let output = &mut data[(c * keep.height + y) * keep.width..][..keep.width];
            for (value, &(left, right, dx)) in output.iter_mut().zip(&taps) {
                *value = row[left] + (row[right] - row[left]) * dx;
            }
        }
    }
    FloatImage { channels, height: keep.height, width: keep.width, data }
}

/// TF-Slim's `_aspect_preserving_resize`'s output size: the smaller side becomes `smallest_side`.
pub(super) fn aspect_preserving_size(height: usize, width: usize, smallest_side: usize) -> (usize, usize) {
    let scale = smallest_side as f64 / height.min(width) as f64;
    ((height as f64 * scale).round() as usize, (width as f64 * scale).round() as usize)
}

/// `one` applied to each image of a `[B, C, H, W]` batch, with the random draws of batch number `batch` from
/// `seed`, stacked again.
/// `one` applied to each image of `images`, image `i` drawing from its own generator seeded with `seed` and
/// example number `first + i` (as a streamed example's), stacked.
pub(super) fn map_examples(
    images: &Tensor,
    seed: u64,
    first: u64,
    one: impl Fn(&Source, &mut SplitMix64) -> Result<FloatImage>,
) -> Result<Tensor> {
    let out: Vec<Tensor> = (0..images.size().first().copied().unwrap_or(0))
        .map(|i| {
            let mut random = SplitMix64::new(seed, first + i as u64);
            one(&Source::of_tensor(&images.get(i))?, &mut random)?.into_tensor()
        })
        .collect::<Result<_>>()?;
    Tensor::f_stack(&out, 0).map_err(|source| Error::Torch { context: "preprocessing".into(), source })
}

pub(super) fn map_images(
    images: &Tensor,
    seed: u64,
    batch: u64,
    one: impl Fn(&Source, &mut SplitMix64) -> Result<FloatImage>,
) -> Result<Tensor> {
    let mut random = SplitMix64::new(seed, batch);
    let out: Vec<Tensor> = (0..images.size().first().copied().unwrap_or(0))
        .map(|i| one(&Source::of_tensor(&images.get(i))?, &mut random)?.into_tensor())
        .collect::<Result<_>>()?;
    Tensor::f_stack(&out, 0).map_err(|source| Error::Torch { context: "preprocessing".into(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(values: &[f32], c: i64, h: i64, w: i64) -> Source<'static> {
        Source::of_tensor(&Tensor::from_slice(values).view([c, h, w])).unwrap()
    }

    fn whole_resize(source: &Source, height: usize, width: usize) -> Vec<f32> {
        let window = Window::whole(source.height, source.width);
        resize(source, window, (height, width), Window::whole(height, width), 1.0).data
    }

    #[test]
    fn resize_samples_at_dst_times_scale_as_tf1() {
        // TF 1: resize_bilinear([[0, 1], [2, 3]] → 4×4) samples rows/columns at 0, 0.5, 1, 1 (the edge repeats).
        let out = whole_resize(&source(&[0.0, 1.0, 2.0, 3.0], 1, 2, 2), 4, 4);
        let expected = [0.0, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0, 2.0, 2.0, 2.5, 3.0, 3.0, 2.0, 2.5, 3.0, 3.0];
        assert_eq!(out, expected);
        let numbers: Vec<f32> = (0..16).map(|i| i as f32).collect();
        assert_eq!(whole_resize(&source(&numbers, 1, 4, 4), 2, 2), [0.0, 2.0, 8.0, 10.0], "every other pixel");
        assert_eq!(whole_resize(&source(&numbers, 1, 4, 4), 4, 4), numbers, "the same size leaves it as it is");
    }

    #[test]
    fn a_kept_window_is_that_part_of_the_whole_resize_and_bytes_read_as_floats() {
        let bytes: Vec<u8> = (0..3 * 5 * 7).map(|i| (i * 7 % 256) as u8).collect();
        let image = Tensor::from_slice(&bytes).view([3, 5, 7]);
        let (of_bytes, of_floats) =
            (Source::of_tensor(&image).unwrap(), Source::of_tensor(&image.to_kind(Kind::Float)).unwrap());
        let window = Window { top: 1, left: 2, height: 4, width: 5 };
        let whole = resize(&of_bytes, window, (9, 11), Window::whole(9, 11), 255.0);
        let part = resize(&of_floats, window, (9, 11), Window { top: 2, left: 3, height: 4, width: 6 }, 255.0);
        let whole = whole.into_tensor().unwrap().narrow(1, 2, 4).narrow(2, 3, 6);
        assert!(whole.equal(&part.into_tensor().unwrap()));
    }

    #[test]
    fn windows_sizes_flips_and_saturation() {
        assert_eq!(aspect_preserving_size(40, 20, 10), (20, 10));
        assert_eq!(Window::central((5, 5), 3, 3), Window { top: 1, left: 1, height: 3, width: 3 });
        assert_eq!(Window::central((2, 9), 4, 4), Window { top: 0, left: 2, height: 2, width: 4 });
        assert_eq!(Window::central_fraction(8, 8, 0.5), Window { top: 2, left: 2, height: 4, width: 4 });
        let mut image = FloatImage { channels: 1, height: 2, width: 3, data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0] };
        image.flip_left_right();
        assert_eq!(image.data, [3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
        let rgb = |values: [f32; 3]| FloatImage { channels: 3, height: 1, width: 1, data: values.to_vec() };
        let mut halved = rgb([0.8, 0.4, 0.2]); // v 0.8, s 0.75
        halved.adjust_saturation(0.5);
        assert!(
            halved.data.iter().zip([0.8, 0.6, 0.5]).all(|(got, want)| (got - want).abs() < 1e-6),
            "{:?}",
            halved.data
        );
        let mut doubled = rgb([0.8, 0.4, 0.2]); // s would be 1.5: clipped to 1, growth 4/3
        doubled.adjust_saturation(2.0);
        let want = [0.8, 0.8 - 0.4 * 4.0 / 3.0, 0.0];
        assert!(doubled.data.iter().zip(want).all(|(got, want)| (got - want).abs() < 1e-6), "{:?}", doubled.data);
        let mut gray = rgb([0.5, 0.5, 0.5]);
        gray.adjust_saturation(1.5);
        assert_eq!(gray.data, [0.5, 0.5, 0.5]);
    }
}
