//! A generated data set for tests, demos and benchmarks.

use slim_core::data::{Dataset, SplitMix64};
use slim_core::{Error, Result};
use tch::Tensor;

/// A generated dataset for tests and demos: `count` single-channel `side`×`side` images whose class decides
/// where a bright square sits, with noise; the same `seed` gives the same data (its generator is its own, not
/// libtorch's). A negative count, fewer than one class, a side below one, or more pixels than memory holds is an
/// error.
pub fn synthetic(count: i64, num_classes: i64, side: i64, seed: u64) -> Result<Dataset> {
    let invalid = |what: String| Error::invalid("synthetic", what);
    if count < 0 || num_classes < 1 || side < 1 {
        return Err(invalid(format!(
            "needs a count of 0 or more, 1 or more classes and a side of 1 or more; got {count}, {num_classes}, {side}"
        )));
    }
    let (mut labels, mut pixels) = (Vec::new(), Vec::new());
    let fits = side
        .checked_mul(side)
        .and_then(|area| count.checked_mul(area))
        .and_then(|pixel_count| usize::try_from(pixel_count).ok())
        .is_some_and(|pixel_count| {
            pixels.try_reserve_exact(pixel_count).is_ok() && labels.try_reserve_exact(count as usize).is_ok()
        });
    if !fits {
        return Err(invalid(format!("{count} images of {side}×{side} do not fit in memory")));
    }
    let mut random = SplitMix64::new(seed, 0);
    let cells = (num_classes as f64).sqrt().ceil() as i64;
    let cell = (side / cells).max(1);
    for _ in 0..count {
        let label = random.below(num_classes as u64) as i64;
        labels.push(label);
        let (row, column) = (label / cells, label % cells);
        for y in 0..side {
            for x in 0..side {
                let lit = y / cell == row && x / cell == column;
                pixels.push(random.below(64) as u8 + if lit { 180 } else { 0 });
            }
        }
    }
    Ok(Dataset {
        name: "synthetic".into(),
        images: Tensor::from_slice(&pixels).view([count, 1, side, side]),
        labels: Tensor::from_slice(&labels),
        num_classes,
        labels_to_names: (0..num_classes).map(|c| c.to_string()).collect(),
    })
}
