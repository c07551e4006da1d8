//! What a provider applies to its images: a batch of an in-memory dataset at a time, or each decoded image of a
//! streamed one; closures of a batch are preprocessings too.

use tch::Tensor;

use super::image::{DecodedImage, FloatImage};
use crate::{Error, Result};

/// What a provider applies to its images: each batch of `[B, C, H, W]` bytes of an in-memory dataset, or each
/// decoded image (of any size) of a streamed one. `batch` (or `example`) is the batch's (the example's) number
/// in the stream: random preprocessing draws from it (and its own seed), so batches stay the same on any thread
/// and after a resume.
pub trait Preprocessing: Send + Sync {
    /// The float images of batch number `batch`, from `[B, C, H, W]` bytes.
    fn apply(&self, images: &Tensor, batch: u64) -> Result<Tensor>;

    /// The float images of the examples numbered `first`, `first + 1`, … in the stream (batch number `batch`,
    /// or a rank's part of it), from `[B, C, H, W]` bytes: what a provider of an in-memory dataset calls. A
    /// random preprocessing should draw each image's randomness from its example's number (as
    /// [`Preprocessing::apply_decoded`] does), so that a batch split over the ranks of a data-parallel run
    /// preprocesses as it does whole; by default [`Preprocessing::apply`] of the batch.
    fn apply_examples(&self, images: &Tensor, batch: u64, first: u64) -> Result<Tensor> {
        let _ = first;
        self.apply(images, batch)
    }

    /// One decoded image (of any height and width) of example number `example` preprocessed on its own, for a
    /// streamed dataset. By default [`Preprocessing::apply`] on a batch of one; TF-Slim's preprocessings work in
    /// plain loops instead, so that reader threads call no libtorch operation (whose own threads would spin
    /// against them).
    fn apply_decoded(&self, image: &DecodedImage, example: u64) -> Result<FloatImage> {
        let one = self.apply(&image.to_tensor()?.unsqueeze(0), example)?;
        FloatImage::from_tensor(
            &one.f_squeeze_dim(0).map_err(|source| Error::Torch { context: "Preprocessing".into(), source })?,
        )
    }
}

impl Preprocessing for Box<dyn Preprocessing> {
    fn apply(&self, images: &Tensor, batch: u64) -> Result<Tensor> {
        self.as_ref().apply(images, batch)
    }

    fn apply_examples(&self, images: &Tensor, batch: u64, first: u64) -> Result<Tensor> {
        self.as_ref().apply_examples(images, batch, first)
    }

    fn apply_decoded(&self, image: &DecodedImage, example: u64) -> Result<FloatImage> {
        self.as_ref().apply_decoded(image, example)
    }
}

impl<F: Fn(&Tensor) -> Tensor + Send + Sync> Preprocessing for F {
    fn apply(&self, images: &Tensor, _batch: u64) -> Result<Tensor> {
        Ok(self(images))
    }
}
