//! Batches: what a provider yields, and what a reader thread makes (a streamed batch's images are stacked on the
//! thread that takes it).

use std::collections::BTreeMap;

use tch::Tensor;

use super::batch_item::{BatchItem, collate};
use super::image::FloatImage;
use super::tfexample_decoder::Item;
use crate::{Error, Result};

/// One batch: float images `[B, C, H, W]` (preprocessed), int64 labels `[B]`, and the extra items a streamed
/// set was asked for ([`TfRecordSet::open_with_decoder`](super::TfRecordSet::open_with_decoder)), by name.
#[derive(Debug)]
pub struct Batch {
    /// The images.
    pub images: Tensor,
    /// The labels.
    pub labels: Tensor,
    /// The extra items (`object/bbox`, …); empty unless the set was asked for some.
    pub items: BTreeMap<String, BatchItem>,
}

impl Batch {
    /// How many examples it holds (fewer than the batch size at an epoch's end, or when bad records were
    /// skipped).
    pub fn len(&self) -> i64 {
        self.labels.size().first().copied().unwrap_or(0)
    }

    /// Whether it holds no example (every record of it was skipped).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A batch as a reader thread makes it: ready, or (streamed) the preprocessed images, which become one tensor on
/// the thread that takes the batch. A reader thread calls no libtorch operation on a streamed batch: libtorch
/// would start its own threads for a large one, and they spin against the other readers.
pub(super) enum Made {
    Ready(Batch),
    Images { number: u64, images: Vec<FloatImage>, labels: Vec<i64>, items: Vec<Vec<(String, Item)>> },
}

impl Made {
    pub(super) fn is_empty(&self) -> bool {
        match self {
            Made::Ready(batch) => batch.is_empty(),
            Made::Images { labels, .. } => labels.is_empty(),
        }
    }

    /// The batch: streamed images stacked (the preprocessing must have brought them to one size).
    pub(super) fn into_batch(self, name: &str) -> Result<Batch> {
        let (number, images, labels, items) = match self {
            Made::Ready(batch) => return Ok(batch),
            Made::Images { number, images, labels, items } => (number, images, labels, items),
        };
        let shape = images.first().map(FloatImage::shape).unwrap_or([0, 0, 0]);
        if images.iter().any(|image| image.shape() != shape) {
            let sizes: Vec<[i64; 3]> = images.iter().map(FloatImage::shape).collect();
            let message = format!(
                "batch {number}: the preprocessed images differ in size ({sizes:?}); give the provider a \
                 preprocessing that brings every image to one size (slim::preprocessing::get_preprocessing)"
            );
            return Err(Error::invalid(name, message));
        }
        let data: Vec<&[f32]> = images.iter().map(|image| image.data.as_slice()).collect();
        let stacked = crate::native::stack_floats(&data, &shape);
        let images = stacked.map_err(|source| Error::Torch { context: format!("{name}: batch {number}"), source })?;
        let items = collate(items, name, number)?;
        Ok(Batch { images, labels: Tensor::from_slice(&labels), items })
    }
}
