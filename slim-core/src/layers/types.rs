//! Argument types shared by the layers: spatial pairs, TF padding, data formats.

use std::str::FromStr;

use crate::{Error, Result};

/// A (height, width) pair: kernel sizes, strides, dilation rates. Built from an int or a two-element array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair(pub i64, pub i64);

impl Pair {
    /// Both elements equal to `n`.
    pub fn square(n: i64) -> Pair {
        Pair(n, n)
    }

    /// As an array `[h, w]`.
    pub fn to_array(self) -> [i64; 2] {
        [self.0, self.1]
    }

    pub(crate) fn check_positive(self, scope: &str, what: &str) -> Result<()> {
        if self.0 < 1 || self.1 < 1 {
            return Err(Error::invalid(scope, format!("{what} must be positive, got [{}, {}]", self.0, self.1)));
        }
        Ok(())
    }
}

impl From<i64> for Pair {
    fn from(n: i64) -> Self {
        Pair::square(n)
    }
}

impl From<i32> for Pair {
    fn from(n: i32) -> Self {
        Pair::square(i64::from(n))
    }
}

impl From<[i64; 2]> for Pair {
    fn from([h, w]: [i64; 2]) -> Self {
        Pair(h, w)
    }
}

impl From<[i32; 2]> for Pair {
    fn from([h, w]: [i32; 2]) -> Self {
        Pair(i64::from(h), i64::from(w))
    }
}

impl From<(i64, i64)> for Pair {
    fn from((h, w): (i64, i64)) -> Self {
        Pair(h, w)
    }
}

/// Per-axis sizes for any number of spatial axes (the kernel sizes, strides and rates of `convolution`,
/// `conv1d`, `conv3d`, `conv3d_transpose` and the 3-D pools): one value for every axis, or one per axis. Built
/// from an int, an array or a vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dims {
    /// The same value on every spatial axis.
    All(i64),
    /// One value per spatial axis, first to last.
    Each(Vec<i64>),
}

impl Dims {
    /// The values for `axes` spatial axes; an error naming `scope` and `what` when the count differs or a value
    /// is not positive.
    pub fn resolve(&self, axes: usize, scope: &str, what: &str) -> Result<Vec<i64>> {
        let values = match self {
            Dims::All(n) => vec![*n; axes],
            Dims::Each(values) if values.len() == axes => values.clone(),
            Dims::Each(values) => {
                return Err(Error::invalid(
                    scope,
                    format!("{what} must have {axes} values (one per spatial axis), got {values:?}"),
                ));
            }
        };
        match values.iter().all(|n| *n >= 1) {
            true => Ok(values),
            false => Err(Error::invalid(scope, format!("{what} must be positive, got {values:?}"))),
        }
    }
}

impl From<i64> for Dims {
    fn from(n: i64) -> Self {
        Dims::All(n)
    }
}

impl From<i32> for Dims {
    fn from(n: i32) -> Self {
        Dims::All(i64::from(n))
    }
}

impl<const N: usize> From<[i64; N]> for Dims {
    fn from(values: [i64; N]) -> Self {
        Dims::Each(values.to_vec())
    }
}

impl<const N: usize> From<[i32; N]> for Dims {
    fn from(values: [i32; N]) -> Self {
        Dims::Each(values.iter().map(|n| i64::from(*n)).collect())
    }
}

impl From<Vec<i64>> for Dims {
    fn from(values: Vec<i64>) -> Self {
        Dims::Each(values)
    }
}

impl From<Pair> for Dims {
    fn from(Pair(h, w): Pair) -> Self {
        Dims::Each(vec![h, w])
    }
}

/// TF's padding schemes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Output size `ceil(in / stride)`; the padding is split with the extra pixel at the end (TF's rule).
    Same,
    /// No padding: output size `ceil((in - effective_kernel + 1) / stride)`.
    Valid,
}

impl FromStr for Padding {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "SAME" => Ok(Padding::Same),
            "VALID" => Ok(Padding::Valid),
            _ => Err(Error::invalid("padding", format!("must be SAME or VALID, got {s:?}"))),
        }
    }
}

impl Padding {
    /// The (before, after) padding of one spatial axis of size `input` for kernel `kernel` (already dilated)
    /// and `stride`.
    pub fn amounts(self, input: i64, kernel: i64, stride: i64) -> (i64, i64) {
        match self {
            Padding::Valid => (0, 0),
            Padding::Same => {
                let output = (input + stride - 1) / stride;
                let total = ((output - 1) * stride + kernel - input).max(0);
                (total / 2, total - total / 2)
            }
        }
    }
}

/// The layout of an image batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DataFormat {
    /// Batch, channels, height, width: slim's logical layout (libtorch's).
    #[default]
    Nchw,
    /// Batch, height, width, channels: TF's default. Inputs are viewed as NCHW (a channels-last view, no copy)
    /// and outputs are returned as NHWC.
    Nhwc,
}

