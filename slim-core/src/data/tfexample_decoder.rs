//! TF-Slim's `tfexample_decoder`: a `tf.train.Example` parsed by feature specs (TF's `FixedLenFeature` and
//! `VarLenFeature`) and turned into named items by handlers: `Tensor` (reshaped by a fixed shape or by other
//! features, missing values filled with a default), `Image` (PNG, JPEG or raw by the format feature) and
//! `BoundingBox` (four coordinate lists to `[N, 4]`), as TF-Slim's datasets declare them.

use std::borrow::Cow;
use std::collections::BTreeMap;

use tch::Tensor;

use super::example::{ExampleFeatures, FeatureValues};
use super::image::{DecodedImage, decode_image};
use crate::{Error, Result};

/// The type of a feature's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureKind {
    /// Strings (`tf.string`).
    Bytes,
    /// `tf.float32`.
    Float,
    /// `tf.int64`.
    Int64,
}

/// How one feature is parsed.
#[derive(Clone, Debug, PartialEq)]
pub enum FeatureSpec {
    /// TF's `FixedLenFeature(shape, dtype, default_value)`: exactly `shape`'s product of values, or `default`
    /// (one value is repeated over the shape) when the Example lacks the feature; without a default a missing
    /// feature is an error.
    Fixed {
        /// The values' type.
        kind: FeatureKind,
        /// The feature's shape (`[]` for a scalar).
        shape: Vec<i64>,
        /// The values when the feature is missing.
        default: Option<FeatureValues>,
    },
    /// TF's `VarLenFeature(dtype)`: any number of values, none when missing.
    VarLen {
        /// The values' type.
        kind: FeatureKind,
    },
}

/// How an item is made from parsed features (TF-Slim's `ItemHandler`s).
#[derive(Clone, Debug, PartialEq)]
pub enum ItemHandler {
    /// `Tensor(tensor_key, shape_keys, shape, default_value)`: the feature's values, reshaped by `shape` or by
    /// the values of the `shape_keys` features (one dimension each; not both), a variable-length feature padded
    /// with `default_value` to the shape. Strings come out as [`Item::Bytes`].
    Tensor {
        /// The feature.
        key: String,
        /// Features holding the shape's dimensions.
        shape_keys: Vec<String>,
        /// A fixed shape.
        shape: Option<Vec<i64>>,
        /// The value padding a variable-length feature.
        default_value: f64,
    },
    /// `Image(image_key, format_key, shape, channels)`: the image decoded by its format (`raw`/`RAW`: the bytes
    /// as they are, which need `shape`; anything else: PNG or JPEG by their signature) to `channels`, checked
    /// against `shape` (`[height, width, channels]`) when given.
    Image {
        /// The encoded image's feature (`image/encoded`).
        image_key: String,
        /// The format's feature (`image/format`).
        format_key: String,
        /// The images' shape, when all share one.
        shape: Option<[usize; 3]>,
        /// The channels to decode to (3).
        channels: usize,
    },
    /// `BoundingBox(keys, prefix)`: the four variable-length float features `prefix + key` (`ymin`, `xmin`,
    /// `ymax`, `xmax` by default) as an `[N, 4]` tensor.
    BoundingBox {
        /// The four coordinate features' names after the prefix.
        keys: [String; 4],
        /// The features' prefix (`image/object/bbox/`).
        prefix: String,
    },
}

impl ItemHandler {
    /// TF-Slim's `Image()`: `image/encoded` and `image/format`, 3 channels, no fixed shape.
    pub fn image() -> Self {
        ItemHandler::Image {
            image_key: "image/encoded".into(),
            format_key: "image/format".into(),
            shape: None,
            channels: 3,
        }
    }

    /// TF-Slim's `Tensor(key)`: the feature as it is.
    pub fn tensor(key: &str) -> Self {
        ItemHandler::Tensor { key: key.into(), shape_keys: Vec::new(), shape: None, default_value: 0.0 }
    }

    /// TF-Slim's `BoundingBox(['ymin', 'xmin', 'ymax', 'xmax'], prefix)`.
    pub fn bounding_box(prefix: &str) -> Self {
        ItemHandler::BoundingBox { keys: ["ymin", "xmin", "ymax", "xmax"].map(String::from), prefix: prefix.into() }
    }

