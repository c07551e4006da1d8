//! Convolution and ReLU in one oneDNN call, without a gradient (`csrc/fused_convolution.cpp`).

use std::ffi::c_char;
use std::sync::OnceLock;

use tch::Tensor;
use torch_sys::C_tensor;

use super::{ConvGeometry, take_error};

unsafe extern "C" {
    fn slim_fused_convolution_available() -> bool;
    fn slim_grad_mode_enabled() -> bool;
    fn slim_convolution_relu(
        input: *const C_tensor,
        weights: *const C_tensor,
        biases: *const C_tensor,
        geometry: *const i64,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
}

/// Whether libtorch registered its fused convolution operator (`mkldnn::_convolution_pointwise`); asked once.
pub(crate) fn fused_convolution_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    // SAFETY: a dispatcher lookup with no arguments.
    *AVAILABLE.get_or_init(|| unsafe { slim_fused_convolution_available() })
}

/// Whether autograd records operations on the calling thread (false inside `tch::no_grad`).
pub(crate) fn grad_mode_enabled() -> bool {
    // SAFETY: reads thread-local state.
    unsafe { slim_grad_mode_enabled() }
}

/// `relu(conv2d(input, weights, biases))` with `geometry`, as one oneDNN convolution with a ReLU post-op. No
/// gradient flows through it; libtorch's message is the error for shapes or types it does not take.
pub(crate) fn convolution_relu(
    input: &Tensor,
    weights: &Tensor,
    biases: Option<&Tensor>,
    geometry: ConvGeometry,
) -> tch::Result<Tensor> {
    let packed = geometry.packed();
    let biases = biases.map_or(std::ptr::null(), |b| b.as_ptr());
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: the handles are live tensors (or null for no biases) borrowed for the call, `packed` holds the seven
    // integers the C++ side reads; it writes a fresh handle to `out` on success and returns a message or null.
    let message = unsafe { slim_convolution_relu(input.as_ptr(), weights.as_ptr(), biases, packed.as_ptr(), &mut out) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: on success `out` is a fresh handle this wrapper alone owns.
    Ok(unsafe { Tensor::from_ptr(out) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn equals_relu_of_libtorch_convolution_for_each_geometry() {
        if !fused_convolution_available() {
            return; // a libtorch without oneDNN: the layers take the plain path
        }
        tch::manual_seed(0);
        let options = (Kind::Float, Device::Cpu);
        let geometries = [
            ConvGeometry { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 },
            ConvGeometry { stride: [2, 1], padding: [0, 2], dilation: [1, 2], groups: 1 },
            ConvGeometry { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 2 },
        ];
        for geometry in geometries {
            let input = Tensor::randn([2, 4, 9, 8], options);
            let weights = Tensor::randn([6, 4 / geometry.groups, 3, 3], options);
            let biases = Tensor::randn([6], options);
            let ConvGeometry { stride, padding, dilation, groups } = geometry;
            let expected = input.conv2d(&weights, Some(&biases), stride, padding, dilation, groups).relu();
            let fused = tch::no_grad(|| convolution_relu(&input, &weights, Some(&biases), geometry)).unwrap();
            assert_eq!(fused.size(), expected.size());
            let difference = (&fused - &expected).abs().max().double_value(&[]);
            assert!(difference < 1e-4, "{geometry:?}: {difference}");
            let unbiased = tch::no_grad(|| convolution_relu(&input, &weights, None, geometry)).unwrap();
            let expected = input.conv2d::<Tensor>(&weights, None, stride, padding, dilation, groups).relu();
            assert!((&unbiased - &expected).abs().max().double_value(&[]) < 1e-4);
        }
    }

    #[test]
    fn grad_mode_follows_no_grad_and_bad_shapes_are_errors() {
        assert!(grad_mode_enabled());
        assert!(!tch::no_grad(grad_mode_enabled));
        if fused_convolution_available() {
            let input = Tensor::zeros([1, 3, 4, 4], (Kind::Float, Device::Cpu));
            let weights = Tensor::zeros([2, 5, 3, 3], (Kind::Float, Device::Cpu));
            let geometry = ConvGeometry { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 };
            assert!(tch::no_grad(|| convolution_relu(&input, &weights, None, geometry)).is_err());
        }
    }
}
