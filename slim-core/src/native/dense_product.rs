//! The fully connected product with slim's own backward pass (`csrc/dense_product.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_dense_product(x: *const C_tensor, weights: *const C_tensor, out: *mut *mut C_tensor) -> *mut c_char;
}

/// `x [rows, in] · weightsᵀ [in, out]` through oneDNN forward convolutions in both directions: the swapped 1×1
/// convolution forward, `dx = dy·W` as a forward convolution and `dW` as the swapped convolution's backward-data
/// pass (see `csrc/dense_product.cpp`); when no gradient is recorded, oneDNN's matrix product instead. Both
/// tensors must be 2-D float32 on the CPU with matching `in`, else the error carries libtorch's message.
pub(crate) fn dense_product(x: &Tensor, weights: &Tensor) -> tch::Result<Tensor> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: both pointers are live tensor handles borrowed for the call; the C++ side only reads them, writes
    // a newly allocated handle to `out` on success and returns a heap message (or null) that it never frees.
    let message = unsafe { slim_dense_product(x.as_ptr(), weights.as_ptr(), &mut out) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: on success `out` is a fresh handle this wrapper alone owns.
    Ok(unsafe { Tensor::from_ptr(out) })
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, TchError};

    use super::*;
    use crate::native::assert_close_at_scale;

    /// The product and whichever gradients are asked for against `matmul`'s.
    fn check_against_matmul(x_needs_grad: bool, weights_need_grad: bool) {
        let x = Tensor::randn([6, 40], (Kind::Float, Device::Cpu)).set_requires_grad(x_needs_grad);
        let weights = Tensor::randn([30, 40], (Kind::Float, Device::Cpu)).set_requires_grad(weights_need_grad);
        let product = dense_product(&x, &weights).unwrap();
        let reference_x = x.detach().set_requires_grad(x_needs_grad);
        let reference_w = weights.detach().set_requires_grad(weights_need_grad);
        let reference = reference_x.matmul(&reference_w.tr());
        assert_close_at_scale(&product, &reference, 1e-5, "product");
        assert_eq!(product.requires_grad(), x_needs_grad || weights_need_grad);
        if !product.requires_grad() {
            return;
        }
        let upstream = Tensor::randn([6, 30], (Kind::Float, Device::Cpu));
        (&product * &upstream).sum(Kind::Float).backward();
        (&reference * &upstream).sum(Kind::Float).backward();
        assert_eq!(x.grad().defined(), x_needs_grad);
        assert_eq!(weights.grad().defined(), weights_need_grad);
        if x_needs_grad {
            assert_close_at_scale(&x.grad(), &reference_x.grad(), 1e-5, "dx");
        }
        if weights_need_grad {
            assert_close_at_scale(&weights.grad(), &reference_w.grad(), 1e-5, "dW");
        }
    }

    #[test]
    fn the_product_and_its_gradients_match_matmul() {
        check_against_matmul(true, true);
        check_against_matmul(true, false);
        check_against_matmul(false, true);
        check_against_matmul(false, false);
    }

    #[test]
    fn without_gradients_the_product_matches_matmul_and_records_nothing() {
        let weights = Tensor::randn([300, 400], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        // One row (a batch of one image), and a transposed batch of five.
        for x in [
            Tensor::randn([1, 400], (Kind::Float, Device::Cpu)),
            Tensor::randn([400, 5], (Kind::Float, Device::Cpu)).tr(),
        ] {
            let product = tch::no_grad(|| dense_product(&x, &weights)).unwrap();
            assert!(!product.requires_grad());
            assert_close_at_scale(&product, &x.matmul(&weights.detach().tr()), 1e-5, "product");
        }
    }

    #[test]
    fn a_non_contiguous_upstream_gradient_is_handled() {
        let x = Tensor::randn([6, 40], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let weights = Tensor::randn([30, 40], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let upstream = Tensor::randn([30, 6], (Kind::Float, Device::Cpu)).tr();
        let grads = Tensor::run_backward(
            &[(dense_product(&x, &weights).unwrap() * &upstream).sum(Kind::Float)],
            &[&x, &weights],
            false,
            false,
        );
        assert_close_at_scale(&grads[0], &upstream.matmul(&weights.detach()), 1e-5, "dx");
        assert_close_at_scale(&grads[1], &upstream.tr().matmul(&x.detach()), 1e-5, "dW");
    }

    #[test]
    fn mismatched_or_foreign_operands_are_errors_with_a_message() {
        let message = |x: &Tensor, weights: &Tensor| match dense_product(x, weights) {
            Err(TchError::Torch(message)) => message,
            other => panic!("expected libtorch's error, got {other:?}"),
        };
        let x = Tensor::randn([6, 40], (Kind::Float, Device::Cpu));
        let weights = Tensor::randn([30, 41], (Kind::Float, Device::Cpu));
        // Without gradients (oneDNN's product): slim's message names the shapes.
        let refused = message(&x, &weights);
        assert!(refused.contains("[6, 40]") && refused.contains("expected [rows, in] and [out, in]"), "{refused}");
        let refused = message(&x.to_kind(Kind::Double), &weights.to_kind(Kind::Double).narrow(1, 0, 40));
        assert!(refused.contains("takes float32 CPU tensors"), "{refused}");
        // With gradients (the convolutions): libtorch's message.
        assert!(!message(&x.set_requires_grad(true), &weights).is_empty());
    }

    #[test]
    fn second_order_gradients_follow_matmul() {
        let x = Tensor::randn([6, 40], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let weights = Tensor::randn([30, 40], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        // A gradient penalty: the weights' gradient of the squared norm of d(Σy²)/dx.
        let penalty_gradient = |y: Tensor| {
            let dx = Tensor::run_backward(&[y.square().sum(Kind::Float)], &[&x], true, true);
            Tensor::run_backward(&[dx[0].square().sum(Kind::Float)], &[&weights], false, false).remove(0)
        };
        let ours = penalty_gradient(dense_product(&x, &weights).unwrap());
        let theirs = penalty_gradient(x.matmul(&weights.tr()));
        assert_close_at_scale(&ours, &theirs, 1e-5, "penalty gradient");
    }
}