    /// A `Tensor` handler reshaped to `shape` (TF-Slim's `shape=`); other handlers are returned as they are.
    pub fn reshaped(mut self, new_shape: &[i64]) -> Self {
        if let ItemHandler::Tensor { shape, .. } = &mut self {
            *shape = Some(new_shape.to_vec());
        }
        self
    }

    /// A `Tensor` handler reshaped by the values of the features `keys` (TF-Slim's `shape_keys=`).
    pub fn shaped_by(mut self, keys: &[&str]) -> Self {
        if let ItemHandler::Tensor { shape_keys, .. } = &mut self {
            *shape_keys = keys.iter().map(|key| key.to_string()).collect();
        }
        self
    }

    /// A `Tensor` handler padding a variable-length feature with `value` (TF-Slim's `default_value=`).
    pub fn padded_with(mut self, value: f64) -> Self {
        if let ItemHandler::Tensor { default_value, .. } = &mut self {
            *default_value = value;
        }
        self
    }

    /// An `Image` handler whose images are all `[height, width, channels]` (TF-Slim's `shape=`).
    pub fn image_shape(mut self, image_shape: [usize; 3]) -> Self {
        if let ItemHandler::Image { shape, .. } = &mut self {
            *shape = Some(image_shape);
        }
        self
    }

    /// The features it reads.
    fn keys(&self) -> Vec<String> {
        match self {
            ItemHandler::Tensor { key, shape_keys, .. } => {
                [key.clone()].into_iter().chain(shape_keys.clone()).collect()
            }
            ItemHandler::Image { image_key, format_key, .. } => vec![image_key.clone(), format_key.clone()],
            ItemHandler::BoundingBox { keys, prefix } => keys.iter().map(|key| format!("{prefix}{key}")).collect(),
        }
    }
}

/// A decoded item.
#[derive(Debug)]
pub enum Item {
    /// Numbers: int64 or float32.
    Tensor(Tensor),
    /// Strings, with the shape they were reshaped to.
    Bytes(Vec<Vec<u8>>),
    /// A decoded image.
    Image(DecodedImage),
}

/// TF-Slim's `TFExampleDecoder(keys_to_features, items_to_handlers)`.
#[derive(Clone, Debug)]
pub struct TfExampleDecoder {
    features: BTreeMap<String, FeatureSpec>,
    items: BTreeMap<String, ItemHandler>,
}

/// A parsed feature: its values and shape.
struct Parsed<'a> {
    values: Cow<'a, FeatureValues>,
    shape: Vec<i64>,
}

impl TfExampleDecoder {
    /// A decoder of `features` into `items`. A handler reading a feature that is not declared, or a `Tensor`
    /// with both a shape and shape keys, is an error naming the item.
    pub fn new(features: BTreeMap<String, FeatureSpec>, items: BTreeMap<String, ItemHandler>) -> Result<Self> {
        for (name, handler) in &items {
            if let Some(key) = handler.keys().into_iter().find(|key| !features.contains_key(key)) {
                return Err(Error::invalid(
                    "TfExampleDecoder",
                    format!("item {name:?} reads {key:?}, not a declared feature"),
                ));
            }
            if let ItemHandler::Tensor { shape: Some(_), shape_keys, .. } = handler
                && !shape_keys.is_empty()
            {
                return Err(Error::invalid(
                    "TfExampleDecoder",
                    format!("item {name:?} has both a shape and shape keys"),
                ));
            }
        }
        Ok(TfExampleDecoder { features, items })
    }

    /// The items it decodes, by name.
    pub fn list_items(&self) -> Vec<&str> {
        self.items.keys().map(String::as_str).collect()
    }

