//! Equal-sized float images stacked into one tensor without an ATen loop (`csrc/stack_images.cpp`).

use std::ffi::c_char;

use tch::{TchError, Tensor};
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_stack_floats(
        images: *const *const f32,
        count: usize,
        image_len: usize,
        dims: *const i64,
        ndims: usize,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
}

/// A `[images.len(), ...shape]` float tensor of `images`, each `shape`'s product of values long (checked), one
/// copy each and no libtorch thread started.
pub(crate) fn stack_floats(images: &[&[f32]], shape: &[i64]) -> tch::Result<Tensor> {
    let image_len = shape.iter().try_fold(1usize, |len, &dim| len.checked_mul(usize::try_from(dim).ok()?));
    let image_len = image_len.ok_or_else(|| TchError::Shape(format!("the image shape {shape:?} is not a size")))?;
    if let Some(other) = images.iter().find(|image| image.len() != image_len) {
        return Err(TchError::Shape(format!("an image of {} values where {shape:?} holds {image_len}", other.len())));
    }
    let dims: Vec<i64> = [images.len() as i64].into_iter().chain(shape.iter().copied()).collect();
    let pointers: Vec<*const f32> = images.iter().map(|image| image.as_ptr()).collect();
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: `pointers` holds `images.len()` pointers to live buffers of `image_len` floats each (checked above),
    // `dims` outlives the call; the C++ side only reads them, writes a new handle to `out` on success and
    // returns a heap message (or null) that it never frees.
    let message =
        unsafe { slim_stack_floats(pointers.as_ptr(), images.len(), image_len, dims.as_ptr(), dims.len(), &mut out) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: on success `out` is a fresh handle this wrapper alone owns.
    Ok(unsafe { Tensor::from_ptr(out) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_stack_in_order_and_a_wrong_length_is_an_error() {
        let (a, b) = ([1.0f32, 2.0, 3.0, 4.0], [5.0f32, 6.0, 7.0, 8.0]);
        let stacked = stack_floats(&[&a, &b], &[1, 2, 2]).unwrap();
        assert_eq!(stacked.size(), [2, 1, 2, 2]);
        assert_eq!(Vec::<f32>::try_from(stacked.flatten(0, -1)).unwrap(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        assert!(stack_floats(&[&a, &b[..3]], &[1, 2, 2]).is_err());
        assert_eq!(stack_floats(&[], &[3, 4, 4]).unwrap().size(), [0, 3, 4, 4]);
    }
}
