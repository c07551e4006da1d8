//! TFRecord files of `tf.train.Example`s, as TF-Slim's `download_and_convert_*` scripts wrote them:
//! `image/encoded` (PNG, JPEG, or raw bytes with `image/height`, `image/width`, `image/channels`),
//! `image/format`, `image/class/label`. Every record's checksums are verified.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use prost::Message;
use tch::{Kind, Tensor};

use super::dataset::Dataset;
use crate::io::read_records;
use crate::{Error, Result};

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
struct Image {
    height: usize,
    width: usize,
    channels: usize,
    pixels: Vec<u8>,
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
fn decode_example(data: &[u8]) -> std::result::Result<(Image, i64), String> {
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

/// A dataset from TFRecord files of `tf.train.Example` images (all of one size) with labels in
/// `0..num_classes`. A bad checksum, an undecodable image, a size that differs or a label out of range is an
/// error naming the file and the record.
pub fn tfrecord_dataset(name: &str, files: &[PathBuf], num_classes: i64) -> Result<Dataset> {
    let (mut pixels, mut labels, mut shape) = (Vec::new(), Vec::new(), None);
    for path in files {
        let bad = |message: String| Error::Io { path: path.display().to_string(), message };
        let contents = std::fs::read(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        let records = read_records(&contents).map_err(|error| match error {
            Error::Io { message, .. } => bad(message),
            other => other,
        })?;
        for (index, record) in records.iter().enumerate() {
            let (image, label) = decode_example(record).map_err(|m| bad(format!("record {index}: {m}")))?;
            if !(0..num_classes).contains(&label) {
                return Err(bad(format!("record {index}: label {label} is not in 0..{num_classes}")));
            }
            let this = (image.channels, image.height, image.width);
            if *shape.get_or_insert(this) != this {
                return Err(bad(format!("record {index}: image {this:?} differs from the first, {shape:?}")));
            }
            // Channels last in the file; channels first in the dataset.
            let (c, h, w) = this;
            pixels
                .extend((0..c).flat_map(|ch| (0..h * w).map(move |p| (ch, p))).map(|(ch, p)| image.pixels[p * c + ch]));
            labels.push(label);
        }
    }
    let (c, h, w) = shape.ok_or_else(|| {
        let listed: Vec<String> = files.iter().map(|path| path.display().to_string()).collect();
        Error::NotFound(format!("the TFRecord files of {name} hold no record ({})", listed.join(", ")))
    })?;
    Ok(Dataset {
        name: name.to_string(),
        images: Tensor::from_slice(&pixels).view([labels.len() as i64, c as i64, h as i64, w as i64]),
        labels: Tensor::from_slice(&labels).to_kind(Kind::Int64),
        num_classes,
        labels_to_names: (0..num_classes).map(|c| c.to_string()).collect(),
    })
}

/// The TFRecord files in `dir` whose names start with `prefix` (`mnist_train`), sorted.
pub fn tfrecord_files(dir: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Io { path: dir.display().to_string(), message: format!("cannot list: {e}") })?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.file_name().is_some_and(|name| name.to_string_lossy().starts_with(prefix)))
        .collect();
    files.sort();
    Ok(files)
}
