//! A streaming dataset: TFRecord shards of `tf.train.Example` images that stay on disk. Opening one scans the
//! shards' record headers (8 bytes of memory a record, its offset); a provider then reads, checks and decodes
//! each example when its batch is made, so images may differ in size and the set may be larger than memory.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::example::decode_example;
use super::image::DecodedImage;
use super::record_order::RecordRef;
use super::tfexample_decoder::{Item, TfExampleDecoder};
use crate::io::RecordFile;
use crate::{Error, Result};

/// How a streamed dataset ([`TfRecordSet`], [`ImageFolder`](super::ImageFolder)) reads its records.
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamOptions {
    /// The channels every image is decoded to (TF-Slim's `Image(channels=…)`): gray repeated to RGB, RGB to
    /// gray by luma, alpha dropped. When not given: a TFRecord set's first record's, an image folder's 3.
    pub channels: Option<usize>,
    /// Skip and count a damaged record, an image that does not decode or a label out of range, with a warning
    /// (TF's `ignore_errors`), instead of stopping with an error. A shard whose framing breaks keeps the records
    /// before the damage.
    pub skip_bad_records: bool,
}

/// TFRecord shards of `tf.train.Example` images with labels, read as they are needed.
#[derive(Debug)]
pub struct TfRecordSet {
    /// Its name (`flowers`).
    pub name: String,
    /// How many classes; labels must lie in `0..num_classes`.
    pub num_classes: i64,
    /// A name per class, when known.
    pub labels_to_names: Vec<String>,
    shards: Vec<RecordFile>,
    lengths: Arc<[usize]>,
    channels: usize,
    decoder: Option<ItemDecoder>,
    label_offset: i64,
    skip_bad_records: bool,
    skipped: AtomicU64,
}

/// An example: a decoded image, its label, and the extra items asked of the set.
pub(crate) struct Example {
    pub(crate) image: DecodedImage,
    pub(crate) label: i64,
    pub(crate) items: Vec<(String, Item)>,
}

/// A set's own decoder: its `image` and `label` items and the extra ones a batch carries.
#[derive(Debug)]
struct ItemDecoder {
    decoder: TfExampleDecoder,
    /// `image`, `label`, then the extra items.
    items: Vec<String>,
}

impl ItemDecoder {
    /// `decoder` giving `image`, `label` and `items`; an item it lacks is an error naming the set `name`.
    fn new(decoder: TfExampleDecoder, items: &[&str], name: &str) -> Result<Self> {
        let known = decoder.list_items();
        let mut wanted: Vec<String> = Vec::new();
        for item in ["image", "label"].iter().chain(items) {
            if !known.contains(item) {
                let message = format!("its decoder has no item {item:?}; items: {}", known.join(", "));
                return Err(Error::invalid(name, message));
            }
            if !wanted.iter().any(|w| w == item) {
                wanted.push(item.to_string());
            }
        }
        Ok(ItemDecoder { decoder, items: wanted })
    }

    /// The example a record holds.
    fn decode(&self, record: &[u8]) -> std::result::Result<Example, String> {
        let names: Vec<&str> = self.items.iter().map(String::as_str).collect();
        let mut items = self.decoder.decode(record, Some(&names)).map_err(|error| error.to_string())?;
        let image = match items.remove("image") {
            Some(Item::Image(image)) => image,
            other => return Err(format!("item \"image\" is {}, not an image", describe(other.as_ref()))),
        };
        let label = match items.remove("label") {
            Some(Item::Tensor(label)) if label.numel() == 1 && label.kind() == tch::Kind::Int64 => {
                label.int64_value(&[])
            }
            other => return Err(format!("item \"label\" is {}, not one int64", describe(other.as_ref()))),
        };
        Ok(Example { image, label, items: items.into_iter().collect() })
    }
}

/// What an item is, in a few words (an image's pixels or a tensor's values are not for an error message).
fn describe(item: Option<&Item>) -> String {
    match item {
        None => "missing".into(),
        Some(Item::Image(image)) => format!("a {}×{}×{} image", image.height, image.width, image.channels),
        Some(Item::Tensor(tensor)) => format!("a {:?} tensor of shape {:?}", tensor.kind(), tensor.size()),
        Some(Item::Bytes(strings)) => format!("{} strings", strings.len()),
    }
}

impl TfRecordSet {
    /// Opens the shards `files` of a set of `num_classes` classes: scans their record headers and decodes the
    /// first record (for the channel count). Each record is read as TF-Slim's converters write it:
    /// `image/encoded`, `image/format` (PNG when missing; `raw` with `image/height`, `image/width`,
    /// `image/channels`) and `image/class/label`. A damaged shard is an error naming the file, the record and
    /// its offset, unless `options.skip_bad_records`.
    pub fn open(name: &str, files: &[PathBuf], num_classes: i64, options: StreamOptions) -> Result<Self> {
        Self::open_reading(name, files, num_classes, options, None)
    }

    /// [`TfRecordSet::open`] with TF-Slim's `decoder` (a data set's `TFExampleDecoder`), whose items must
    /// include `image` (an [`ItemHandler::Image`](super::ItemHandler::Image)) and `label` (one int64); each
    /// batch carries `items` as well ([`Batch::items`](super::Batch::items): ImageNet's `object/bbox`, a file
    /// name, …). An item the decoder lacks is an error naming it. Unless [`StreamOptions::channels`] is given,
    /// the images have the channels of the decoder's image handler.
    pub fn open_with_decoder(
        name: &str,
        files: &[PathBuf],
        num_classes: i64,
        options: StreamOptions,
        decoder: TfExampleDecoder,
        items: &[&str],
    ) -> Result<Self> {
        let decoder = ItemDecoder::new(decoder, items, name)?;
        Self::open_reading(name, files, num_classes, options, Some(decoder))
    }

