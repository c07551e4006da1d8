//! `images_to_sequence` and `sequence_to_images`: feature maps as sequences along their width and back (TF-Slim's
//! layers of the same names, for recurrent heads over images).

use tch::Tensor;

use crate::error::TorchContext;
use crate::{Error, Result};

/// TF-Slim's `images_to_sequence(inputs)`: `[N, C, H, W]` maps (slim's layout) as a sequence along the width,
/// `[W, N·H, C]`: each column of each row of each image is one step.
pub fn images_to_sequence(inputs: &Tensor) -> Result<Tensor> {
    let [n, c, h, w] = inputs.size()[..] else {
        return Err(Error::invalid("ImagesToSequence", format!("expects [N, C, H, W], got {:?}", inputs.size())));
    };
    let columns = inputs.f_permute([3, 0, 2, 1]).context("ImagesToSequence")?;
    columns.f_reshape([w, n * h, c]).context("ImagesToSequence")
}

/// TF-Slim's `sequence_to_images(inputs, height)`: a `[W, N·height, C]` sequence back to `[N, C, height, W]` maps;
/// the inverse of [`images_to_sequence`]. The middle dimension must be a multiple of `height`.
pub fn sequence_to_images(inputs: &Tensor, height: i64) -> Result<Tensor> {
    let [w, rows, c] = inputs.size()[..] else {
        return Err(Error::invalid("SequenceToImages", format!("expects [W, N·H, C], got {:?}", inputs.size())));
    };
    if height < 1 || rows % height != 0 {
        return Err(Error::invalid(
            "SequenceToImages",
            format!("the sequence's {rows} rows are not a multiple of the height {height}"),
        ));
    }
    let steps = inputs.f_reshape([w, rows / height, height, c]).context("SequenceToImages")?;
    steps.f_permute([1, 3, 2, 0]).context("SequenceToImages")
}
