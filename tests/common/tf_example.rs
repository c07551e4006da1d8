//! `tf.train.Example`s of images as TF-Slim's dataset converters write them, and small PNGs to put in them: what
//! the TFRecord tests feed slim's reader. Included with `#[path]` by the tests that use it.
#![allow(dead_code)] // each test crate uses some of it

use std::collections::BTreeMap;

use prost::Message;

#[derive(Clone, PartialEq, prost::Message)]
pub struct BytesList {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub value: Vec<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Int64List {
    #[prost(int64, repeated, tag = "1")]
    pub value: Vec<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Feature {
    #[prost(message, optional, tag = "1")]
    pub bytes_list: Option<BytesList>,
    #[prost(message, optional, tag = "3")]
    pub int64_list: Option<Int64List>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Features {
    #[prost(btree_map = "string, message", tag = "1")]
    pub feature: BTreeMap<String, Feature>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Example {
    #[prost(message, optional, tag = "1")]
    pub features: Option<Features>,
}

/// An Example of an encoded image (`format` png, jpeg or raw; `raw_dims` its height, width and channels) and
/// its label.
pub fn example(encoded: Vec<u8>, format: &str, label: i64, raw_dims: Option<[i64; 3]>) -> Vec<u8> {
    let mut feature = BTreeMap::new();
    let bytes = |v: Vec<u8>| Feature { bytes_list: Some(BytesList { value: vec![v] }), int64_list: None };
    let int = |v: i64| Feature { bytes_list: None, int64_list: Some(Int64List { value: vec![v] }) };
    feature.insert("image/encoded".to_string(), bytes(encoded));
    feature.insert("image/format".to_string(), bytes(format.as_bytes().to_vec()));
    feature.insert("image/class/label".to_string(), int(label));
    if let Some([h, w, c]) = raw_dims {
        feature.insert("image/height".to_string(), int(h));
        feature.insert("image/width".to_string(), int(w));
        feature.insert("image/channels".to_string(), int(c));
    }
    Example { features: Some(Features { feature }) }.encode_to_vec()
}

/// A 2×3 grey PNG whose pixels are `first`, `first + 1`, ….
pub fn png(first: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, 3, 2);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&(first..first + 6).collect::<Vec<u8>>()).unwrap();
    writer.finish().unwrap();
    bytes
}

/// A `width`×`height` PNG of `channels` channels (1 grey, 3 RGB) whose every byte is `value`.
pub fn png_filled(width: u32, height: u32, channels: usize, value: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(if channels == 1 { png::ColorType::Grayscale } else { png::ColorType::Rgb });
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&vec![value; width as usize * height as usize * channels]).unwrap();
    writer.finish().unwrap();
    bytes
}