impl FromStr for DataFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "NCHW" => Ok(DataFormat::Nchw),
            "NHWC" => Ok(DataFormat::Nhwc),
            _ => Err(Error::invalid("data_format", format!("has to be either NCHW or NHWC, got {s:?}"))),
        }
    }
}

impl DataFormat {
    /// `x` (rank 4, in this format) viewed as NCHW.
    pub(crate) fn view_as_nchw(self, x: &tch::Tensor) -> tch::Tensor {
        match self {
            DataFormat::Nchw => x.shallow_clone(),
            DataFormat::Nhwc => x.permute([0, 3, 1, 2]),
        }
    }

    /// `x` (NCHW) viewed in this format.
    pub(crate) fn view_from_nchw(self, x: tch::Tensor) -> tch::Tensor {
        match self {
            DataFormat::Nchw => x,
            DataFormat::Nhwc => x.permute([0, 2, 3, 1]),
        }
    }

    /// `x` of any rank ≥ 3, in this format's channel placement (`Nchw`: channels first, as NCW and NCDHW;
    /// `Nhwc`: channels last, as NWC and NDHWC), viewed with the channels first.
    pub(crate) fn view_channels_first(self, x: &tch::Tensor) -> tch::Tensor {
        match self {
            DataFormat::Nchw => x.shallow_clone(),
            DataFormat::Nhwc => {
                let last = x.dim() as i64 - 1;
                let order: Vec<i64> = [0, last].into_iter().chain(1..last).collect();
                x.permute(order)
            }
        }
    }

    /// `x` of any rank ≥ 3 with the channels first, viewed in this format's channel placement.
    pub(crate) fn view_from_channels_first(self, x: tch::Tensor) -> tch::Tensor {
        match self {
            DataFormat::Nchw => x,
            DataFormat::Nhwc => {
                let rank = x.dim() as i64;
                let order: Vec<i64> = [0].into_iter().chain(2..rank).chain([1]).collect();
                x.permute(order)
            }
        }
    }
}

/// A list of collection names (`variables_collections`, `outputs_collections`). Built from one name, an array
/// or a vector of names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Collections(pub Vec<String>);

impl Collections {
    /// The names.
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

impl From<&str> for Collections {
    fn from(name: &str) -> Self {
        Collections(vec![name.to_string()])
    }
}

impl From<String> for Collections {
    fn from(name: String) -> Self {
        Collections(vec![name])
    }
}

impl<const N: usize> From<[&str; N]> for Collections {
    fn from(names: [&str; N]) -> Self {
        Collections(names.iter().map(|n| n.to_string()).collect())
    }
}

impl From<Vec<&str>> for Collections {
    fn from(names: Vec<&str>) -> Self {
        Collections(names.into_iter().map(str::to_string).collect())
    }
}

impl From<Vec<String>> for Collections {
    fn from(names: Vec<String>) -> Self {
        Collections(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_extra_pixel_at_the_end() {
        assert_eq!(Padding::Same.amounts(4, 3, 1), (1, 1));
        assert_eq!(Padding::Same.amounts(4, 3, 2), (0, 1));
        assert_eq!(Padding::Same.amounts(7, 3, 2), (1, 1));
        assert_eq!(Padding::Same.amounts(5, 1, 2), (0, 0));
        assert_eq!(Padding::Valid.amounts(4, 3, 2), (0, 0));
    }

    #[test]
    fn dims_broadcast_or_match_the_spatial_axes() {
        assert_eq!(Dims::from(3).resolve(3, "conv", "kernel_size").unwrap(), [3, 3, 3]);
        assert_eq!(Dims::from([1, 7, 7]).resolve(3, "conv", "kernel_size").unwrap(), [1, 7, 7]);
        let wrong = Dims::from([3, 3]).resolve(3, "Conv3d", "stride").unwrap_err().to_string();
        assert!(wrong.contains("Conv3d") && wrong.contains("stride must have 3 values"), "{wrong}");
        assert!(Dims::from([2, 0]).resolve(2, "c", "rate").unwrap_err().to_string().contains("positive"));
    }

    #[test]
    fn channels_last_views_round_trip_at_any_rank() {
        let x = tch::Tensor::zeros([2, 5, 6, 7, 3], (tch::Kind::Float, tch::Device::Cpu));
        let first = DataFormat::Nhwc.view_channels_first(&x);
        assert_eq!(first.size(), [2, 3, 5, 6, 7]);
        assert_eq!(DataFormat::Nhwc.view_from_channels_first(first).size(), [2, 5, 6, 7, 3]);
        let line = tch::Tensor::zeros([2, 9, 4], (tch::Kind::Float, tch::Device::Cpu));
        assert_eq!(DataFormat::Nhwc.view_channels_first(&line).size(), [2, 4, 9]);
    }

    #[test]
    fn bad_strings_are_errors() {
        assert!("CHWN".parse::<DataFormat>().unwrap_err().to_string().contains("NCHW or NHWC"));
        assert!("FULL".parse::<Padding>().is_err());
        assert_eq!("same".parse::<Padding>().unwrap(), Padding::Same);
    }
}
