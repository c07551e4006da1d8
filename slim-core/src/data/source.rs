//! What a provider batches: a dataset held in memory, or one streamed from TFRecord shards or image files, with
//! what the scripts ask of any of them (name, size, classes, channels).

use std::sync::Arc;

use super::dataset::Dataset;
use super::image_folder::ImageFolder;
use super::record_set::TfRecordSet;
use crate::{Error, Result};

/// A dataset a [`Provider`](super::Provider) batches.
#[derive(Debug)]
pub enum DataSource {
    /// Images and labels held in memory (small sets: MNIST, CIFAR), shuffled whole and preprocessed a batch at
    /// a time.
    InMemory(Dataset),
    /// TFRecord shards read as needed through readers and a shuffle buffer, each image preprocessed on its own.
    Records(Arc<TfRecordSet>),
    /// Image files read as needed in a shuffled order, each image preprocessed on its own.
    Folder(Arc<ImageFolder>),
}

impl DataSource {
    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            DataSource::InMemory(dataset) => &dataset.name,
            DataSource::Records(set) => &set.name,
            DataSource::Folder(folder) => &folder.name,
        }
    }

    /// The number of examples in an epoch.
    pub fn len(&self) -> i64 {
        match self {
            DataSource::InMemory(dataset) => dataset.len(),
            DataSource::Records(set) => set.len(),
            DataSource::Folder(folder) => folder.len(),
        }
    }

    /// Whether it holds no example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of classes.
    pub fn num_classes(&self) -> i64 {
        match self {
            DataSource::InMemory(dataset) => dataset.num_classes,
            DataSource::Records(set) => set.num_classes,
            DataSource::Folder(folder) => folder.num_classes(),
        }
    }

    /// A name per class.
    pub fn labels_to_names(&self) -> &[String] {
        match self {
            DataSource::InMemory(dataset) => &dataset.labels_to_names,
            DataSource::Records(set) => &set.labels_to_names,
            DataSource::Folder(folder) => &folder.labels_to_names,
        }
    }

    /// The channels of its images.
    pub fn channels(&self) -> i64 {
        match self {
            DataSource::InMemory(dataset) => dataset.images.size().get(1).copied().unwrap_or(1),
            DataSource::Records(set) => set.channels() as i64,
            DataSource::Folder(folder) => folder.channels() as i64,
        }
    }

    /// The height and width all its images share: an in-memory set's; `None` for a streamed one, whose images
    /// may differ.
    pub fn image_size(&self) -> Option<(i64, i64)> {
        match self {
            DataSource::InMemory(dataset) => match dataset.images.size()[..] {
                [_, _, height, width] => Some((height, width)),
                _ => None,
            },
            _ => None,
        }
    }

    /// How many bad records or images were skipped so far (none in memory).
    pub fn skipped_records(&self) -> u64 {
        match self {
            DataSource::InMemory(_) => 0,
            DataSource::Records(set) => set.skipped_records(),
            DataSource::Folder(folder) => folder.skipped_records(),
        }
    }

    /// Subtracts `offset` from every label (TF-Slim's `labels_offset`, for sets whose class 0 is a background
    /// class, as ImageNet's 1,001): the class count drops by `offset`, and a label below it is an error (at once
    /// in memory, when its record is read when streamed). An image folder's labels start at 0 and take none.
    pub fn offset_labels(&mut self, offset: i64) -> Result<()> {
        if offset == 0 {
            return Ok(());
        }
        let (name, classes) = (self.name().to_string(), self.num_classes());
        if offset < 0 || offset >= classes {
            return Err(Error::invalid("labels_offset", format!("must be in 0..{classes} for {name}, got {offset}")));
        }
        match self {
            DataSource::InMemory(dataset) => {
                let below = dataset.labels.lt(offset).sum(tch::Kind::Int64).int64_value(&[]);
                if below > 0 {
                    let message = format!("{below} examples of {name} have a label below {offset}");
                    return Err(Error::invalid("labels_offset", message));
                }
                dataset.labels = &dataset.labels - offset;
                dataset.num_classes -= offset;
            }
            DataSource::Records(set) => {
                let set = Arc::get_mut(set).ok_or_else(|| {
                    Error::invalid("labels_offset", format!("{name} is shared already; offset its labels first"))
                })?;
                set.offset_labels(offset);
            }
            DataSource::Folder(_) => {
                return Err(Error::invalid(
                    "labels_offset",
                    format!("{name} is an image folder; its labels start at 0"),
                ));
            }
        }
        Ok(())
    }

    /// A copy for another thread (tensors and files shared).
    pub(crate) fn shallow_clone(&self) -> DataSource {
        match self {
            DataSource::InMemory(dataset) => DataSource::InMemory(dataset.shallow_clone()),
            DataSource::Records(set) => DataSource::Records(set.clone()),
            DataSource::Folder(folder) => DataSource::Folder(folder.clone()),
        }
    }

    /// Counts and warns about a bad record when the source skips them; otherwise the error itself.
    pub(crate) fn skip_or_fail(&self, error: Error) -> Result<()> {
        match self {
            DataSource::Records(set) if set.skips_bad_records() => set.skip(&error),
            DataSource::Folder(folder) if folder.skips_bad_records() => folder.skip(&error),
            _ => return Err(error),
        }
        Ok(())
    }
}

impl From<Dataset> for DataSource {
    fn from(dataset: Dataset) -> Self {
        DataSource::InMemory(dataset)
    }
}

impl From<TfRecordSet> for DataSource {
    fn from(set: TfRecordSet) -> Self {
        DataSource::Records(Arc::new(set))
    }
}

impl From<ImageFolder> for DataSource {
    fn from(folder: ImageFolder) -> Self {
        DataSource::Folder(Arc::new(folder))
    }
}
