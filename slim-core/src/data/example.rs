//! `tf.train.Example` records as TF-Slim's converters write them, decoded to an image and a label: the protocol
//! buffer messages, and PNG, JPEG and raw images (`image/encoded`, `image/format`, `image/height`,
//! `image/width`, `image/channels`, `image/class/label`), each decoder's output size bounded.

use std::collections::BTreeMap;

use prost::Message;

use super::image::{DecodedImage, decode_image, decode_jpeg, decode_png, image_format};
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
    #[prost(btree_map = "string, message", tag = "1")]
    feature: BTreeMap<String, Feature>,
}

/// `tf.train.Example`.
#[derive(Clone, PartialEq, prost::Message)]
struct Example {
    #[prost(message, optional, tag = "1")]
    features: Option<Features>,
}

fn int(features: &Features, key: &str) -> Option<i64> {
    features.feature.get(key)?.int64_list.as_ref()?.value.first().copied()
}

fn bytes<'a>(features: &'a Features, key: &str) -> Option<&'a [u8]> {
    features.feature.get(key)?.bytes_list.as_ref()?.value.first().map(Vec::as_slice)
}

/// One record's image and label.
pub(super) fn decode_example(data: &[u8]) -> std::result::Result<(DecodedImage, i64), String> {
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
            DecodedImage { height: dims[0], width: dims[1], channels: dims[2], pixels: encoded.to_vec() }
        }
        Some(other) => return Err(format!("image/format {other:?} is not png, jpeg or raw")),
    };
    Ok((image, label))
}

/// TF-Slim's `dataset_utils.image_to_tfexample`: a serialized `tf.train.Example` of an encoded PNG or JPEG
/// (kept as it is) with its format (`png`, or `jpg` as TF-Slim's converters write it), height, width and
/// `label`. The image is decoded once to check it and to read its size; `source` names it in an error.
pub fn image_to_tfexample(encoded: &[u8], label: i64, source: &str) -> Result<Vec<u8>> {
    let bad = |message: String| Error::Io { path: source.to_string(), message };
    let format = match image_format(encoded) {
        Some("png") => "png",
        Some(_) => "jpg",
        None => return Err(bad("neither a PNG nor a JPEG (by its first bytes)".into())),
    };
    let image = decode_image(encoded).map_err(|message| bad(format!("does not decode: {message}")))?;
    let bytes =
        |value: &[u8]| Feature { bytes_list: Some(BytesList { value: vec![value.to_vec()] }), ..Default::default() };
    let int = |value: i64| Feature { int64_list: Some(Int64List { value: vec![value] }), ..Default::default() };
    let feature = BTreeMap::from([
        ("image/encoded".to_string(), bytes(encoded)),
        ("image/format".to_string(), bytes(format.as_bytes())),
        ("image/class/label".to_string(), int(label)),
        ("image/height".to_string(), int(image.height as i64)),
        ("image/width".to_string(), int(image.width as i64)),
    ]);
    Ok(Example { features: Some(Features { feature }) }.encode_to_vec())
}
