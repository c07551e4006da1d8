//! `tf.train.Example` records as TF-Slim's converters write them, decoded to an image and a label: the protocol
//! buffer messages, and PNG, JPEG and raw images (`image/encoded`, `image/format`, `image/height`,
//! `image/width`, `image/channels`, `image/class/label`), each decoder's output size bounded.

use std::collections::HashMap;

use prost::Message;
use tch::Tensor;

/// `tf.train.BytesList`.
#[derive(Clone, PartialEq, prost::Message)]
struct BytesList {
    #[prost(bytes = "vec", repeated, tag = "1")]
    value: Vec<Vec<u8>>,
}

/// `tf.train.FloatList`.
#[derive(Clone, PartialEq, prost::Message)]
struct FloatList {
    #[prost(float, repeated, tag = "1")]
    value: Vec<f32>,
}

/// `tf.train.Int64List`.
#[derive(Clone, PartialEq, prost::Message)]
struct Int64List {
    #[prost(int64, repeated, tag = "1")]
    value: Vec<i64>,
}

/// `tf.train.Feature`: one of the three lists.
#[derive(Clone, PartialEq, prost::Message)]
struct Feature {
    #[prost(message, optional, tag = "1")]
    bytes_list: Option<BytesList>,
    #[prost(message, optional, tag = "2")]
    float_list: Option<FloatList>,
    #[prost(message, optional, tag = "3")]
    int64_list: Option<Int64List>,
}

/// `tf.train.Features`.
#[derive(Clone, PartialEq, prost::Message)]
struct Features {
    #[prost(map = "string, message", tag = "1")]
    feature: HashMap<String, Feature>,
}

/// `tf.train.Example`.
#[derive(Clone, PartialEq, prost::Message)]
struct Example {
    #[prost(message, optional, tag = "1")]
    features: Option<Features>,
}

/// A decoded image: height, width, channels, and the bytes row-major with channels last.
pub(super) struct Image {
    pub(super) height: usize,
    pub(super) width: usize,
    pub(super) channels: usize,
    pub(super) pixels: Vec<u8>,
}

impl Image {
    /// The image with `channels` channels, as TF's `decode_image(channels=…)` gives it: gray becomes RGB by
    /// repeating it, RGB becomes gray by ITU-R 601 luma, an alpha channel is dropped (or made
    /// opaque). 1 to 4 channels either way.
    pub(super) fn with_channels(self, channels: usize) -> std::result::Result<Image, String> {
        if channels == self.channels {
            return Ok(self);
        }
        let (from, to) = (self.channels, channels);
        if !(1..=4).contains(&from) || !(1..=4).contains(&to) {
            return Err(format!("cannot turn a {from}-channel image into {to} channels"));
        }
        let luma = |p: &[u8]| ((p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114 + 500) / 1000) as u8;
        let mut pixels = Vec::with_capacity(self.height * self.width * to);
        for p in self.pixels.chunks_exact(from) {
            let (color, alpha) = match from {
                1 | 2 => ([p[0]; 3], p.get(1).copied()),
                _ => ([p[0], p[1], p[2]], p.get(3).copied()),
            };
            match to {
                1 => pixels.push(if from >= 3 { luma(p) } else { color[0] }),
                2 => pixels.extend_from_slice(&[if from >= 3 { luma(p) } else { color[0] }, alpha.unwrap_or(255)]),
                3 => pixels.extend_from_slice(&color),
                _ => pixels.extend_from_slice(&[color[0], color[1], color[2], alpha.unwrap_or(255)]),
            }
        }
        Ok(Image { pixels, channels, ..self })
    }

    /// The image as a `[C, H, W]` tensor of unsigned bytes.
    pub(super) fn to_tensor(&self) -> std::result::Result<Tensor, String> {
        let (h, w, c) = (self.height, self.width, self.channels);
        if h.checked_mul(w).and_then(|pixels| pixels.checked_mul(c)) != Some(self.pixels.len()) || h * w == 0 {
            return Err(format!("{} decoded bytes are not a {h}×{w}×{c} image", self.pixels.len()));
        }
        let hwc = Tensor::from_slice(&self.pixels).view([h as i64, w as i64, c as i64]);
        Ok(hwc.permute([2, 0, 1]).contiguous())
    }
}

