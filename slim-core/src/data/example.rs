//! `tf.train.Example` records: the protocol buffer messages; any Example's features by name, read or built
//! ([`ExampleFeatures`]); and the image and label of one as TF-Slim's converters write them (`image/encoded` PNG,
//! JPEG or raw with `image/height`, `image/width`, `image/channels`; `image/format`; `image/class/label`),
//! each decoder's output size bounded.

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

/// The values of one feature of a `tf.train.Example`: one of its three lists.
#[derive(Clone, Debug, PartialEq)]
pub enum FeatureValues {
    /// `bytes_list`: strings, encoded images.
    Bytes(Vec<Vec<u8>>),
    /// `float_list`.
    Floats(Vec<f32>),
    /// `int64_list`.
    Ints(Vec<i64>),
}

impl FeatureValues {
    /// How many values it holds.
    pub fn len(&self) -> usize {
        match self {
            FeatureValues::Bytes(values) => values.len(),
            FeatureValues::Floats(values) => values.len(),
            FeatureValues::Ints(values) => values.len(),
        }
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The list's name in TF (`bytes`, `float`, `int64`).
    pub fn kind(&self) -> &'static str {
        match self {
            FeatureValues::Bytes(_) => "bytes",
            FeatureValues::Floats(_) => "float",
            FeatureValues::Ints(_) => "int64",
        }
    }
}

/// A `tf.train.Example`'s features by name: parsed from a record, or built and encoded (TF's
/// `tf.train.Example(features=tf.train.Features(feature={...}))`). A feature that sets none of the three lists
/// is left out, as TF reads it as missing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExampleFeatures {
    /// The features, by name.
    pub features: BTreeMap<String, FeatureValues>,
}

impl ExampleFeatures {
    /// The features of a serialized `tf.train.Example`; bytes that are not one are an error saying so.
    pub fn parse(record: &[u8]) -> Result<Self> {
        let example = Example::decode(record)
            .map_err(|e| Error::invalid("tf.train.Example", format!("not a tf.train.Example: {e}")))?;
        let features = example.features.map(|features| features.feature).unwrap_or_default();
        let features = features
            .into_iter()
            .filter_map(|(key, feature)| {
                let values = match feature {
                    Feature { bytes_list: Some(list), .. } => FeatureValues::Bytes(list.value),
                    Feature { float_list: Some(list), .. } => FeatureValues::Floats(list.value),
                    Feature { int64_list: Some(list), .. } => FeatureValues::Ints(list.value),
                    _ => return None,
                };
                Some((key, values))
            })
            .collect();
        Ok(ExampleFeatures { features })
    }

    /// These features with `key` set to `values`.
    pub fn with(mut self, key: impl Into<String>, values: FeatureValues) -> Self {
        self.features.insert(key.into(), values);
        self
    }

    /// The values of feature `key`.
    pub fn get(&self, key: &str) -> Option<&FeatureValues> {
        self.features.get(key)
    }

    /// The serialized `tf.train.Example` (features in name order, so equal features encode equally).
    pub fn encode(&self) -> Vec<u8> {
        let feature = self.features.iter().map(|(key, values)| (key.clone(), to_feature(values.clone()))).collect();
        Example { features: Some(Features { feature }) }.encode_to_vec()
    }
}

/// The protocol buffer message of a feature's values.
fn to_feature(values: FeatureValues) -> Feature {
    match values {
        FeatureValues::Bytes(value) => Feature { bytes_list: Some(BytesList { value }), ..Default::default() },
        FeatureValues::Floats(value) => Feature { float_list: Some(FloatList { value }), ..Default::default() },
        FeatureValues::Ints(value) => Feature { int64_list: Some(Int64List { value }), ..Default::default() },
    }
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
    let features = ExampleFeatures::default()
        .with("image/encoded", FeatureValues::Bytes(vec![encoded.to_vec()]))
        .with("image/format", FeatureValues::Bytes(vec![format.as_bytes().to_vec()]))
        .with("image/class/label", FeatureValues::Ints(vec![label]))
        .with("image/height", FeatureValues::Ints(vec![image.height as i64]))
        .with("image/width", FeatureValues::Ints(vec![image.width as i64]));
    Ok(features.encode())
}
