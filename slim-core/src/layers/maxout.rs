//! `maxout`: the maximum over groups of channels (TF-Slim's `maxout`, Goodfellow et al. 2013).

use tch::Tensor;

use crate::error::TorchContext;
use crate::{Error, Result};

/// TF-Slim's `maxout(inputs, num_units, axis)`: the channels on `axis` (negative counts from the end; slim's
/// channel axis is 1) split into `num_units` consecutive groups, each replaced by its maximum, so that axis ends
/// with `num_units` entries. `num_units` must divide the channels.
pub fn maxout(inputs: &Tensor, num_units: i64, axis: i64) -> Result<Tensor> {
    let shape = inputs.size();
    let rank = shape.len() as i64;
    let axis = if axis < 0 { axis + rank } else { axis };
    if !(0..rank).contains(&axis) {
        return Err(Error::invalid("Maxout", format!("axis must lie within the rank of shape {shape:?}")));
    }
    let channels = shape[axis as usize];
    if num_units < 1 || channels % num_units != 0 {
        return Err(Error::invalid(
            "Maxout",
            format!("number of features ({channels}) is not a multiple of num_units ({num_units})"),
        ));
    }
    let mut grouped = shape.clone();
    grouped.splice(axis as usize..=axis as usize, [num_units, channels / num_units]);
    let groups = inputs.f_reshape(grouped.as_slice()).context("Maxout")?;
    groups.f_amax([axis + 1].as_slice(), false).context("Maxout")
}
