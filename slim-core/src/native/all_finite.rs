//! Whether a list of tensors holds only finite values, in one call (`csrc/all_finite.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_all_finite(tensors: *const *const C_tensor, count: i64, result: *mut bool) -> *mut c_char;
}

/// Whether every element of every tensor is finite (no NaN, no infinity). Dense float32 and float64 CPU tensors
/// are scanned in place; others go through ATen's `isfinite`, with one read-back for all of them.
pub(crate) fn all_finite(tensors: &[&Tensor]) -> tch::Result<bool> {
    let handles: Vec<*const C_tensor> = tensors.iter().map(|t| t.as_ptr()).collect();
    let mut result = false;
    // SAFETY: `handles` holds `tensors.len()` live tensor handles borrowed for the call; the C++ side only reads
    // them and writes the answer to `result`.
    let message = unsafe { slim_all_finite(handles.as_ptr(), handles.len() as i64, &mut result) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    Ok(result)
}

/// The position of the first tensor holding a NaN or an infinity, if any: one scan of them all, and a search
/// tensor by tensor only when that scan finds one (to name it).
pub(crate) fn first_non_finite(tensors: &[&Tensor]) -> tch::Result<Option<usize>> {
    if all_finite(tensors)? {
        return Ok(None);
    }
    for (position, tensor) in tensors.iter().enumerate() {
        if !all_finite(&[tensor])? {
            return Ok(Some(position));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    #[test]
    fn one_bad_value_anywhere_is_found() {
        let big = Tensor::randn([300_001], (Kind::Float, Device::Cpu));
        let small = Tensor::randn([3, 5], (Kind::Double, Device::Cpu));
        let strided = Tensor::randn([6, 8], (Kind::Float, Device::Cpu)).slice(1, 0, 8, 2);
        let halves = Tensor::randn([7], (Kind::Half, Device::Cpu));
        let all = [&big, &small, &strided, &halves];
        assert!(all_finite(&all).unwrap());
        assert!(all_finite(&[]).unwrap());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for (tensor, index, position) in
                [(&big, 299_999i64, 0), (&big, 3, 0), (&small, 14, 1), (&strided, 5, 2), (&halves, 6, 3)]
            {
                let flat = tensor.view(-1).copy();
                let original = flat.double_value(&[index]);
                let _ = tensor.view(-1).get(index).fill_(bad);
                assert!(!all_finite(&all).unwrap(), "{bad} at {index} of {:?}", tensor.size());
                assert_eq!(first_non_finite(&all).unwrap(), Some(position));
                let _ = tensor.view(-1).get(index).fill_(original);
            }
        }
        assert!(all_finite(&all).unwrap());
        assert_eq!(first_non_finite(&all).unwrap(), None);
        let largest = Tensor::full([4], f64::from(f32::MAX), (Kind::Float, Device::Cpu));
        assert!(all_finite(&[&largest, &largest]).unwrap(), "large finite values do not overflow anything");
    }
}
