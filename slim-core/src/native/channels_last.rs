//! A tensor copied into channels-last memory by ATen's `empty_like(ChannelsLast)` + `copy_`
//! (`csrc/channels_last.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_channels_last(input: *const C_tensor, out: *mut *mut C_tensor) -> *mut c_char;
}

/// A copy of `input` (4-D) in NHWC memory with PyTorch's channels-last strides (one channel included),
/// differentiable. A TorchScript trace records it relative to the input, free of the example's sizes.
pub(crate) fn channels_last(input: &Tensor) -> tch::Result<Tensor> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: `input` is a live tensor handle borrowed for the call; the C++ side writes a newly allocated handle
    // to `out` on success and returns a message or null.
    let message = unsafe { slim_channels_last(input.as_ptr(), &mut out) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: on success `out` is a fresh handle this wrapper alone owns.
    Ok(unsafe { Tensor::from_ptr(out) })
}