    /// The `items` (all when `None`) of the serialized Example `record`. An unknown item, a missing required
    /// feature, values of another type or count than declared, or an image that does not decode is an error
    /// naming the feature or item.
    pub fn decode(&self, record: &[u8], items: Option<&[&str]>) -> Result<BTreeMap<String, Item>> {
        let example = ExampleFeatures::parse(record)?;
        let names: Vec<&str> = items.map(<[&str]>::to_vec).unwrap_or_else(|| self.list_items());
        let mut decoded = BTreeMap::new();
        for name in names {
            let handler = self.items.get(name).ok_or_else(|| {
                Error::invalid("TfExampleDecoder", format!("no item {name:?}; items: {}", self.list_items().join(", ")))
            })?;
            let item =
                self.item(&example, handler).map_err(|message| Error::invalid(format!("item {name:?}"), message))?;
            decoded.insert(name.to_string(), item);
        }
        Ok(decoded)
    }

    /// The feature `key` of `example` as its spec parses it.
    fn parse<'a>(&'a self, example: &'a ExampleFeatures, key: &str) -> std::result::Result<Parsed<'a>, String> {
        let spec = self.features.get(key).ok_or_else(|| format!("{key:?} is not a declared feature"))?;
        let (kind, found) = match spec {
            FeatureSpec::Fixed { kind, .. } | FeatureSpec::VarLen { kind } => (*kind, example.get(key)),
        };
        let values = match (found, spec) {
            (Some(values), _) => values,
            (None, FeatureSpec::Fixed { default: Some(default), .. }) => default,
            (None, FeatureSpec::Fixed { .. }) => return Err(format!("feature {key:?} is required but missing")),
            (None, FeatureSpec::VarLen { .. }) => empty(kind),
        };
        if kind_of(values) != kind {
            return Err(format!("feature {key:?} holds {} values, declared {kind:?}", values.kind()));
        }
        let FeatureSpec::Fixed { shape, .. } = spec else {
            return Ok(Parsed { values: Cow::Borrowed(values), shape: vec![values.len() as i64] });
        };
        let count = checked_count(shape).ok_or_else(|| format!("feature {key:?}: shape {shape:?} is not a size"))?;
        if values.len() == count {
            return Ok(Parsed { values: Cow::Borrowed(values), shape: shape.clone() });
        }
        // A default of one value stands for every element of the (declared, not read) shape.
        if found.is_none() && values.len() == 1 {
            return Ok(Parsed { values: Cow::Owned(repeated(values, count)), shape: shape.clone() });
        }
        Err(format!("feature {key:?} holds {} values, its shape {shape:?} {count}", values.len()))
    }

    fn item(&self, example: &ExampleFeatures, handler: &ItemHandler) -> std::result::Result<Item, String> {
        match handler {
            ItemHandler::Tensor { key, shape_keys, shape, default_value } => {
                let parsed = self.parse(example, key)?;
                // Only a shape the handler declares may pad a variable-length feature: a shape read from the
                // record must hold its values exactly (its size is the file's word, not an allocation size).
                let variable = matches!(self.features.get(key), Some(FeatureSpec::VarLen { .. }));
                let (shape, may_pad) = match shape_keys.is_empty() {
                    true => (shape.clone(), variable),
                    false => (Some(self.shape_from(example, shape_keys)?), false),
                };
                tensor_item(&parsed, shape.as_deref(), may_pad, *default_value).map_err(|m| format!("{key:?}: {m}"))
            }
            ItemHandler::Image { image_key, format_key, shape, channels } => {
                let (image, format) = (self.parse(example, image_key)?, self.parse(example, format_key)?);
                let (image, format) = (single_bytes(&image, image_key)?, single_bytes(&format, format_key)?);
                image_item(image, format, *shape, *channels).map(Item::Image)
            }
            ItemHandler::BoundingBox { keys, prefix } => {
                let sides = keys
                    .iter()
                    .map(|key| match self.parse(example, &format!("{prefix}{key}"))?.values.as_ref() {
                        FeatureValues::Floats(values) => Ok(values.clone()),
                        other => Err(format!("{prefix}{key} holds {} values, not float", other.kind())),
                    })
                    .collect::<std::result::Result<Vec<Vec<f32>>, String>>()?;
                let boxes = sides[0].len();
                if sides.iter().any(|side| side.len() != boxes) {
                    let counts: Vec<usize> = sides.iter().map(Vec::len).collect();
                    return Err(format!("the four coordinate lists differ in length: {counts:?}"));
                }
                let values: Vec<f32> = (0..boxes).flat_map(|b| sides.iter().map(move |side| side[b])).collect();
                Ok(Item::Tensor(Tensor::from_slice(&values).view([boxes as i64, 4])))
            }
        }
    }

