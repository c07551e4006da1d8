//! Float comparisons for the tests of the native functions, which check them against libtorch's own on random data,
//! and a check of the calling thread's float mode.

use tch::Tensor;

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
