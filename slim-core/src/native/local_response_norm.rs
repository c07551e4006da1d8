//! TF's local response normalization across channels by slim's kernel (`csrc/local_response_norm.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_local_response_norm(
        x: *const C_tensor,
        depth_radius: i64,
        bias: f64,
        alpha: f64,
        beta: f64,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
}

/// TF's `tf.nn.lrn(x, depth_radius, bias, alpha, beta)` over the channels of `x`, differentiable (twice). `None`
/// where the kernel does not take `x`: it must be a non-empty 4-D float32 or float64 CPU tensor, channels-last or
/// contiguous in memory. The output has `x`'s dtype and layout.
pub(crate) fn local_response_norm(
    x: &Tensor,
    depth_radius: i64,
    bias: f64,
    alpha: f64,
    beta: f64,
) -> tch::Result<Option<Tensor>> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: `x` is a live tensor handle borrowed for the call; on success the C++ side writes a fresh handle to
    // `out`, or null where it does not take the input.
    let message = unsafe { slim_local_response_norm(x.as_ptr(), depth_radius, bias, alpha, beta, &mut out) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: a non-null `out` is a fresh handle this wrapper alone owns.
    Ok((!out.is_null()).then(|| unsafe { Tensor::from_ptr(out) }))
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;
    use crate::backend::memory_format::is_channels_last;
    use crate::native::{assert_close_at_scale, channels_last};

    /// TF's definition in libtorch's ops: the window sum as shifted slices of the zero-padded squares.
    fn by_definition(x: &Tensor, radius: i64, bias: f64, alpha: f64, beta: f64) -> Tensor {
        let channels = x.size()[1];
        let padded = x.square().constant_pad_nd([0, 0, 0, 0, radius, radius]);
        let sums = (0..=2 * radius).fold(x.zeros_like(), |sum, k| sum + padded.narrow(1, k, channels));
        x / (sums * alpha + bias).pow_tensor_scalar(beta)
    }

    /// Values, input gradients and second derivatives of the kernel and of the definition, within `tolerance`
    /// of the largest magnitude of each (at least 1).
    fn compare(x: &Tensor, radius: i64, beta: f64, tolerance: f64) {
        let what = format!("{:?} {:?} channels-last {} r={radius} β={beta}", x.size(), x.kind(), is_channels_last(x));
        let x = x.set_requires_grad(true);
        let ours = local_response_norm(&x, radius, 1.0, 0.3, beta).unwrap().expect("the kernel takes this input");
        let theirs = by_definition(&x, radius, 1.0, 0.3, beta);
        assert_eq!((ours.kind(), is_channels_last(&ours)), (x.kind(), is_channels_last(&x)), "{what}: dtype, layout");
        let close =
            |a: &Tensor, b: &Tensor, part: &str| assert_close_at_scale(a, b, tolerance, &format!("{what}: {part}"));
        close(&ours, &theirs, "values");
        let upstream = Tensor::randn(x.size(), (x.kind(), Device::Cpu));
        // The kernel's backward pass runs where none is recorded; a recorded one (create_graph) is ATen's.
        let gradient = |y: &Tensor, recorded: bool| {
            Tensor::run_backward(&[(y * &upstream).sum(x.kind())], &[&x], true, recorded).remove(0)
        };
        close(&gradient(&ours, false), &gradient(&theirs, false), "gradients");
        let (our_gradient, their_gradient) = (gradient(&ours, true), gradient(&theirs, true));
        close(&our_gradient, &their_gradient, "recorded gradients");
        let second = |g: &Tensor| Tensor::run_backward(&[g.square().sum(x.kind())], &[&x], false, false).remove(0);
        close(&second(&our_gradient), &second(&their_gradient), "second derivatives");
    }

    #[test]
    fn equals_tfs_definition_in_values_and_derivatives() {
        let randn = |shape: [i64; 4], kind: Kind| Tensor::randn(shape, (kind, Device::Cpu)) * 2.0;
        for (kind, tolerance) in [(Kind::Float, 2e-6), (Kind::Double, 1e-13)] {
            for (shape, radius) in [([2, 16, 5, 7], 2), ([3, 9, 4, 4], 4), ([2, 5, 3, 3], 7), ([2, 6, 3, 2], 0)] {
                for beta in [0.75, 0.5, 1.0, 0.6] {
                    let x = randn(shape, kind);
                    compare(&x, radius, beta, tolerance);
                    compare(&channels_last(&x).unwrap(), radius, beta, tolerance);
                }
            }
            compare(&randn([2, 1, 4, 4], kind), 2, 0.75, tolerance); // one channel: both layouts alike
            compare(&randn([3, 8, 1, 1], kind), 2, 0.75, tolerance); // one pixel per image
        }
    }

    #[test]
    fn leaves_other_inputs_to_libtorch_and_refuses_a_negative_radius() {
        let x = Tensor::randn([2, 4, 3, 3], (Kind::Float, Device::Cpu));
        let taken = |t: &Tensor| local_response_norm(t, 1, 1.0, 0.1, 0.75).unwrap().is_some();
        assert!(!taken(&x.to_kind(Kind::BFloat16)), "bfloat16");
        assert!(!taken(&x.transpose(2, 3)), "neither layout");
        assert!(!taken(&x.view([2, 4, 9])), "3-D");
        assert!(!taken(&x.narrow(0, 0, 0)), "empty");
        let message = local_response_norm(&x, -1, 1.0, 0.1, 0.75).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("depth_radius ≥ 0, got -1"), "{message}");
    }
}