    /// A shape from the values of `keys` (each an int64 feature, one or more dimensions each, as TF stacks them).
    fn shape_from(&self, example: &ExampleFeatures, keys: &[String]) -> std::result::Result<Vec<i64>, String> {
        let mut shape = Vec::new();
        for key in keys {
            match self.parse(example, key)?.values.as_ref() {
                FeatureValues::Ints(values) => shape.extend(values),
                other => return Err(format!("shape feature {key:?} holds {} values, not int64", other.kind())),
            }
        }
        Ok(shape)
    }
}

/// The number of elements of `shape`, when its dimensions are sizes and the product does not overflow.
fn checked_count(shape: &[i64]) -> Option<usize> {
    shape.iter().try_fold(1usize, |count, &dim| count.checked_mul(usize::try_from(dim).ok()?))
}

fn kind_of(values: &FeatureValues) -> FeatureKind {
    match values {
        FeatureValues::Bytes(_) => FeatureKind::Bytes,
        FeatureValues::Floats(_) => FeatureKind::Float,
        FeatureValues::Ints(_) => FeatureKind::Int64,
    }
}

fn empty(kind: FeatureKind) -> &'static FeatureValues {
    static BYTES: FeatureValues = FeatureValues::Bytes(Vec::new());
    static FLOATS: FeatureValues = FeatureValues::Floats(Vec::new());
    static INTS: FeatureValues = FeatureValues::Ints(Vec::new());
    match kind {
        FeatureKind::Bytes => &BYTES,
        FeatureKind::Float => &FLOATS,
        FeatureKind::Int64 => &INTS,
    }
}

/// The one string of a scalar bytes feature.
fn single_bytes<'p>(parsed: &'p Parsed, key: &str) -> std::result::Result<&'p [u8], String> {
    match parsed.values.as_ref() {
        FeatureValues::Bytes(values) if values.len() == 1 => Ok(&values[0]),
        FeatureValues::Bytes(values) => Err(format!("feature {key:?} holds {} strings, not one", values.len())),
        other => Err(format!("feature {key:?} holds {} values, not bytes", other.kind())),
    }
}

/// A tensor item: the values reshaped to `shape` (when given), a variable-length feature padded with
/// `default_value` up to the shape's size (TF's sparse reshape then densify).
fn tensor_item(
    parsed: &Parsed,
    shape: Option<&[i64]>,
    may_pad: bool,
    default_value: f64,
) -> std::result::Result<Item, String> {
    let shape = shape.map(<[i64]>::to_vec).unwrap_or_else(|| parsed.shape.clone());
    let count = checked_count(&shape).ok_or_else(|| format!("shape {shape:?} is not a size"))?;
    let values = parsed.values.len();
    if !(values == count || (may_pad && values < count)) {
        return Err(format!("{values} values do not fill the shape {shape:?} ({count})"));
    }
    Ok(match parsed.values.as_ref() {
        FeatureValues::Bytes(strings) => {
            Item::Bytes((0..count).map(|i| strings.get(i).cloned().unwrap_or_default()).collect())
        }
        FeatureValues::Floats(floats) => {
            let padded: Vec<f32> = (0..count).map(|i| floats.get(i).copied().unwrap_or(default_value as f32)).collect();
            Item::Tensor(Tensor::from_slice(&padded).view(shape.as_slice()))
        }
        FeatureValues::Ints(ints) => {
            let padded: Vec<i64> = (0..count).map(|i| ints.get(i).copied().unwrap_or(default_value as i64)).collect();
            Item::Tensor(Tensor::from_slice(&padded).view(shape.as_slice()))
        }
    })
}

