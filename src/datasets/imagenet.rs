//! ImageNet as TF-Slim's `datasets/imagenet.py` reads it: the TFRecord shards that `build_imagenet_data.py`
//! writes (`train-00000-of-01024`, `validation-00000-of-00128`), 1,001 classes (0 is the background class),
//! decoded by TF-Slim's `TFExampleDecoder` of the set, whose items include the bounding boxes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use slim_core::data::{
    FeatureKind, FeatureSpec, FeatureValues, ItemHandler, Split, StreamOptions, TfExampleDecoder, TfRecordSet,
    tfrecord_files,
};
use slim_core::{Error, Result};

use super::labels_file::{LABELS_FILE, read_labels_file};

/// ImageNet's classes as TF-Slim counts them: 1,000 and a background class, 0.
pub const IMAGENET_NUM_CLASSES: i64 = 1001;

/// TF-Slim's ImageNet decoder. Features: `image/encoded`, `image/format` (`jpeg` when missing),
/// `image/class/label` (−1 when missing, so that a record without one is an out-of-range label),
/// `image/class/text`, the four `image/object/bbox/*` coordinate lists and `image/object/class/label`. Items:
/// `image`, `label`, `label_text`, `object/bbox` (`[N, 4]` as ymin, xmin, ymax, xmax) and `object/label`.
pub fn imagenet_decoder() -> Result<TfExampleDecoder> {
    let scalar = |kind, default| FeatureSpec::Fixed { kind, shape: Vec::new(), default: Some(default) };
    let bytes = |value: &str| FeatureValues::Bytes(vec![value.as_bytes().to_vec()]);
    let mut features = BTreeMap::from([
        ("image/encoded".to_string(), scalar(FeatureKind::Bytes, bytes(""))),
        ("image/format".to_string(), scalar(FeatureKind::Bytes, bytes("jpeg"))),
        ("image/class/label".to_string(), scalar(FeatureKind::Int64, FeatureValues::Ints(vec![-1]))),
        ("image/class/text".to_string(), scalar(FeatureKind::Bytes, bytes(""))),
        ("image/object/class/label".to_string(), FeatureSpec::VarLen { kind: FeatureKind::Int64 }),
    ]);
    for side in ["xmin", "ymin", "xmax", "ymax"] {
        features.insert(format!("image/object/bbox/{side}"), FeatureSpec::VarLen { kind: FeatureKind::Float });
    }
    let items = BTreeMap::from([
        ("image".to_string(), ItemHandler::image()),
        ("label".to_string(), ItemHandler::tensor("image/class/label")),
        ("label_text".to_string(), ItemHandler::tensor("image/class/text")),
        ("object/bbox".to_string(), ItemHandler::bounding_box("image/object/bbox/")),
        ("object/label".to_string(), ItemHandler::tensor("image/object/class/label")),
    ]);
    TfExampleDecoder::new(features, items)
}

/// The shards of ImageNet's `split` in `dir`: `train-*`, or `validation-*` for the test split.
fn imagenet_files(split: Split, dir: &Path) -> Result<Vec<PathBuf>> {
    let prefix = match split {
        Split::Train => "train-",
        Split::Test => "validation-",
    };
    let files = tfrecord_files(dir, prefix)?;
    if files.is_empty() {
        return Err(Error::NotFound(format!("{} holds no ImageNet {prefix}* shards", dir.display())));
    }
    Ok(files)
}

/// TF-Slim's `imagenet.get_split`: ImageNet's `split` in `dir`, streamed through [`imagenet_decoder`], each
/// batch carrying the extra `items` asked for (`object/bbox`, …; none for classification). The class names come
/// from `dir/labels.txt` (TF-Slim's, 1,001 lines) when it is there, else they are the numbers.
pub fn imagenet(split: Split, dir: &Path, options: StreamOptions, items: &[&str]) -> Result<TfRecordSet> {
    let files = imagenet_files(split, dir)?;
    let decoder = imagenet_decoder()?;
    let mut set = TfRecordSet::open_with_decoder("imagenet", &files, IMAGENET_NUM_CLASSES, options, decoder, items)?;
    let labels = dir.join(LABELS_FILE);
    if labels.is_file() {
        let names = read_labels_file(&labels)?;
        if names.len() as i64 != IMAGENET_NUM_CLASSES {
            let message = format!("names {} classes, ImageNet has {IMAGENET_NUM_CLASSES}", names.len());
            return Err(Error::Io { path: labels.display().to_string(), message });
        }
        set.labels_to_names = names;
    }
    Ok(set)
}
