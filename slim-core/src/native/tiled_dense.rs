//! Fully connected training products by slim's register-tiled kernels (`csrc/tiled_dense.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_tiled_dense_product(
        x: *const C_tensor,
        weights: *const C_tensor,
        biases: *const C_tensor,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
}

/// `x [rows, in] · weightsᵀ [in, out] (+ biases [out])` by slim's register-tiled kernel, differentiable: its
/// backward pass computes `dW = dyᵀ·x` and `dx = dy·W` with the second kernel (see `csrc/tiled_dense.cpp`);
/// recorded backward passes (second derivatives) take ATen's products. Every operand must be contiguous float32
/// on the CPU, with matching `in` and `out`, else the error names the shapes or types.
pub(crate) fn tiled_dense_product(x: &Tensor, weights: &Tensor, biases: Option<&Tensor>) -> tch::Result<Tensor> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    let biases = biases.map_or(std::ptr::null(), Tensor::as_ptr);
    // SAFETY: the pointers are live tensor handles (or null for no biases) borrowed for the call; the C++ side
    // only reads them, writes a newly allocated handle to `out` on success and returns a heap message (or null)
    // that it never frees.
    let message = unsafe { slim_tiled_dense_product(x.as_ptr(), weights.as_ptr(), biases, &mut out) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: on success `out` is a fresh handle this wrapper alone owns.
    Ok(unsafe { Tensor::from_ptr(out) })
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, TchError};

    use super::*;
    use crate::native::{assert_close_at_scale, calling_thread_threads, set_calling_thread_threads};

    /// The product and its three gradients against `linear`'s, for rows × in → out (sizes that leave partial
    /// tiles: rows and outputs not multiples of 4, inputs not of 16).
    fn check_against_linear(rows: i64, inputs: i64, outputs: i64, biased: bool) {
        let options = (Kind::Float, Device::Cpu);
        let x = Tensor::randn([rows, inputs], options).set_requires_grad(true);
        let weights = Tensor::randn([outputs, inputs], options).set_requires_grad(true);
        let biases = Tensor::randn([outputs], options).set_requires_grad(true);
        let product = tiled_dense_product(&x, &weights, biased.then_some(&biases)).unwrap();
        let (reference_x, reference_w, reference_b) = (
            x.detach().set_requires_grad(true),
            weights.detach().set_requires_grad(true),
            biases.detach().set_requires_grad(true),
        );
        let reference = reference_x.linear(&reference_w, biased.then_some(&reference_b));
        let scale = format!("{rows}×{inputs}→{outputs}");
        assert_close_at_scale(&product, &reference, 1e-5, &format!("product {scale}"));
        let upstream = Tensor::randn([rows, outputs], options);
        (&product * &upstream).sum(Kind::Float).backward();
        (&reference * &upstream).sum(Kind::Float).backward();
        assert_close_at_scale(&x.grad(), &reference_x.grad(), 1e-5, &format!("dx {scale}"));
        assert_close_at_scale(&weights.grad(), &reference_w.grad(), 1e-5, &format!("dW {scale}"));
        assert_eq!(biases.grad().defined(), biased);
        if biased {
            assert_close_at_scale(&biases.grad(), &reference_b.grad(), 1e-5, &format!("db {scale}"));
        }
    }

    #[test]
    fn the_product_and_its_gradients_match_linear() {
        // Whole tiles (the MLP's fc1), partial tiles and strips of 16, a tail under 16, one row, one output.
        check_against_linear(32, 784, 128, true);
        check_against_linear(7, 83, 10, true);
        check_against_linear(5, 150, 6, false);
        check_against_linear(1, 20, 1, true);
    }

    #[test]
    fn only_the_gradients_asked_for_are_computed() {
        let options = (Kind::Float, Device::Cpu);
        let x = Tensor::randn([9, 70], options);
        let weights = Tensor::randn([12, 70], options).set_requires_grad(true);
        let upstream = Tensor::randn([9, 12], options).tr().contiguous().tr();
        let product = tiled_dense_product(&x, &weights, None).unwrap();
        let grads = Tensor::run_backward(&[(&product * &upstream).sum(Kind::Float)], &[&weights], false, false);
        // A non-contiguous upstream gradient, and no input gradient for an input that needs none.
        assert_close_at_scale(&grads[0], &upstream.tr().matmul(&x), 1e-5, "dW");
        assert!(!x.grad().defined());
    }

    #[test]
    fn the_product_and_the_weights_gradient_do_not_depend_on_the_thread_count() {
        let options = (Kind::Float, Device::Cpu);
        let x = Tensor::randn([32, 784], options);
        let weights = Tensor::randn([128, 784], options).set_requires_grad(true);
        let upstream = Tensor::randn([32, 128], options);
        // The count of this thread alone (other tests run beside this one).
        let run = |threads: i32| {
            let previous = calling_thread_threads();
            set_calling_thread_threads(threads, false);
            let product = tiled_dense_product(&x, &weights, None).unwrap();
            let grads = Tensor::run_backward(&[(&product * &upstream).sum(Kind::Float)], &[&weights], false, false);
            set_calling_thread_threads(previous, true);
            (product.detach(), grads[0].shallow_clone())
        };
        let ((one_product, one_gradient), (two_product, two_gradient)) = (run(1), run(2));
        assert!(one_product.equal(&two_product));
        assert!(one_gradient.equal(&two_gradient));
    }

    #[test]
    fn second_order_gradients_follow_linear() {
        let options = (Kind::Float, Device::Cpu);
        let x = Tensor::randn([6, 40], options).set_requires_grad(true);
        let weights = Tensor::randn([30, 40], options).set_requires_grad(true);
        // A gradient penalty: the weights' gradient of the squared norm of d(Σy²)/dx.
        let penalty_gradient = |y: Tensor| {
            let dx = Tensor::run_backward(&[y.square().sum(Kind::Float)], &[&x], true, true);
            Tensor::run_backward(&[dx[0].square().sum(Kind::Float)], &[&weights], false, false).remove(0)
        };
        let ours = penalty_gradient(tiled_dense_product(&x, &weights, None).unwrap());
        let theirs = penalty_gradient(x.linear::<Tensor>(&weights, None));
        assert_close_at_scale(&ours, &theirs, 1e-5, "penalty gradient");
    }

    #[test]
    fn mismatched_or_foreign_operands_are_errors_naming_them() {
        let message =
            |x: &Tensor, weights: &Tensor, biases: Option<&Tensor>| match tiled_dense_product(x, weights, biases) {
                Err(TchError::Torch(message)) => message,
                other => panic!("expected an error, got {other:?}"),
            };
        let options = (Kind::Float, Device::Cpu);
        let x = Tensor::randn([6, 40], options);
        let weights = Tensor::randn([30, 40], options);
        let refused = message(&x, &Tensor::randn([30, 41], options), None);
        assert!(refused.contains("[6, 40]") && refused.contains("expected [rows, in] and [out, in]"), "{refused}");
        let refused = message(&x, &weights, Some(&Tensor::randn([29], options)));
        assert!(refused.contains("biases [29]") && refused.contains("expected [out]"), "{refused}");
        let refused = message(&x.to_kind(Kind::Double), &weights.to_kind(Kind::Double), None);
        assert!(refused.contains("contiguous float32 CPU tensors, got Double"), "{refused}");
        let refused = message(&Tensor::randn([40, 6], options).tr(), &weights, None);
        assert!(refused.contains("not contiguous"), "{refused}");
    }
}
