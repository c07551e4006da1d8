//! TF's `l2_loss` (Σw²/2) as one autograd function (`csrc/l2_loss.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_half_squared_norm(weights: *const C_tensor, out: *mut *mut C_tensor) -> *mut c_char;
}

/// Σw²/2 of `weights` (float32 or float64, on the CPU) as a differentiable scalar of their dtype: one pass
/// forward, `w·g` backward (second derivatives work).
pub(crate) fn half_squared_norm(weights: &Tensor) -> tch::Result<Tensor> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: `weights` is a live tensor handle borrowed for the call; the C++ side writes a newly allocated
    // handle to `out` on success and returns a message or null.
    let message = unsafe { slim_half_squared_norm(weights.as_ptr(), &mut out) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: on success `out` is a fresh handle this wrapper alone owns.
    Ok(unsafe { Tensor::from_ptr(out) })
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;
    use crate::native::channels_last;

    #[test]
    fn equals_half_the_sum_of_squares_with_its_gradients() {
        for (shape, kind) in [(&[3137i64][..], Kind::Float), (&[64, 32, 5, 5], Kind::Float), (&[7, 9], Kind::Double)] {
            let w = Tensor::randn(shape, (kind, Device::Cpu)).set_requires_grad(true);
            let ours = half_squared_norm(&w).unwrap();
            let theirs = w.square().sum(kind) / 2.0;
            assert_eq!((ours.kind(), ours.dim()), (kind, 0));
            let (a, b) = (ours.double_value(&[]), theirs.double_value(&[]));
            assert!((a - b).abs() <= 1e-6 * b, "{shape:?}: {a} against {b}");
            let scaled = &ours * 0.25;
            let grad = Tensor::run_backward(&[&scaled], &[&w], true, true).remove(0);
            assert!(grad.allclose(&(&w * 0.25), 1e-6, 1e-7, false), "{shape:?}: dw = w·g");
            let second = Tensor::run_backward(&[grad.sum(kind)], &[&w], false, false).remove(0);
            assert!(second.allclose(&w.ones_like().g_mul_scalar(0.25), 1e-6, 1e-7, false), "second derivative");
        }
    }

    #[test]
    fn sums_channels_last_weights_whole_and_refuses_other_dtypes() {
        let w = Tensor::randn([8, 3, 3, 3], (Kind::Float, Device::Cpu));
        let permuted = channels_last(&w).unwrap();
        let (a, b) = (half_squared_norm(&permuted).unwrap(), half_squared_norm(&w).unwrap());
        assert!((a.double_value(&[]) - b.double_value(&[])).abs() <= 1e-6 * b.double_value(&[]));
        let strided = Tensor::randn([6, 8], (Kind::Float, Device::Cpu)).slice(1, 0, 8, 2);
        let expected = strided.square().sum(Kind::Float).double_value(&[]) / 2.0;
        assert!((half_squared_norm(&strided).unwrap().double_value(&[]) - expected).abs() <= 1e-6 * expected);
        let error = half_squared_norm(&w.to_kind(Kind::Half)).unwrap_err().to_string();
        assert!(error.contains("float32 or float64"), "{error}");
    }
}
