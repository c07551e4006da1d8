//! TF's Adadelta step over a list of variables in one pass each, optionally refused on a non-finite gradient
//! (`csrc/fused_adadelta.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::{take_error, update_list_handles};

unsafe extern "C" {
    fn slim_fused_adadelta(
        variables: *const *const C_tensor,
        gradients: *const *const C_tensor,
        accumulators: *const *const C_tensor,
        accumulated_updates: *const *const C_tensor,
        count: i64,
        rho: f64,
        learning_rate: f64,
        epsilon: f64,
        check_finite: bool,
        applied: *mut bool,
    ) -> *mut c_char;
}

/// The hyper-parameters of one fused Adadelta step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdadeltaStep {
    /// ρ, both accumulators' decay, in [0, 1).
    pub(crate) rho: f64,
    /// The step's learning rate.
    pub(crate) learning_rate: f64,
    /// TF's epsilon (added under both square roots).
    pub(crate) epsilon: f64,
}

/// Updates every variable and its two slots in place, as TF's kernel does: `acc = ρ·acc + (1 − ρ)·g²`,
/// `step = √(acc_update + ε)/√(acc + ε)·g`, `acc_update = ρ·acc_update + (1 − ρ)·step²`, `w −= lr·step`. Each
/// gradient and slot must match its variable in sizes, strides, dtype and device, and the variable must be a dense
/// float32 or float64 CPU tensor; otherwise nothing is updated and the error names the first offending position.
/// With `check_finite`, nothing is updated either when a gradient holds a NaN or an infinity, and the answer is
/// `false`; otherwise it is `true`.
pub(crate) fn fused_adadelta(
    variables: &[&Tensor],
    gradients: &[&Tensor],
    (accumulators, accumulated_updates): (&[&Tensor], &[&Tensor]),
    step: AdadeltaStep,
    check_finite: bool,
) -> tch::Result<bool> {
    let lists = [variables, gradients, accumulators, accumulated_updates];
    let [w, g, acc, update] = update_list_handles("fused Adadelta", lists)?;
    let AdadeltaStep { rho, learning_rate, epsilon } = step;
    let mut applied = false;
    // SAFETY: every handle is a live tensor borrowed for the call and each array holds one per variable (checked
    // above); the C++ side validates the tensors before touching their memory and only returns a message.
    let message = unsafe {
        slim_fused_adadelta(
            w.as_ptr(),
            g.as_ptr(),
            acc.as_ptr(),
            update.as_ptr(),
            w.len() as i64,
            rho,
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
    use crate::native::closeness::{UPDATE_KINDS, randn, slot_about_to_turn_subnormal};

    #[test]
    fn one_step_follows_tfs_formula_for_both_precisions() {
        for (kind, tolerance) in [(Kind::Float, 1e-5), (Kind::Double, 1e-12)] {
            let (w, g) = (randn(&[70_001], kind), randn(&[70_001], kind));
            let (acc, update) = (randn(&[70_001], kind).abs(), randn(&[70_001], kind).abs());
            let (w0, acc0, update0) = (w.copy(), acc.copy(), update.copy());
            let step = AdadeltaStep { rho: 0.95, learning_rate: 0.5, epsilon: 1e-6 };
            assert!(fused_adadelta(&[&w], &[&g], (&[&acc], &[&update]), step, true).unwrap());
            let acc1 = &acc0 * 0.95 + g.square() * 0.05;
            let change = (&update0 + 1e-6).sqrt() / (&acc1 + 1e-6).sqrt() * &g;
            let update1 = &update0 * 0.95 + change.square() * 0.05;
            let w1 = &w0 - &change * 0.5;
            assert!(acc.allclose(&acc1, tolerance, tolerance, false), "{kind:?} acc");
            assert!(update.allclose(&update1, tolerance, tolerance, false), "{kind:?} acc_update");
            assert!(w.allclose(&w1, tolerance, tolerance, false), "{kind:?} w");
        }
    }

    #[test]
    fn accumulators_that_would_turn_subnormal_become_zero_and_a_nan_gradient_is_refused() {
        for (kind, smallest_normal) in UPDATE_KINDS {
            // Zero gradients: both accumulators decay by ρ below the smallest normal value, or start subnormal.
            let options = (kind, Device::Cpu);
            let (w, g) = (Tensor::ones([70_001], options), Tensor::zeros([70_001], options));
            let acc = slot_about_to_turn_subnormal(kind, smallest_normal);
            let update = slot_about_to_turn_subnormal(kind, smallest_normal);
            let step = AdadeltaStep { rho: 0.95, learning_rate: 1.0, epsilon: 1e-6 };
            assert!(fused_adadelta(&[&w], &[&g], (&[&acc], &[&update]), step, true).unwrap());
            let zeros = Tensor::zeros([70_001], options);
            assert!(acc.equal(&zeros) && update.equal(&zeros), "{kind:?}: subnormal accumulators");
            assert!(w.equal(&Tensor::ones([70_001], options)), "{kind:?}: weights moved");
            assert!(crate::native::thread_keeps_subnormals(), "the calling thread's flush mode came back");
            let _ = g.narrow(0, 70_000, 1).fill_(f64::INFINITY);
            assert!(!fused_adadelta(&[&w], &[&g], (&[&acc], &[&update]), step, true).unwrap(), "{kind:?}: applied");
            assert!(w.equal(&Tensor::ones([70_001], options)), "{kind:?}: weights moved by a refused step");
        }
    }

    #[test]
    fn mismatches_and_bad_decays_are_refused_before_any_update() {
        let (w, acc, update) = (randn(&[4, 4], Kind::Float), randn(&[4, 4], Kind::Float), randn(&[4, 4], Kind::Float));
        let before = w.copy();
        let step = AdadeltaStep { rho: 0.95, learning_rate: 1.0, epsilon: 1e-6 };
        let transposed = randn(&[4, 4], Kind::Float).tr();
        let slots = (&[&acc, &acc][..], &[&update, &transposed][..]);
        let error = fused_adadelta(&[&w, &w], &[&w, &w], slots, step, false).unwrap_err();
        assert!(error.to_string().contains("position 1"), "{error}");
        let one = (&[&acc][..], &[&update][..]);
        assert!(fused_adadelta(&[&w], &[&w], one, AdadeltaStep { rho: 1.0, ..step }, false).is_err());
        assert!(fused_adadelta(&[&w], &[&w], (&[&acc][..], &[][..]), step, false).is_err(), "a missing slot");
        assert!(w.equal(&before));
    }
}