    fn open_reading(
        name: &str,
        files: &[PathBuf],
        num_classes: i64,
        options: StreamOptions,
        decoder: Option<ItemDecoder>,
    ) -> Result<Self> {
        let mut shards = Vec::with_capacity(files.len());
        let mut skipped = 0;
        for path in files {
            let scan = RecordFile::scan(path)?;
            if let Some(damage) = scan.damage {
                if !options.skip_bad_records {
                    return Err(damage);
                }
                log::warn!("{damage}; skipping the rest of the file");
                skipped += 1;
            }
            shards.push(scan.file);
        }
        let lengths: Arc<[usize]> = shards.iter().map(RecordFile::len).collect();
        let mut set = TfRecordSet {
            name: name.to_string(),
            num_classes,
            labels_to_names: (0..num_classes).map(|c| c.to_string()).collect(),
            shards,
            lengths,
            channels: options.channels.unwrap_or(0),
            decoder,
            label_offset: 0,
            skip_bad_records: options.skip_bad_records,
            skipped: AtomicU64::new(skipped),
        };
        if set.is_empty() {
            let listed: Vec<String> = files.iter().map(|path| path.display().to_string()).collect();
            return Err(Error::NotFound(format!(
                "the TFRecord files of {name} hold no record ({})",
                listed.join(", ")
            )));
        }
        if set.channels == 0 {
            set.channels = set.first_channels()?;
        }
        Ok(set)
    }

    /// The channels of the first record's image; when bad records are skipped, of the first good record's (an
    /// error when none is good).
    fn first_channels(&self) -> Result<usize> {
        let mut first_error = None;
        for (shard_index, shard) in self.shards.iter().enumerate() {
            let mut file = shard.open()?;
            for record in 0..shard.len() {
                let example = shard.read(&mut file, record).and_then(|data| {
                    self.decode(&data).map_err(|message| self.bad_record(shard_index, record, message))
                });
                match example {
                    Ok(example) => return Ok(example.image.channels),
                    Err(error) if !self.skip_bad_records => return Err(error),
                    Err(error) => _ = first_error.get_or_insert(error),
                }
            }
        }
        Err(first_error.unwrap_or_else(|| Error::NotFound(format!("{} holds no record", self.name))))
    }

    /// The example a record holds, by the set's decoder or by the three features TF-Slim's converters write.
    fn decode(&self, record: &[u8]) -> std::result::Result<Example, String> {
        match &self.decoder {
            Some(decoder) => decoder.decode(record),
            None => decode_example(record).map(|(image, label)| Example { image, label, items: Vec::new() }),
        }
    }

    /// The number of examples (records) in an epoch.
    pub fn len(&self) -> i64 {
        self.lengths.iter().sum::<usize>() as i64
    }

    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The channels every image is decoded to.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// How many bad records were skipped so far (damaged shards' tails count once each).
    pub fn skipped_records(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Subtracts `offset` from every label as it is read (`offset` in `0..num_classes`, checked by the caller);
    /// the class count drops by it.
    pub(crate) fn offset_labels(&mut self, offset: i64) {
        self.label_offset += offset;
        self.num_classes -= offset;
    }

    /// The records in each shard.
    pub(crate) fn lengths(&self) -> Arc<[usize]> {
        self.lengths.clone()
    }

    /// Whether bad records are skipped rather than errors.
    pub(crate) fn skips_bad_records(&self) -> bool {
        self.skip_bad_records
    }

    /// Counts a skipped record and warns about it.
    pub(crate) fn skip(&self, error: &Error) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        log::warn!("skipping a bad record: {error}");
    }

    /// An error about record `record` of shard `shard`.
    fn bad_record(&self, shard: usize, record: usize, message: String) -> Error {
        let file = &self.shards[shard];
        Error::Io {
            path: file.path().display().to_string(),
            message: format!("record {record} at offset {}: {message}", file.offset(record).unwrap_or_default()),
        }
    }

    /// The example `at` refers to, read with `files`' handles, checked: its image with the set's channels, and
    /// its label in `0..num_classes`.
    pub(crate) fn example(&self, at: RecordRef, files: &mut OpenFiles) -> Result<Example> {
        let shard = &self.shards[at.shard];
        let data = shard.read(files.get(at.shard, shard)?, at.record)?;
        let bad = |message: String| self.bad_record(at.shard, at.record, message);
        let Example { image, label: stored, items } = self.decode(&data).map_err(bad)?;
        let label = stored - self.label_offset;
        if !(0..self.num_classes).contains(&label) {
            let offset = self.label_offset;
            let range = format!("{offset}..{}", self.num_classes + offset);
            return Err(bad(format!("label {stored} is not in {range}")));
        }
        let image = image.with_channels(self.channels).and_then(|image| image.check().map(|()| image)).map_err(bad)?;
        Ok(Example { image, label, items })
    }
}

/// A thread's open shard files (at most [`OpenFiles::MAX`] at once).
#[derive(Default)]
pub(crate) struct OpenFiles {
    files: HashMap<usize, File>,
}

impl OpenFiles {
    /// The most files a thread keeps open: readers interleave a few shards at a time.
    const MAX: usize = 32;

    fn get(&mut self, shard: usize, file: &RecordFile) -> Result<&mut File> {
        if !self.files.contains_key(&shard) {
            if self.files.len() >= Self::MAX {
                self.files.clear();
            }
            self.files.insert(shard, file.open()?);
        }
        self.files.get_mut(&shard).ok_or_else(|| Error::NotFound(format!("{}: not open", file.path().display())))
    }
}
