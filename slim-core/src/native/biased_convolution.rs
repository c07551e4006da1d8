//! A 2-D convolution with bias whose bias gradient is a plain sum (`csrc/biased_convolution.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_biased_convolution(
        input: *const C_tensor,
        weights: *const C_tensor,
        biases: *const C_tensor,
        geometry: *const i64,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
}

/// Stride, padding and dilation (height, width) and groups of a convolution.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConvGeometry {
    /// Steps between windows.
    pub(crate) stride: [i64; 2],
    /// Zeros added on each side.
    pub(crate) padding: [i64; 2],
    /// Steps between a window's taps.
    pub(crate) dilation: [i64; 2],
    /// Channel groups (1 for a full convolution).
    pub(crate) groups: i64,
}

impl ConvGeometry {
    /// The seven integers slim's C++ reads: stride, padding and dilation (height, width each), then groups.
    pub(crate) fn packed(&self) -> [i64; 7] {
        let ConvGeometry { stride, padding, dilation, groups } = *self;
        [stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], groups]
    }
}

/// `conv2d(input, weights, biases)` as libtorch computes it, differentiable, with the bias gradient computed as
/// the sum of the output gradient over batch, height and width instead of by oneDNN's bias-gradient routine.
/// libtorch's message is the error for shapes that do not fit.
pub(crate) fn biased_convolution(
    input: &Tensor,
    weights: &Tensor,
    biases: &Tensor,
    geometry: ConvGeometry,
) -> tch::Result<Tensor> {
    let packed = geometry.packed();
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: the three handles are live tensors borrowed for the call and `packed` holds the seven integers the
    // C++ side reads; it writes a newly allocated handle to `out` on success and returns a message or null.
    let message = unsafe {
        slim_biased_convolution(input.as_ptr(), weights.as_ptr(), biases.as_ptr(), packed.as_ptr(), &mut out)
    };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: on success `out` is a fresh handle this wrapper alone owns.
    Ok(unsafe { Tensor::from_ptr(out) })
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;
    use crate::native::assert_close_at_scale;

    /// Values and the gradients asked for, against libtorch's conv2d, for one geometry and set of
    /// requires-grad flags.
    fn check(input_shape: [i64; 4], weights_shape: [i64; 4], geometry: ConvGeometry, needs: [bool; 3]) {
        let options = (Kind::Float, Device::Cpu);
        let input = Tensor::randn(input_shape, options).set_requires_grad(needs[0]);
        let weights = Tensor::randn(weights_shape, options).set_requires_grad(needs[1]);
        let biases = Tensor::randn([weights_shape[0]], options).set_requires_grad(needs[2]);
        let ours = biased_convolution(&input, &weights, &biases, geometry).unwrap();
        let ConvGeometry { stride, padding, dilation, groups } = geometry;
        let theirs = input.conv2d(&weights, Some(&biases), stride, padding, dilation, groups);
        assert_close_at_scale(&ours, &theirs, 1e-5, &format!("values {geometry:?}"));
        let sources: Vec<&Tensor> =
            [&input, &weights, &biases].into_iter().zip(needs).filter(|(_, n)| *n).map(|(t, _)| t).collect();
        if sources.is_empty() {
            assert!(!ours.requires_grad());
            return;
        }
        let probe = Tensor::randn(theirs.size().as_slice(), options);
        let ours = Tensor::run_backward(&[(&ours * &probe).sum(Kind::Float)], &sources, false, false);
        let theirs = Tensor::run_backward(&[(&theirs * &probe).sum(Kind::Float)], &sources, false, false);
        for (a, b) in ours.iter().zip(&theirs) {
            assert_close_at_scale(a, b, 1e-5, &format!("gradients {geometry:?} {needs:?}"));
        }
    }

    #[test]
    fn matches_libtorch_for_every_geometry_and_gradient_set() {
        let plain = ConvGeometry { stride: [1, 1], padding: [2, 2], dilation: [1, 1], groups: 1 };
        for needs in [[true; 3], [false, true, true], [true, false, false], [false, false, true], [false; 3]] {
            check([4, 3, 12, 12], [8, 3, 5, 5], plain, needs);
        }
        let strided = ConvGeometry { stride: [2, 1], padding: [0, 1], dilation: [2, 1], groups: 1 };
        check([2, 3, 11, 9], [5, 3, 3, 3], strided, [true; 3]);
        let grouped = ConvGeometry { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 3 };
        check([2, 6, 7, 7], [9, 2, 3, 3], grouped, [true; 3]);
    }

    #[test]
    fn a_shape_mismatch_is_an_error() {
        let options = (Kind::Float, Device::Cpu);
        let plain = ConvGeometry { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 };
        let (input, weights) = (Tensor::randn([1, 3, 8, 8], options), Tensor::randn([4, 2, 3, 3], options));
        assert!(biased_convolution(&input, &weights, &Tensor::zeros([4], options), plain).is_err());
    }

    #[test]
    fn second_order_gradients_follow_conv2d() {
        let options = (Kind::Float, Device::Cpu);
        let plain = ConvGeometry { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 };
        let input = Tensor::randn([2, 3, 6, 6], options).set_requires_grad(true);
        let weights = Tensor::randn([4, 3, 3, 3], options).set_requires_grad(true);
        let biases = Tensor::randn([4], options).set_requires_grad(true);
        // A gradient penalty: the weights' and biases' gradients of the squared norm of d(Σy²)/dinput.
        let penalty_gradients = |y: Tensor| {
            let dx = Tensor::run_backward(&[y.square().sum(Kind::Float)], &[&input], true, true);
            Tensor::run_backward(&[dx[0].square().sum(Kind::Float)], &[&weights, &biases], false, false)
        };
        let ours = penalty_gradients(biased_convolution(&input, &weights, &biases, plain).unwrap());
        let theirs = penalty_gradients(input.conv2d(&weights, Some(&biases), [1, 1], [1, 1], [1, 1], 1));
        for (a, b) in ours.iter().zip(&theirs) {
            assert_close_at_scale(a, b, 1e-5, "penalty gradients");
        }
    }
}
