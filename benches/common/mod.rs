//! What the step benchmarks share: interleaved timing of several variants of one training step, medians, and
//! the printed table with ratios to the first (raw tch) variant.
#![allow(dead_code)] // each benchmark uses some of these

pub mod peer_nets;
pub mod raw_nets;

use std::time::Instant;

use slim::Result;

/// One way of running the step, by name.
pub struct Variant<'a> {
    /// The table's label.
    pub name: &'static str,
    /// One training step.
    pub step: Box<dyn FnMut() -> Result<()> + 'a>,
}

/// The median of `samples`.
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Runs `warmup + steps` rounds, each timing one step of every variant in turn, and prints each variant's
/// median milliseconds and its ratio to the first variant's.
pub fn compare(title: &str, steps: usize, warmup: usize, variants: &mut [Variant<'_>]) -> Result<()> {
    let mut samples = vec![Vec::with_capacity(steps); variants.len()];
    for round in 0..warmup + steps {
        for (variant, samples) in variants.iter_mut().zip(&mut samples) {
            let start = Instant::now();
            (variant.step)()?;
            if round >= warmup {
                samples.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    let medians: Vec<f64> = samples.into_iter().map(median).collect();
    println!("{title}, median of {steps} interleaved steps:");
    for (variant, ms) in variants.iter().zip(&medians) {
        println!("  {:<40} {ms:9.3} ms   ratio {:.3}", variant.name, ms / medians[0]);
    }
    Ok(())
}

/// The steps argument (`cargo bench --bench X -- STEPS`), or `default`.
pub fn steps_arg(default: usize) -> usize {
    numeric_arg(0).unwrap_or(default)
}

/// The `index`-th numeric command-line argument (`cargo bench --bench x -- 150 32`: 0 is 150, 1 is 32).
pub fn numeric_arg(index: usize) -> Option<usize> {
    std::env::args().skip(1).filter_map(|a| a.parse().ok()).nth(index)
}
