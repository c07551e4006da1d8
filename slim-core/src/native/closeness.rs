//! Float comparisons for the tests of the native functions, which check them against libtorch's own on random data,
//! and the fixtures of the optimizer kernels' subnormal flushing.

use tch::{Device, Kind, Tensor};

/// Panics unless every element of `ours` is within `tolerance` times the reference's scale (its largest magnitude,
/// at least 1) of `theirs`. Float32 sums of many random terms carry rounding errors relative to the terms, not to
/// each result, so an element-wise relative test fails by chance on the small elements of a second-order gradient
/// whose largest ones are in the ten thousands.
pub(crate) fn assert_close_at_scale(ours: &Tensor, theirs: &Tensor, tolerance: f64, what: &str) {
    assert_eq!(ours.size(), theirs.size(), "{what}: shapes");
    let scale = theirs.abs().max().double_value(&[]).max(1.0);
    let worst = (ours - theirs).abs().max().double_value(&[]);
    assert!(worst <= tolerance * scale, "{what}: off by {worst} at scale {scale} (tolerance {tolerance})");
}

/// Whether the calling thread computes subnormal results (no flush-to-zero mode left set by a kernel).
pub(crate) fn thread_keeps_subnormals() -> bool {
    std::hint::black_box(f32::MIN_POSITIVE) * std::hint::black_box(0.5f32) != 0.0
}

/// The dtypes the fused updates take, each with its smallest normal value.
pub(crate) const UPDATE_KINDS: [(Kind, f64); 2] =
    [(Kind::Float, f32::MIN_POSITIVE as f64), (Kind::Double, f64::MIN_POSITIVE)];

/// A slot of 70,001 values (several parallel chunks and a vector remainder) of `kind` that one decay step under a
/// zero gradient takes below the smallest normal value `smallest_normal`: just above it, the first ten already
/// subnormal.
pub(crate) fn slot_about_to_turn_subnormal(kind: Kind, smallest_normal: f64) -> Tensor {
    let slot = Tensor::full([70_001], smallest_normal * 1.02, (kind, Device::Cpu));
    let _ = slot.narrow(0, 0, 10).fill_(smallest_normal / 4.0);
    slot
}

/// Standard normal values of `shape` and `kind` on the CPU.
pub(crate) fn randn(shape: &[i64], kind: Kind) -> Tensor {
    Tensor::randn(shape, (kind, Device::Cpu))
}