/// `values`' one value `count` times.
fn repeated(values: &FeatureValues, count: usize) -> FeatureValues {
    match values {
        FeatureValues::Bytes(strings) => FeatureValues::Bytes(vec![strings[0].clone(); count]),
        FeatureValues::Floats(floats) => FeatureValues::Floats(vec![floats[0]; count]),
        FeatureValues::Ints(ints) => FeatureValues::Ints(vec![ints[0]; count]),
    }
}

/// An image item: raw bytes reshaped to `shape`, or a PNG or JPEG decoded to `channels`.
fn image_item(
    encoded: &[u8],
    format: &[u8],
    shape: Option<[usize; 3]>,
    channels: usize,
) -> std::result::Result<DecodedImage, String> {
    if format == b"raw" || format == b"RAW" {
        let [height, width, depth] = shape.ok_or("a raw image needs the handler's shape")?;
        let count = height.checked_mul(width).and_then(|n| n.checked_mul(depth));
        if count != Some(encoded.len()) {
            return Err(format!("{} raw bytes are not a {height}×{width}×{depth} image", encoded.len()));
        }
        return Ok(DecodedImage { height, width, channels: depth, pixels: encoded.to_vec() });
    }
    let image = decode_image(encoded)?.with_channels(channels)?;
    image.check()?;
    match shape {
        Some([height, width, depth]) if (image.height, image.width, image.channels) != (height, width, depth) => {
            Err(format!(
                "the image is {}×{}×{}, not the declared {height}×{width}×{depth}",
                image.height, image.width, image.channels
            ))
        }
        _ => Ok(image),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(kind: FeatureKind, shape: &[i64], default: Option<FeatureValues>) -> FeatureSpec {
        FeatureSpec::Fixed { kind, shape: shape.to_vec(), default }
    }

    fn decoder(features: Vec<(&str, FeatureSpec)>, items: Vec<(&str, ItemHandler)>) -> TfExampleDecoder {
        let features = features.into_iter().map(|(key, spec)| (key.to_string(), spec)).collect();
        let items = items.into_iter().map(|(name, handler)| (name.to_string(), handler)).collect();
        TfExampleDecoder::new(features, items).unwrap()
    }

    fn tensor(item: &Item) -> (Vec<i64>, Vec<f64>) {
        let Item::Tensor(tensor) = item else { panic!("{item:?} is not a tensor") };
        (tensor.size(), Vec::<f64>::try_from(tensor.flatten(0, -1).to_kind(tch::Kind::Double)).unwrap())
    }

    #[test]
    fn fixed_length_tensors_keep_their_shape_and_values() {
        // tfexample_decoder_test: testDecodeExampleWithFloatTensor / WithInt64Tensor / WithFixLenTensorWithShape.
        let floats: Vec<f32> = (0..6).map(|i| i as f32 * 0.5).collect();
        let record = ExampleFeatures::default()
            .with("array", FeatureValues::Floats(floats.clone()))
            .with("ints", FeatureValues::Ints(vec![3, 1, 4, 1, 5, 9]))
            .encode();
        let decoder = decoder(
            vec![("array", fixed(FeatureKind::Float, &[2, 3], None)), ("ints", fixed(FeatureKind::Int64, &[6], None))],
            vec![("array", ItemHandler::tensor("array")), ("reshaped", ItemHandler::tensor("ints").reshaped(&[3, 2]))],
        );
        let items = decoder.decode(&record, None).unwrap();
        assert_eq!(tensor(&items["array"]), (vec![2, 3], floats.iter().map(|&v| f64::from(v)).collect()));
        assert_eq!(tensor(&items["reshaped"]), (vec![3, 2], vec![3.0, 1.0, 4.0, 1.0, 5.0, 9.0]));
    }

    #[test]
    fn variable_length_features_defaults_and_shape_keys() {
        // testDecodeExampleWithVarLenTensor, testDecodeExampleShapeKeyTensor, a missing feature's default.
        let record = ExampleFeatures::default()
            .with("labels", FeatureValues::Ints(vec![7, 8, 9]))
            .with("values", FeatureValues::Floats(vec![1.0, 2.0, 3.0, 4.0]))
            .with("height", FeatureValues::Ints(vec![2]))
            .with("width", FeatureValues::Ints(vec![2]))
            .encode();
        let decoder = decoder(
            vec![
                ("labels", FeatureSpec::VarLen { kind: FeatureKind::Int64 }),
                ("values", FeatureSpec::VarLen { kind: FeatureKind::Float }),
                ("height", fixed(FeatureKind::Int64, &[1], None)),
                ("width", fixed(FeatureKind::Int64, &[1], None)),
                ("missing", fixed(FeatureKind::Int64, &[2, 2], Some(FeatureValues::Ints(vec![-1])))),
                ("absent", FeatureSpec::VarLen { kind: FeatureKind::Float }),
            ],
            vec![
                ("labels", ItemHandler::tensor("labels")),
                ("padded", ItemHandler::tensor("labels").reshaped(&[5]).padded_with(-2.0)),
                ("square", ItemHandler::tensor("values").shaped_by(&["height", "width"])),
                ("missing", ItemHandler::tensor("missing")),
                ("absent", ItemHandler::tensor("absent")),
            ],
        );
        let items = decoder.decode(&record, None).unwrap();
        assert_eq!(tensor(&items["labels"]), (vec![3], vec![7.0, 8.0, 9.0]));
        assert_eq!(tensor(&items["padded"]), (vec![5], vec![7.0, 8.0, 9.0, -2.0, -2.0]));
        assert_eq!(tensor(&items["square"]), (vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]));
        assert_eq!(tensor(&items["missing"]), (vec![2, 2], vec![-1.0; 4]));
        assert_eq!(tensor(&items["absent"]), (vec![0], vec![]));
    }

    #[test]
    fn bounding_boxes_stack_the_four_coordinates() {
        // testDecodeExampleWithBoundingBox: [num_boxes, 4] in ymin, xmin, ymax, xmax order.
        let prefix = "image/object/bbox/";
        let sides = [("ymin", [0.1f32, 0.2]), ("xmin", [0.3, 0.4]), ("ymax", [0.5, 0.6]), ("xmax", [0.7, 0.8])];
        let record = sides
            .iter()
            .fold(ExampleFeatures::default(), |features, (key, values)| {
                features.with(format!("{prefix}{key}"), FeatureValues::Floats(values.to_vec()))
            })
            .encode();
        let features: Vec<(String, FeatureSpec)> = sides
            .iter()
            .map(|(key, _)| (format!("{prefix}{key}"), FeatureSpec::VarLen { kind: FeatureKind::Float }))
            .collect();
        let decoder = TfExampleDecoder::new(
            features.into_iter().collect(),
            [("object/bbox".to_string(), ItemHandler::bounding_box(prefix))].into_iter().collect(),
        )
        .unwrap();
        let items = decoder.decode(&record, None).unwrap();
        let (shape, values) = tensor(&items["object/bbox"]);
        assert_eq!(shape, [2, 4]);
        let expected = [0.1, 0.3, 0.5, 0.7, 0.2, 0.4, 0.6, 0.8];
        assert!(values.iter().zip(expected).all(|(got, want)| (got - want).abs() < 1e-6), "{values:?}");
    }

    #[test]
    fn images_decode_by_format_and_raw_ones_by_shape() {
        let raw: Vec<u8> = (0..12).collect();
        let record = ExampleFeatures::default()
            .with("image/encoded", FeatureValues::Bytes(vec![raw.clone()]))
            .with("image/format", FeatureValues::Bytes(vec![b"raw".to_vec()]))
            .with("name", FeatureValues::Bytes(vec![b"first".to_vec(), b"second".to_vec()]))
            .encode();
        let image_features = || {
            vec![
                ("image/encoded", fixed(FeatureKind::Bytes, &[], None)),
                ("image/format", fixed(FeatureKind::Bytes, &[], Some(FeatureValues::Bytes(vec![b"jpeg".to_vec()])))),
                ("name", FeatureSpec::VarLen { kind: FeatureKind::Bytes }),
            ]
        };
        let raw_image = ItemHandler::image().image_shape([2, 2, 3]);
        let decoder = decoder(image_features(), vec![("image", raw_image), ("name", ItemHandler::tensor("name"))]);
        let items = decoder.decode(&record, None).unwrap();
        let Item::Image(image) = &items["image"] else { panic!("not an image") };
        assert_eq!((image.height, image.width, image.channels, &image.pixels), (2, 2, 3, &raw));
        let Item::Bytes(names) = &items["name"] else { panic!("not strings") };
        assert_eq!(names, &[b"first".to_vec(), b"second".to_vec()]);
        // The same bytes without a shape, or as a JPEG (the format's default), are errors naming the item.
        let unshaped = decoder_error(image_features(), ItemHandler::image(), &record);
        assert!(unshaped.contains("item \"image\"") && unshaped.contains("needs the handler's shape"), "{unshaped}");
        let no_format = ExampleFeatures::default().with("image/encoded", FeatureValues::Bytes(vec![raw])).encode();
        let undecodable = decoder_error(image_features(), ItemHandler::image(), &no_format);
        assert!(undecodable.contains("neither a PNG nor a JPEG"), "{undecodable}");
    }

    #[test]
    fn a_shape_read_from_the_record_must_hold_its_values_exactly() {
        // Hostile shape features: 2^31 × 2^31 elements would be a 4-exabyte allocation if they could pad.
        let record = ExampleFeatures::default()
            .with("values", FeatureValues::Floats(vec![1.0, 2.0]))
            .with("height", FeatureValues::Ints(vec![1 << 31]))
            .with("width", FeatureValues::Ints(vec![1 << 31]))
            .encode();
        let decoder = decoder(
            vec![
                ("values", FeatureSpec::VarLen { kind: FeatureKind::Float }),
                ("height", fixed(FeatureKind::Int64, &[1], None)),
                ("width", fixed(FeatureKind::Int64, &[1], None)),
            ],
            vec![("square", ItemHandler::tensor("values").shaped_by(&["height", "width"]))],
        );
        let error = decoder.decode(&record, None).unwrap_err().to_string();
        assert!(error.contains("2 values do not fill the shape [2147483648, 2147483648]"), "{error}");
    }

    fn decoder_error(features: Vec<(&str, FeatureSpec)>, handler: ItemHandler, record: &[u8]) -> String {
        let decoder = decoder(features, vec![("image", handler)]);
        decoder.decode(record, None).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn wrong_declarations_and_records_are_errors_naming_what_is_wrong() {
        let features: BTreeMap<String, FeatureSpec> =
            [("x".to_string(), fixed(FeatureKind::Float, &[2], None))].into_iter().collect();
        let undeclared = [("y".to_string(), ItemHandler::tensor("z"))].into_iter().collect();
        let error = TfExampleDecoder::new(features.clone(), undeclared).unwrap_err().to_string();
        assert!(error.contains("item \"y\" reads \"z\", not a declared feature"), "{error}");
        let both = ItemHandler::tensor("x").reshaped(&[2]).shaped_by(&["x"]);
        let both = [("y".to_string(), both)].into_iter().collect();
        assert!(TfExampleDecoder::new(features.clone(), both).unwrap_err().to_string().contains("both a shape"));
        let decoder =
            TfExampleDecoder::new(features, [("y".to_string(), ItemHandler::tensor("x"))].into_iter().collect())
                .unwrap();
        let message = |record: Vec<u8>| decoder.decode(&record, None).unwrap_err().to_string();
        let three = ExampleFeatures::default().with("x", FeatureValues::Floats(vec![1.0, 2.0, 3.0])).encode();
        assert!(message(three).contains("feature \"x\" holds 3 values, its shape [2] 2"));
        let ints = ExampleFeatures::default().with("x", FeatureValues::Ints(vec![1, 2])).encode();
        assert!(message(ints).contains("feature \"x\" holds int64 values, declared Float"));
        assert!(message(ExampleFeatures::default().encode()).contains("feature \"x\" is required but missing"));
        assert!(message(vec![0xff, 0xff, 0xff]).contains("not a tf.train.Example"));
        let unknown = decoder.decode(&ExampleFeatures::default().encode(), Some(&["w"])).unwrap_err().to_string();
        assert!(unknown.contains("no item \"w\"; items: y"), "{unknown}");
    }
}
