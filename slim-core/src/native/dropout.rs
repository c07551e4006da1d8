//! Inverted dropout with a parallel, hashed mask (`csrc/dropout.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_dropout(input: *const C_tensor, keep_prob: f64, first_index: i64, out: *mut *mut C_tensor) -> *mut c_char;
}

/// `input` with each element kept (and scaled by `1/keep_prob`) with probability `keep_prob` in (0, 1), else 0;
/// differentiable (the gradient passes through the same mask). The mask's seed is one draw from libtorch's default
/// CPU generator, so `tch::manual_seed` reproduces it; element `i`'s draw hashes `first_index + i` (in memory
/// order). `input` must be float32 or float64 on the CPU.
pub(crate) fn dropout(input: &Tensor, keep_prob: f64, first_index: i64) -> tch::Result<Tensor> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: `input` is a live tensor handle borrowed for the call; the C++ side writes a newly allocated handle
    // to `out` on success and returns a message or null.
    let message = unsafe { slim_dropout(input.as_ptr(), keep_prob, first_index, &mut out) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: on success `out` is a fresh handle this wrapper alone owns.
    Ok(unsafe { Tensor::from_ptr(out) })
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    #[test]
    fn keeps_about_keep_prob_scales_and_routes_the_gradient_through_the_mask() {
        for (kind, keep_prob) in [(Kind::Float, 0.5), (Kind::Double, 0.8), (Kind::Float, 0.1)] {
            let x = Tensor::ones([300, 1000], (kind, Device::Cpu)).set_requires_grad(true);
            let y = dropout(&x, keep_prob, 0).unwrap();
            let kept = y.ne(0.0).to_kind(Kind::Double).mean(Kind::Double).double_value(&[]);
            assert!((kept - keep_prob).abs() < 0.005, "kept {kept} of {keep_prob}");
            let nonzero = y.masked_select(&y.ne(0.0));
            assert!(nonzero.allclose(&(nonzero.ones_like() / keep_prob), 1e-6, 1e-6, false));
            let grad = Tensor::run_backward(&[(&y * 3.0).sum(kind)], &[&x], false, false).remove(0);
            assert!(grad.allclose(&(y.detach() * 3.0), 1e-6, 1e-6, false));
        }
    }

    /// That masks follow `tch::manual_seed` is checked in tests/exact_resume.rs, a binary of its own: here other
    /// tests draw from libtorch's process-wide generator between a seed and its draw.
    #[test]
    fn masks_differ_between_calls_and_neighbours_are_independent() {
        let x = Tensor::ones([64, 1024], (Kind::Float, Device::Cpu));
        let (a, b) = (dropout(&x, 0.5, 0).unwrap(), dropout(&x, 0.5, 0).unwrap());
        let same = a.eq_tensor(&b).to_kind(Kind::Double).mean(Kind::Double).double_value(&[]);
        assert!((same - 0.5).abs() < 0.02, "consecutive masks agree on {same} of the elements");
        // Neighbouring elements are independent: about a quarter of adjacent pairs are both kept.
        let (left, right) = (a.ne(0.0).slice(1, 0, 1023, 1), a.ne(0.0).slice(1, 1, 1024, 1));
        let both = left.logical_and(&right).to_kind(Kind::Double).mean(Kind::Double).double_value(&[]);
        assert!((both - 0.25).abs() < 0.01, "{both}");
    }

    #[test]
    fn other_dtypes_and_probabilities_are_refused() {
        let x = Tensor::ones([4], (Kind::Half, Device::Cpu));
        assert!(
            dropout(&x, 0.5, 0).is_err() && dropout(&Tensor::ones([4], (Kind::Float, Device::Cpu)), 0.5, -1).is_err()
        );
        let x = Tensor::ones([4], (Kind::Float, Device::Cpu));
        assert!(dropout(&x, 1.0, 0).is_err() && dropout(&x, 0.0, 0).is_err());
    }
}