/// The most bytes a decoded image may take (64 MiB): a header can declare any size (behind a valid checksum), and
/// the decoders allocate what it declares before reading the data.
const MAX_DECODED_IMAGE_BYTES: usize = 64 << 20;

fn decode_png(bytes: &[u8]) -> std::result::Result<Image, String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let (width, height) = (reader.info().width, reader.info().height);
    let size = reader.output_buffer_size().filter(|&size| size <= MAX_DECODED_IMAGE_BYTES);
    let size =
        size.ok_or_else(|| format!("the PNG declares {width}×{height} pixels, more than slim decodes (64 MiB)"))?;
    let mut pixels = vec![0; size];
    let frame = reader.next_frame(&mut pixels).map_err(|e| e.to_string())?;
    pixels.truncate(frame.buffer_size());
    Ok(Image {
        height: frame.height as usize,
        width: frame.width as usize,
        channels: frame.color_type.samples(),
        pixels,
    })
}

fn decode_jpeg(bytes: &[u8]) -> std::result::Result<Image, String> {
    let mut decoder = zune_jpeg::JpegDecoder::new(std::io::Cursor::new(bytes));
    decoder.decode_headers().map_err(|e| format!("{e:?}"))?;
    let (width, height) = decoder.dimensions().ok_or("the JPEG has no dimensions")?;
    let declared = width.checked_mul(height).and_then(|pixels| pixels.checked_mul(4));
    if declared.is_none_or(|bytes| bytes > MAX_DECODED_IMAGE_BYTES) {
        return Err(format!("the JPEG declares {width}×{height} pixels, more than slim decodes (64 MiB)"));
    }
    let pixels = decoder.decode().map_err(|e| format!("{e:?}"))?;
    let (width, height) = decoder.dimensions().ok_or("the JPEG has no dimensions")?;
    let channels = pixels.len() / (width * height).max(1);
    Ok(Image { height, width, channels, pixels })
}

fn int(features: &Features, key: &str) -> Option<i64> {
    features.feature.get(key)?.int64_list.as_ref()?.value.first().copied()
}

fn bytes<'a>(features: &'a Features, key: &str) -> Option<&'a [u8]> {
    features.feature.get(key)?.bytes_list.as_ref()?.value.first().map(Vec::as_slice)
}

/// One record's image and label.
pub(super) fn decode_example(data: &[u8]) -> std::result::Result<(Image, i64), String> {
    let example = Example::decode(data).map_err(|e| format!("not a tf.train.Example: {e}"))?;
    let features = example.features.ok_or("the Example has no features")?;
    let label = int(&features, "image/class/label").ok_or("no image/class/label")?;
    let encoded = bytes(&features, "image/encoded").ok_or("no image/encoded")?;
    let format = bytes(&features, "image/format").map(|f| String::from_utf8_lossy(f).to_lowercase());
    let image = match format.as_deref() {
        Some("png") | None => decode_png(encoded)?,
        Some("jpeg") | Some("jpg") => decode_jpeg(encoded)?,
        Some("raw") => {
            let dim = |key: &str| {
                let value = int(&features, key).unwrap_or(1);
                usize::try_from(value).map_err(|_| format!("{key} is {value}, not a size"))
            };
            let dims = [dim("image/height")?, dim("image/width")?, dim("image/channels")?];
            if dims.iter().try_fold(1usize, |size, &dim| size.checked_mul(dim)) != Some(encoded.len()) {
                return Err(format!("raw image of {} bytes is not {}×{}×{}", encoded.len(), dims[0], dims[1], dims[2]));
            }
            Image { height: dims[0], width: dims[1], channels: dims[2], pixels: encoded.to_vec() }
        }
        Some(other) => return Err(format!("image/format {other:?} is not png, jpeg or raw")),
    };
    Ok((image, label))
}
