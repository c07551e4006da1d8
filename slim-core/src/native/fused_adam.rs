//! TF's Adam step over a list of variables in one pass each, optionally refused on a non-finite gradient
//! (`csrc/fused_adam.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::{take_error, update_list_handles};

unsafe extern "C" {
    fn slim_fused_adam(
        variables: *const *const C_tensor,
        gradients: *const *const C_tensor,
        first_moments: *const *const C_tensor,
        second_moments: *const *const C_tensor,
        count: i64,
        beta1: f64,
        beta2: f64,
        alpha: f64,
        epsilon: f64,
        weight_decay: f64,
        check_finite: bool,
        applied: *mut bool,
    ) -> *mut c_char;
}

/// The hyper-parameters of one fused Adam step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamStep {
    /// β1, above one half.
    pub(crate) beta1: f64,
    /// β2, above one half.
    pub(crate) beta2: f64,
    /// The step size `lr·√(1 − β2^t)/(1 − β1^t)`, not 0.
    pub(crate) alpha: f64,
    /// TF's epsilon (added to `√v`).
    pub(crate) epsilon: f64,
    /// AdamW's decoupled decay (`w −= wd·w` first), 0 for Adam.
    pub(crate) weight_decay: f64,
}

/// Updates every variable and its slots `m` and `v` in place: `m += (1 − β1)(g − m)`, `v += (1 − β2)(g² − v)`,
/// `w −= α·m / (√v + ε)`. Each gradient and slot must match its variable in sizes, strides, dtype and device, and
/// the variable must be a dense float32 or float64 CPU tensor; otherwise nothing is updated and the error names
/// the first offending position. With `check_finite`, nothing is updated either when a gradient holds a NaN or an
/// infinity, and the answer is `false`; otherwise it is `true`.
pub(crate) fn fused_adam(
    variables: &[&Tensor],
    gradients: &[&Tensor],
    first_moments: &[&Tensor],
    second_moments: &[&Tensor],
    step: AdamStep,
    check_finite: bool,
) -> tch::Result<bool> {
    let [w, g, m, v] = update_list_handles("fused Adam", [variables, gradients, first_moments, second_moments])?;
    let AdamStep { beta1, beta2, alpha, epsilon, weight_decay } = step;
    let mut applied = false;
    // SAFETY: every handle is a live tensor borrowed for the call and each array holds one per variable (checked
    // above); the C++ side validates the tensors before touching their memory and only returns a message.
    let message = unsafe {
        slim_fused_adam(
            w.as_ptr(),
            g.as_ptr(),
            m.as_ptr(),
            v.as_ptr(),
            w.len() as i64,
            beta1,
            beta2,
            alpha,
            epsilon,
            weight_decay,
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
    use crate::native::closeness::randn;

    #[test]
    fn one_step_follows_tf_formula_for_both_precisions_and_decays() {
        for (kind, tolerance) in [(Kind::Float, 1e-5), (Kind::Double, 1e-12)] {
            for weight_decay in [0.0, 0.01] {
                // 70,001 elements: several parallel chunks and a vector remainder.
                let (w, g) = (randn(&[70_001], kind), randn(&[70_001], kind));
                let (m, v) = (randn(&[70_001], kind), randn(&[70_001], kind).abs());
                let (w0, m0, v0) = (w.copy(), m.copy(), v.copy());
                let step = AdamStep { beta1: 0.9, beta2: 0.999, alpha: 0.003, epsilon: 1e-8, weight_decay };
                assert!(fused_adam(&[&w], &[&g], &[&m], &[&v], step, true).unwrap());
                let m1 = &m0 + (&g - &m0) * 0.1;
                let v1 = &v0 + (g.square() - &v0) * 0.001;
                let decayed = &w0 - &w0 * weight_decay;
                let w1 = decayed - &m1 * 0.003 / (v1.sqrt() + 1e-8);
                assert!(m.allclose(&m1, tolerance, tolerance, false), "{kind:?} m");
                assert!(v.allclose(&v1, tolerance, tolerance, false), "{kind:?} v");
                assert!(w.allclose(&w1, tolerance, tolerance, false), "{kind:?} w, decay {weight_decay}");
            }
        }
    }

    #[test]
    fn slots_that_would_turn_subnormal_become_zero_and_the_thread_keeps_its_mode() {
        for (kind, smallest_normal) in crate::native::closeness::UPDATE_KINDS {
            // Zero gradients: m decays by β1 below the smallest normal value, or starts subnormal.
            let options = (kind, Device::Cpu);
            let (w, g, v) =
                (Tensor::ones([70_001], options), Tensor::zeros([70_001], options), Tensor::ones([70_001], options));
            let m = crate::native::closeness::slot_about_to_turn_subnormal(kind, smallest_normal);
            let step = AdamStep { beta1: 0.9, beta2: 0.999, alpha: 0.003, epsilon: 1e-8, weight_decay: 0.0 };
            assert!(fused_adam(&[&w], &[&g], &[&m], &[&v], step, true).unwrap());
            assert!(m.equal(&Tensor::zeros([70_001], options)), "{kind:?}: subnormal first moments");
            assert!(w.equal(&Tensor::ones([70_001], options)), "{kind:?}: weights moved");
            assert!(crate::native::thread_keeps_subnormals(), "the calling thread's flush mode came back");
        }
    }

    #[test]
    fn mismatches_and_unsupported_settings_are_refused_before_any_update() {
        let (w, m, v) = (randn(&[4, 4], Kind::Float), randn(&[4, 4], Kind::Float), randn(&[4, 4], Kind::Float));
        let before = w.copy();
        let step = AdamStep { beta1: 0.9, beta2: 0.999, alpha: 0.01, epsilon: 1e-8, weight_decay: 0.0 };
        let transposed = randn(&[4, 4], Kind::Float).tr();
        let error = fused_adam(&[&w, &w], &[&w, &w], &[&m, &transposed], &[&v, &v], step, false).unwrap_err();
        assert!(error.to_string().contains("position 1"), "{error}");
        for refused in [AdamStep { beta1: 0.3, ..step }, AdamStep { alpha: 0.0, ..step }] {
            assert!(fused_adam(&[&w], &[&w], &[&m], &[&v], refused, false).is_err());
        }
        assert!(w.equal(&before));
    }
}
