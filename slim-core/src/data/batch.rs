//! Batches: what a provider yields, and what a reader thread makes (a streamed batch's images are stacked on the
//! thread that takes it).

use tch::Tensor;

use super::image::FloatImage;
use crate::{Error, Result};

/// One batch: float images `[B, C, H, W]` (preprocessed) and int64 labels `[B]`.
#[derive(Debug)]
pub struct Batch {
    /// The images.
    pub images: Tensor,
    /// The labels.
    pub labels: Tensor,
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
    Images { number: u64, images: Vec<FloatImage>, labels: Vec<i64> },
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
        let (number, images, labels) = match self {
            Made::Ready(batch) => return Ok(batch),
            Made::Images { number, images, labels } => (number, images, labels),
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
        Ok(Batch { images, labels: Tensor::from_slice(&labels) })
    }
}
