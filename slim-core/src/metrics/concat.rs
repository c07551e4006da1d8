//! TF-Slim's `streaming_concat`: every batch's values kept and joined along one axis, for metrics that need all
//! of them at once.

use tch::Tensor;

use crate::error::TorchContext;
use crate::{Error, Result};

/// Values concatenated along `axis` across batches, up to `max_size` entries along it when given (later values
/// are dropped, as TF's no-op updates drop them).
#[derive(Debug)]
pub struct Concat {
    axis: i64,
    max_size: Option<i64>,
    parts: Vec<Tensor>,
    size: i64,
}

impl Concat {
    /// Concatenation along `axis` (non-negative), with an optional `max_size` along it.
    pub fn new(axis: i64, max_size: Option<i64>) -> Result<Self> {
        if axis < 0 || max_size.is_some_and(|max| max < 0) {
            return Err(Error::invalid(
                "streaming_concat",
                format!("axis and max_size must be >= 0, got {axis} and {max_size:?}"),
            ));
        }
        Ok(Concat { axis, max_size, parts: Vec::new(), size: 0 })
    }

    /// Appends `values` (their other dimensions equal to the first batch's) and returns the concatenated length
    /// along the axis; an error naming the metric for another rank or shape.
    pub fn update(&mut self, values: &Tensor) -> Result<i64> {
        let shape = values.size();
        if shape.len() as i64 <= self.axis {
            return Err(Error::invalid("streaming_concat", format!("axis {} is outside shape {shape:?}", self.axis)));
        }
        if let Some(first) = self.parts.first() {
            let other = |s: &[i64]| {
                s.iter().enumerate().filter(|(i, _)| *i as i64 != self.axis).map(|(_, d)| *d).collect::<Vec<_>>()
            };
            if other(&first.size()) != other(&shape) {
                return Err(Error::invalid(
                    "streaming_concat",
                    format!("values of shape {shape:?} do not line up with the first batch's {:?}", first.size()),
                ));
            }
        }
        let room = self.max_size.map_or(i64::MAX, |max| max - self.size);
        let length = shape[self.axis as usize].min(room);
        if length > 0 {
            let kept = values.f_narrow(self.axis, 0, length).context("streaming_concat")?;
            self.parts.push(kept.f_detach_copy().context("streaming_concat")?);
            self.size += length;
        }
        Ok(self.size)
    }

    /// Everything kept, joined along the axis; `None` before the first values.
    pub fn value(&self) -> Result<Option<Tensor>> {
        match self.parts.is_empty() {
            true => Ok(None),
            false => Tensor::f_cat(&self.parts, self.axis).context("streaming_concat").map(Some),
        }
    }

    /// Forgets everything kept.
    pub fn reset(&mut self) {
        self.parts.clear();
        self.size = 0;
    }
}
