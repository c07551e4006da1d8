//! GDN's lower bound with TF's gradient (`csrc/lower_bound.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_lower_bound(inputs: *const C_tensor, bound: f64, out: *mut *mut C_tensor) -> *mut c_char;
}

/// `max(inputs, bound)`, differentiable as TF's `GDNLowerBound`: the gradient passes where `inputs ≥ bound` or
/// where it is negative (it would raise the input), and is zero elsewhere. `inputs` must be a float tensor.
pub(crate) fn lower_bound(inputs: &Tensor, bound: f64) -> tch::Result<Tensor> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: `inputs` is a live tensor handle borrowed for the call; the C++ side writes a newly allocated handle
    // to `out` on success and returns a message or null.
    let message = unsafe { slim_lower_bound(inputs.as_ptr(), bound, &mut out) };
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
    fn bounds_forward_and_lets_upward_gradients_through_below_the_bound() {
        let x = Tensor::from_slice(&[0.5f32, 2.0, 0.5, 2.0]).set_requires_grad(true);
        let y = lower_bound(&x, 1.0).unwrap();
        assert!(y.equal(&Tensor::from_slice(&[1.0f32, 2.0, 1.0, 2.0])));
        let upstream = Tensor::from_slice(&[1.0f32, 1.0, -1.0, -1.0]);
        let grad = Tensor::run_backward(&[(&y * &upstream).sum(Kind::Float)], &[&x], false, false).remove(0);
        // Below the bound a positive gradient (descent would lower x further) stops; a negative one passes.
        assert!(grad.equal(&Tensor::from_slice(&[0.0f32, 1.0, -1.0, -1.0])), "{grad}");
        assert!(lower_bound(&Tensor::ones([2], (Kind::Int64, Device::Cpu)), 0.0).is_err());
    }
}
