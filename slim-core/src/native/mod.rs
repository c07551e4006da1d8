//! The C++ functions slim compiles into itself (`slim-core/csrc/`), behind safe wrappers: ATen operations,
//! autograd functions and loops that tch cannot express.
#![allow(unsafe_code)]

mod all_finite;
mod autocast;
mod batch_norm_relu;
mod biased_convolution;
mod channels_last;
mod dense_product;
mod dropout;
mod fused_adadelta;
mod fused_adam;
mod fused_convolution;
mod fused_rmsprop;
mod fused_sgd;
mod generator_state;
mod kept_weights;
mod l2_loss;
mod local_response_norm;
mod lower_bound;
mod max_pool;
#[cfg(feature = "mpi")]
pub(crate) mod mpi;
mod stack_images;
mod step_trace;
mod thread_count;
mod tiled_dense;

#[cfg(test)]
pub(crate) mod closeness;
#[cfg(test)]
pub(crate) use closeness::{assert_close_at_scale, thread_keeps_subnormals};

pub(crate) use all_finite::{all_finite, first_non_finite};
pub(crate) use autocast::{AutocastScope, AutocastType, autocast_type};
pub(crate) use batch_norm_relu::{BatchNormRelu, batch_norm_relu};
pub(crate) use biased_convolution::{ConvGeometry, biased_convolution};
pub(crate) use channels_last::channels_last;
pub(crate) use dense_product::dense_product;
pub(crate) use dropout::dropout;
pub(crate) use fused_adadelta::{AdadeltaStep, fused_adadelta};
pub(crate) use fused_adam::{AdamStep, fused_adam};
pub(crate) use fused_convolution::{convolution_relu, fused_convolution_available, grad_mode_enabled};
pub(crate) use fused_rmsprop::{RmsPropSlots, RmsPropStep, fused_rmsprop};
pub(crate) use fused_sgd::fused_sgd;
pub(crate) use generator_state::{cpu_generator_state, set_cpu_generator_state};
pub(crate) use kept_weights::{BatchNormFold, autocast_cast, clear_kept_weights, kept_fold};
pub(crate) use l2_loss::half_squared_norm;
pub(crate) use local_response_norm::local_response_norm;
pub(crate) use lower_bound::lower_bound;
pub(crate) use max_pool::{PoolWindow, max_pool2d};
pub(crate) use stack_images::stack_floats;
pub(crate) use step_trace::StepTrace;
pub(crate) use thread_count::{calling_thread_threads, set_calling_thread_threads};
pub(crate) use tiled_dense::tiled_dense_product;

use std::ffi::{CStr, c_char};

use tch::{TchError, Tensor};
use torch_sys::C_tensor;

unsafe extern "C" {
    fn slim_free_error(message: *mut c_char);
}

/// The result of a C function that returns null on success or an error message to free.
///
/// # Safety
/// `message` is null or a NUL-terminated string from `slim::copy_message` that nobody else frees.
unsafe fn take_error(message: *mut c_char) -> tch::Result<()> {
    if message.is_null() {
        return Ok(());
    }
    // SAFETY: the caller guarantees a NUL-terminated string that lives until freed below.
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
    // SAFETY: freed once, by the C++ side's own deallocator.
    unsafe { slim_free_error(message) };
    Err(TchError::Torch(text))
}

/// The handles of the tensor lists of one fused update call (variables first, then gradients and slots), each
/// list as long as the variables'; otherwise an error naming `call` and every list's length.
fn update_list_handles<const N: usize>(call: &str, lists: [&[&Tensor]; N]) -> tch::Result<[Vec<*const C_tensor>; N]> {
    let count = lists.first().map_or(0, |variables| variables.len());
    if lists.iter().any(|list| list.len() != count) {
        let lengths: Vec<usize> = lists.iter().map(|list| list.len()).collect();
        return Err(TchError::Torch(format!(
            "{call}: lists of {lengths:?} tensors (variables, gradients, slots); each must hold one per variable"
        )));
    }
    Ok(lists.map(|list| list.iter().map(|tensor| tensor.as_ptr()).collect()))
}
