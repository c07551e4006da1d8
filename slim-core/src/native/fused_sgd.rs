//! slim's fused SGD step over a list of variables, optionally refused on a non-finite gradient (`csrc/fused_sgd.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_fused_sgd(
        variables: *const *const C_tensor,
        gradients: *const *const C_tensor,
        accumulations: *const *const C_tensor,
        count: i64,
        momentum: f64,
        learning_rate: f64,
        nesterov: bool,
        check_finite: bool,
        applied: *mut bool,
    ) -> *mut c_char;
}

/// Updates every variable in place in one call, by the rule `(momentum, learning_rate, nesterov)`: with
/// `accumulations`, `a = momentum·a + g; w −= lr·a` (Nesterov: `w −= lr·(g + momentum·a)`); without, `w −= lr·g`
/// (momentum 0). Each variable's gradient and accumulation must match it in sizes, strides, dtype and device, and
/// the variable must be a dense float32 or float64 CPU tensor; otherwise nothing is updated and the error names
/// the first offending position. With `check_finite`, nothing is updated either when a gradient holds a NaN or
/// an infinity, and the answer is `false`; otherwise it is `true`.
pub(crate) fn fused_sgd(
    variables: &[&Tensor],
    gradients: &[&Tensor],
    accumulations: Option<&[&Tensor]>,
    (momentum, learning_rate, nesterov): (f64, f64, bool),
    check_finite: bool,
) -> tch::Result<bool> {
    let count = variables.len();
    let lengths_match = gradients.len() == count && accumulations.is_none_or(|a| a.len() == count);
    if !lengths_match {
        return Err(tch::TchError::Torch(format!(
            "fused SGD: {count} variables, {} gradients and {:?} accumulations",
            gradients.len(),
            accumulations.map(<[_]>::len)
        )));
    }
    let handles = |tensors: &[&Tensor]| tensors.iter().map(|t| t.as_ptr()).collect::<Vec<_>>();
    let (variables, gradients) = (handles(variables), handles(gradients));
    let accumulations = accumulations.map(handles);
    let accumulations_ptr = accumulations.as_ref().map_or(std::ptr::null(), |a| a.as_ptr());
    let mut applied = false;
    // SAFETY: every handle is a live tensor borrowed for the call and each array holds `count` of them (checked
    // above); the C++ side validates the tensors before touching their memory and only returns a message.
    let message = unsafe {
        slim_fused_sgd(
            variables.as_ptr(),
            gradients.as_ptr(),
            accumulations_ptr,
            count as i64,
            momentum,
            learning_rate,
            nesterov,
            check_finite,
            &mut applied,
        )
    };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }.map(|()| applied)
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    fn randn(shape: &[i64]) -> Tensor {
        Tensor::randn(shape, (Kind::Float, Device::Cpu))
    }

    #[test]
    fn momentum_steps_follow_tf_rule_and_leave_gradients_alone() {
        for nesterov in [false, true] {
            let (mut w, g, mut a) = (randn(&[5, 7]), randn(&[5, 7]), randn(&[5, 7]));
            let (w0, g0, a0) = (w.copy(), g.copy(), a.copy());
            assert!(fused_sgd(&[&w], &[&g], Some(&[&a]), (0.9, 0.1, nesterov), false).unwrap());
            let a1 = &a0 * 0.9 + &g0;
            let step = if nesterov { &g0 + &a1 * 0.9 } else { a1.shallow_clone() };
            assert!(a.allclose(&a1, 1e-6, 1e-6, false));
            assert!(w.allclose(&(&w0 - step * 0.1), 1e-6, 1e-6, false));
            assert!(g.equal(&g0));
            let _ = (&mut w, &mut a);
        }
    }

    #[test]
    fn accumulations_that_would_turn_subnormal_become_zero_and_the_thread_keeps_its_mode() {
        let options = (Kind::Float, Device::Cpu);
        let (w, g) = (Tensor::ones([70_001], options), Tensor::zeros([70_001], options));
        let a = Tensor::full([70_001], f64::from(f32::MIN_POSITIVE) * 1.02, options);
        assert!(fused_sgd(&[&w], &[&g], Some(&[&a]), (0.9, 0.1, false), true).unwrap());
        assert!(a.equal(&Tensor::zeros([70_001], options)), "subnormal accumulations");
        assert!(w.equal(&Tensor::ones([70_001], options)));
        assert!(crate::native::thread_keeps_subnormals(), "the calling thread's flush mode came back");
    }

    /// Sizes that put chunk boundaries of the parallel split inside tensors, with an empty tensor among them.
    fn mixed_list() -> Vec<(Tensor, Tensor, Tensor)> {
        let shapes: [&[i64]; 5] = [&[300, 257], &[7], &[0, 3], &[128, 784], &[10]];
        let kinds = [Kind::Float, Kind::Double, Kind::Float, Kind::Double, Kind::Float];
        let random = |shape: &[i64], kind| Tensor::randn(shape, (kind, Device::Cpu));
        shapes
            .iter()
            .zip(kinds)
            .map(|(&shape, kind)| (random(shape, kind), random(shape, kind), random(shape, kind)))
            .collect()
    }

    #[test]
    fn one_call_updates_a_list_of_mixed_sizes_and_dtypes_like_the_rule() {
        let list = mixed_list();
        let expected: Vec<(Tensor, Tensor)> = list
            .iter()
            .map(|(w, g, a)| {
                let a1 = a * 0.9 + g;
                (w - &a1 * 0.1, a1)
            })
            .collect();
        let (variables, gradients, accumulations): (Vec<&Tensor>, Vec<&Tensor>, Vec<&Tensor>) =
            list.iter().map(|(w, g, a)| (w, g, a)).collect();
        assert!(fused_sgd(&variables, &gradients, Some(&accumulations), (0.9, 0.1, false), true).unwrap());
        for ((w, _, a), (w1, a1)) in list.iter().zip(&expected) {
            assert!(w.allclose(w1, 1e-6, 1e-6, false), "variable of {:?}", w.size());
            assert!(a.allclose(a1, 1e-6, 1e-6, false), "accumulation of {:?}", a.size());
        }
    }

    #[test]
    fn a_non_finite_gradient_anywhere_refuses_the_whole_step_when_checked() {
        for (position, bad) in [(0, f64::NAN), (3, f64::INFINITY), (4, f64::NEG_INFINITY)] {
            let list = mixed_list();
            let _ = list[position].1.view(-1).get(-1).fill_(bad);
            let before: Vec<(Tensor, Tensor)> = list.iter().map(|(w, _, a)| (w.copy(), a.copy())).collect();
            let (variables, gradients, accumulations): (Vec<&Tensor>, Vec<&Tensor>, Vec<&Tensor>) =
                list.iter().map(|(w, g, a)| (w, g, a)).collect();
            assert!(!fused_sgd(&variables, &gradients, Some(&accumulations), (0.9, 0.1, true), true).unwrap());
            for ((w, _, a), (w0, a0)) in list.iter().zip(&before) {
                assert!(w.equal(w0) && a.equal(a0), "{bad} at position {position} changed a tensor");
            }
            assert!(fused_sgd(&variables, &gradients, Some(&accumulations), (0.9, 0.1, true), false).unwrap());
            assert!(!list[0].0.equal(&before[0].0), "unchecked, the step is applied");
        }
    }

    #[test]
    fn plain_steps_need_no_accumulations() {
        let (w, g) = (randn(&[33]), randn(&[33]));
        let expected = &w - &g * 0.5;
        assert!(fused_sgd(&[&w], &[&g], None, (0.0, 0.5, false), true).unwrap());
        assert!(w.allclose(&expected, 1e-6, 1e-6, false));
    }

    #[test]
    fn mismatched_tensors_are_refused_before_any_update() {
        let (w, a) = (randn(&[4, 4]), randn(&[4, 4]));
        let good = randn(&[4, 4]);
        let before = w.copy();
        let cases = [randn(&[4, 3]), randn(&[4, 4]).tr(), randn(&[4, 4]).to_kind(Kind::Double)];
        for bad in &cases {
            let error = fused_sgd(&[&w, &w], &[&good, bad], Some(&[&a, &a]), (0.9, 0.1, false), true).unwrap_err();
            assert!(error.to_string().contains("position 1"), "{error}");
            assert!(w.equal(&before));
        }
        let strided = randn(&[4, 8]).slice(1, 0, 8, 2);
        let error = fused_sgd(&[&strided], &[&strided.copy()], None, (0.0, 0.1, false), false).unwrap_err();
        assert!(error.to_string().contains("position 0"), "{error}");
    }
}
