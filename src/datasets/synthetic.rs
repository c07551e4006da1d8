//! A generated data set for tests, demos and benchmarks.

use slim_core::data::{Dataset, SplitMix64};
use tch::Tensor;

/// A generated dataset for tests and demos: `count` single-channel `side`×`side` images whose class decides
/// where a bright square sits, with noise; the same `seed` gives the same data (its generator is its own, not
/// libtorch's).
pub fn synthetic(count: i64, num_classes: i64, side: i64, seed: u64) -> Dataset {
    let mut random = SplitMix64::new(seed, 0);
    let classes = num_classes.max(1);
    let cells = (classes as f64).sqrt().ceil() as i64;
    let cell = (side / cells).max(1);
    let mut labels = Vec::with_capacity(count as usize);
    let mut pixels = Vec::with_capacity((count * side * side) as usize);
    for _ in 0..count {
        let label = random.below(classes as u64) as i64;
        labels.push(label);
        let (row, column) = (label / cells, label % cells);
        for y in 0..side {
            for x in 0..side {
                let lit = y / cell == row && x / cell == column;
                pixels.push(random.below(64) as u8 + if lit { 180 } else { 0 });
            }
        }
    }
    Dataset {
        name: "synthetic".into(),
        images: Tensor::from_slice(&pixels).view([count, 1, side, side]),
        labels: Tensor::from_slice(&labels),
        num_classes: classes,
        labels_to_names: (0..classes).map(|c| c.to_string()).collect(),
    }
}
