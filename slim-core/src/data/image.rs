//! Images in memory: decoded ones (PNG and JPEG decoding with the decoded size bounded, the format told by the
//! bytes, channel conversion as TF's `decode_image(channels=…)`) and preprocessed ones, each with its tensor.

use tch::Tensor;

use crate::{Error, Result};

/// A decoded image: its bytes row-major with channels last (`[H, W, C]`, as decoders give them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedImage {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Channels (1 gray, 2 gray and alpha, 3 RGB, 4 RGBA).
    pub channels: usize,
    /// `height · width · channels` bytes.
    pub pixels: Vec<u8>,
}

/// A preprocessed image: floats channels first (`[C, H, W]`), as a batch holds them.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatImage {
    /// Channels.
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// `channels · height · width` values, `data[(c · height + y) · width + x]`.
    pub data: Vec<f32>,
}

impl FloatImage {
    /// The image of a `[C, H, W]` tensor (of any kind, as floats).
    pub fn from_tensor(image: &Tensor) -> Result<FloatImage> {
        let &[channels, height, width] = &image.size()[..] else {
            return Err(Error::invalid("FloatImage", format!("expected a [C, H, W] image, got {:?}", image.size())));
        };
        let data = Vec::<f32>::try_from(&image.flatten(0, -1).to_kind(tch::Kind::Float))
            .map_err(|source| Error::Torch { context: "FloatImage".into(), source })?;
        Ok(FloatImage { channels: channels as usize, height: height as usize, width: width as usize, data })
    }

    /// The `[C, H, W]` float tensor; an error when `data` does not hold `channels · height · width` values.
    pub fn into_tensor(self) -> Result<Tensor> {
        let shape = self.shape();
        Tensor::from_slice(&self.data)
            .f_view(shape)
            .map_err(|source| Error::Torch { context: "FloatImage".into(), source })
    }

    /// Its shape, `[C, H, W]`.
    pub fn shape(&self) -> [i64; 3] {
        [self.channels as i64, self.height as i64, self.width as i64]
    }
}

impl DecodedImage {
    /// The image with `channels` channels, as TF's `decode_image(channels=…)` gives it: gray becomes RGB by
    /// repeating it, RGB becomes gray by ITU-R 601 luma, an alpha channel is dropped (or made
    /// opaque). 1 to 4 channels either way.
    pub(crate) fn with_channels(self, channels: usize) -> std::result::Result<DecodedImage, String> {
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
        Ok(DecodedImage { pixels, channels, ..self })
    }

    /// Checks that the pixels are `height · width · channels` bytes of a non-empty image.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        let (h, w, c) = (self.height, self.width, self.channels);
        if h.checked_mul(w).and_then(|pixels| pixels.checked_mul(c)) != Some(self.pixels.len()) || h * w * c == 0 {
            return Err(format!("{} decoded bytes are not a {h}×{w}×{c} image", self.pixels.len()));
        }
        Ok(())
    }

    /// The image as a `[C, H, W]` tensor of unsigned bytes (a view of the `[H, W, C]` pixels' copy).
    pub fn to_tensor(&self) -> Result<Tensor> {
        self.check().map_err(|message| Error::invalid("DecodedImage", message))?;
        let (h, w, c) = (self.height, self.width, self.channels);
        let hwc = Tensor::from_slice(&self.pixels).view([h as i64, w as i64, c as i64]);
        Ok(hwc.permute([2, 0, 1]))
    }
}

/// The most bytes a decoded image may take (64 MiB): a header can declare any size (behind a valid checksum), and
/// the decoders allocate what it declares before reading the data.
const MAX_DECODED_IMAGE_BYTES: usize = 64 << 20;

pub(super) fn decode_png(bytes: &[u8]) -> std::result::Result<DecodedImage, String> {
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
    Ok(DecodedImage {
        height: frame.height as usize,
        width: frame.width as usize,
        channels: frame.color_type.samples(),
        pixels,
    })
}

pub(super) fn decode_jpeg(bytes: &[u8]) -> std::result::Result<DecodedImage, String> {
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
    Ok(DecodedImage { height, width, channels, pixels })
}

/// Decodes a PNG or a JPEG, told apart by their first bytes.
pub(super) fn decode_image(bytes: &[u8]) -> std::result::Result<DecodedImage, String> {
    match image_format(bytes) {
        Some("png") => decode_png(bytes),
        Some(_) => decode_jpeg(bytes),
        None => Err("neither a PNG nor a JPEG (by its first bytes)".into()),
    }
}

/// `png` or `jpeg` by the bytes' signature, as TF's `decode_image` tells them.
pub(crate) fn image_format(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some("png"),
        [0xff, 0xd8, 0xff, ..] => Some("jpeg"),
        _ => None,
    }
}
