//! Thinning a net's convolutions, as TF-Slim's inception and mobilenet nets do with `depth_multiplier` and
//! `min_depth`.

use crate::prelude::*;

/// `depth` multiplied by `multiplier` (truncated), never below `min_depth`.
pub(crate) fn thinned(depth: i64, multiplier: f64, min_depth: i64) -> i64 {
    ((depth as f64 * multiplier) as i64).max(min_depth)
}

/// An error naming `net` unless `multiplier` is greater than 0.
pub(crate) fn check_depth_multiplier(net: &str, multiplier: f64) -> Result<()> {
    match multiplier > 0.0 {
        true => Ok(()),
        false => Err(Error::invalid(net, format!("depth_multiplier must be > 0, got {multiplier}"))),
    }
}
