//! TF's RMSProp step over a list of variables in one pass each, optionally refused on a non-finite gradient
//! (`csrc/fused_rmsprop.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::{take_error, update_list_handles};

unsafe extern "C" {
    fn slim_fused_rmsprop(
        variables: *const *const C_tensor,
        gradients: *const *const C_tensor,
        mean_squares: *const *const C_tensor,
        mean_gradients: *const *const C_tensor,
        momenta: *const *const C_tensor,
        count: i64,
        decay: f64,
        momentum: f64,
        learning_rate: f64,
        epsilon: f64,
        check_finite: bool,
        applied: *mut bool,
    ) -> *mut c_char;
}

/// The hyper-parameters of one fused RMSProp step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RmsPropStep {
    /// ρ, the mean square's decay, in [0, 1).
    pub(crate) decay: f64,
    /// μ.
    pub(crate) momentum: f64,
    /// The step's learning rate.
    pub(crate) learning_rate: f64,
    /// TF's epsilon (added under the square root).
    pub(crate) epsilon: f64,
}

/// The slots of the variables a fused RMSProp step updates, one tensor per variable in each list.
pub(crate) struct RmsPropSlots<'a> {
    /// The mean squares `ms`.
    pub(crate) mean_squares: &'a [&'a Tensor],
    /// The mean gradients `mg` of centered RMSProp; `None` for plain RMSProp.
    pub(crate) mean_gradients: Option<&'a [&'a Tensor]>,
    /// The momenta `mom`.
    pub(crate) momenta: &'a [&'a Tensor],
}

/// Updates every variable and its slots in place, as TF's kernels do: `ms += (1 − ρ)(g² − ms)`, (centered:
/// `mg += (1 − ρ)(g − mg)`), `mom = μ·mom + lr·g/√(ms [− mg²] + ε)`, `w −= mom`. Each gradient and slot must
/// match its variable in sizes, strides, dtype and device, and the variable must be a dense float32 or float64
/// CPU tensor; otherwise nothing is updated and the error names the first offending position. With
/// `check_finite`, nothing is updated either when a gradient holds a NaN or an infinity, and the answer is
/// `false`; otherwise it is `true`.
pub(crate) fn fused_rmsprop(
    variables: &[&Tensor],
    gradients: &[&Tensor],
    slots: &RmsPropSlots<'_>,
    step: RmsPropStep,
    check_finite: bool,
) -> tch::Result<bool> {
    // Plain RMSProp passes no mean gradients: the variables stand in for the length check, a null pointer in C.
    let means = slots.mean_gradients.unwrap_or(variables);
    let lists = [variables, gradients, slots.mean_squares, slots.momenta, means];
    let [w, g, ms, mom, mg] = update_list_handles("fused RMSProp", lists)?;
    let mg_pointer = match slots.mean_gradients {
        Some(_) => mg.as_ptr(),
        None => std::ptr::null(),
    };
    let RmsPropStep { decay, momentum, learning_rate, epsilon } = step;
    let mut applied = false;
    // SAFETY: every handle is a live tensor borrowed for the call and each array holds one per variable (checked
    // above), or the mean gradients' pointer is null; the C++ side validates the tensors before touching their
    // memory and only returns a message.
    let message = unsafe {
        slim_fused_rmsprop(
            w.as_ptr(),
            g.as_ptr(),
            ms.as_ptr(),
            mg_pointer,
            mom.as_ptr(),
            w.len() as i64,
            decay,
            momentum,
            learning_rate,
            epsilon,
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
    fn one_step_follows_tfs_formula_plain_and_centered_for_both_precisions() {
        for (kind, tolerance) in [(Kind::Float, 1e-5), (Kind::Double, 1e-12)] {
            for (centered, decay) in [(false, 0.9), (true, 0.9), (false, 0.3), (true, 0.3)] {
                // 70,001 elements: several parallel chunks and a vector remainder.
                let (w, g, mom) = (randn(&[70_001], kind), randn(&[70_001], kind), randn(&[70_001], kind));
                let ms = randn(&[70_001], kind).abs() + 1.0;
                let mg = randn(&[70_001], kind) * 0.1;
                let (w0, ms0, mg0, mom0) = (w.copy(), ms.copy(), mg.copy(), mom.copy());
                let step = RmsPropStep { decay, momentum: 0.5, learning_rate: 0.01, epsilon: 1e-10 };
                let means = [&mg];
                let slots = RmsPropSlots {
                    mean_squares: &[&ms],
                    mean_gradients: centered.then_some(&means[..]),
                    momenta: &[&mom],
                };
                assert!(fused_rmsprop(&[&w], &[&g], &slots, step, true).unwrap());
                let ms1 = &ms0 + (g.square() - &ms0) * (1.0 - decay);
                let mg1 = &mg0 + (&g - &mg0) * (1.0 - decay);
                let variance = if centered { &ms1 - mg1.square() } else { ms1.shallow_clone() };
                let mom1 = &mom0 * 0.5 + &g * 0.01 / (variance + 1e-10).sqrt();
                let w1 = &w0 - &mom1;
                let what = format!("{kind:?} centered {centered} decay {decay}");
                assert!(ms.allclose(&ms1, tolerance, tolerance, false), "{what}: ms");
                let expected_mg = if centered { &mg1 } else { &mg0 };
                assert!(mg.allclose(expected_mg, tolerance, tolerance, false), "{what}: mg");
                assert!(mom.allclose(&mom1, tolerance, tolerance, false), "{what}: mom");
                assert!(w.allclose(&w1, tolerance, tolerance, false), "{what}: w");
            }
        }
    }

    #[test]
    fn mean_squares_that_would_turn_subnormal_become_zero_and_a_nan_gradient_is_refused() {
        for (kind, smallest_normal) in crate::native::closeness::UPDATE_KINDS {
            // Zero gradients: ms decays by ρ below the smallest normal value, or starts subnormal.
            let options = (kind, Device::Cpu);
            let (w, g, mom) =
                (Tensor::ones([70_001], options), Tensor::zeros([70_001], options), Tensor::zeros([70_001], options));
            let ms = crate::native::closeness::slot_about_to_turn_subnormal(kind, smallest_normal);
            let step = RmsPropStep { decay: 0.9, momentum: 0.0, learning_rate: 0.01, epsilon: 1e-10 };
            let slots = RmsPropSlots { mean_squares: &[&ms], mean_gradients: None, momenta: &[&mom] };
            assert!(fused_rmsprop(&[&w], &[&g], &slots, step, true).unwrap());
            assert!(ms.equal(&Tensor::zeros([70_001], options)), "{kind:?}: subnormal mean squares");
            assert!(w.equal(&Tensor::ones([70_001], options)), "{kind:?}: weights moved");
            assert!(crate::native::thread_keeps_subnormals(), "the calling thread's flush mode came back");
            let _ = g.narrow(0, 70_000, 1).fill_(f64::NAN);
            assert!(!fused_rmsprop(&[&w], &[&g], &slots, step, true).unwrap(), "{kind:?}: NaN gradient applied");
            assert!(w.equal(&Tensor::ones([70_001], options)), "{kind:?}: weights moved by a refused step");
        }
    }

    #[test]
    fn mismatches_and_bad_decays_are_refused_before_any_update() {
        let (w, ms, mom) = (randn(&[4, 4], Kind::Float), randn(&[4, 4], Kind::Float), randn(&[4, 4], Kind::Float));
        let before = w.copy();
        let step = RmsPropStep { decay: 0.9, momentum: 0.0, learning_rate: 0.01, epsilon: 1e-10 };
        let transposed = randn(&[4, 4], Kind::Float).tr();
        let slots = RmsPropSlots { mean_squares: &[&ms, &transposed], mean_gradients: None, momenta: &[&mom, &mom] };
        let error = fused_rmsprop(&[&w, &w], &[&w, &w], &slots, step, false).unwrap_err();
        assert!(error.to_string().contains("position 1"), "{error}");
        let one = RmsPropSlots { mean_squares: &[&ms], mean_gradients: None, momenta: &[&mom] };
        assert!(fused_rmsprop(&[&w], &[&w], &one, RmsPropStep { decay: 1.0, ..step }, false).is_err());
        let short = RmsPropSlots { mean_squares: &[&ms], mean_gradients: Some(&[]), momenta: &[&mom] };
        assert!(fused_rmsprop(&[&w], &[&w], &short, step, false).is_err(), "a missing mean gradient");
        assert!(w.equal(&before));
    }
}
