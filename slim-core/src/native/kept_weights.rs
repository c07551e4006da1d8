//! Weights derived from variables — autocast's casts, batch norm folded into convolutions — kept between
//! inference calls while the variables are unchanged (`csrc/kept_weights.cpp`).

use std::ffi::c_char;

use tch::{Device, Tensor};
use torch_sys::C_tensor;

use super::autocast::{AutocastType, device_type};
use super::take_error;

unsafe extern "C" {
    fn slim_autocast_cast(
        t: *const C_tensor,
        device_type: i32,
        dtype: i32,
        keep: bool,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    #[allow(clippy::too_many_arguments)]
    fn slim_kept_fold(
        weights: *const C_tensor,
        biases: *const C_tensor,
        gamma: *const C_tensor,
        beta: *const C_tensor,
        mean: *const C_tensor,
        variance: *const C_tensor,
        epsilon: f64,
        dtype: i32,
        keep: bool,
        out_weights: *mut *mut C_tensor,
        out_biases: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn slim_clear_kept_weights();
    #[cfg(test)]
    fn slim_kept_weight_count(derivation: i32, dtype: i32) -> i64;
}

/// `t` as autocast hands it to a convolution or product on `device` in `dtype`: with `keep`, where no gradient is
/// recorded, a float32 variable's copy kept from an earlier call while the variable is unchanged (else cast now
/// and kept); otherwise autocast's own cast (cached until the outermost autocast scope ends), so gradients flow
/// as they do through autocast.
pub(crate) fn autocast_cast(t: &Tensor, device: Device, dtype: AutocastType, keep: bool) -> tch::Result<Tensor> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: `t` is a live handle borrowed for the call; the C++ side only reads it, writes a new handle to
    // `out` on success and returns a heap message (or null) that it never frees.
    let message = unsafe { slim_autocast_cast(t.as_ptr(), device_type(device), dtype as i32, keep, &mut out) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: on success `out` is a fresh handle this wrapper alone owns.
    Ok(unsafe { Tensor::from_ptr(out) })
}

/// An eval-mode batch norm's variables, as a convolution folds them: `(y − mean)·γ/√(variance + ε) + β`.
pub(crate) struct BatchNormFold {
    /// γ, when the norm scales.
    pub(crate) gamma: Option<Tensor>,
    /// β, when the norm shifts.
    pub(crate) beta: Option<Tensor>,
    /// The moving mean.
    pub(crate) mean: Tensor,
    /// The moving variance.
    pub(crate) variance: Tensor,
    /// ε.
    pub(crate) epsilon: f64,
}

/// `weights` ([O, I, kh, kw]) and `biases` with `norm` folded in — `w·γ/√(σ²+ε)` and `β + (b − μ)·γ/√(σ²+ε)` —
/// cast to `dtype` when given. With `keep`, where no gradient is recorded, the result is kept until one of the
/// tensors changes (they are the layers' variables).
pub(crate) fn kept_fold(
    weights: &Tensor,
    biases: Option<&Tensor>,
    norm: &BatchNormFold,
    dtype: Option<AutocastType>,
    keep: bool,
) -> tch::Result<(Tensor, Tensor)> {
    let pointer = |t: Option<&Tensor>| t.map_or(std::ptr::null(), |t| t.as_ptr());
    let (mut folded_weights, mut folded_biases): (*mut C_tensor, *mut C_tensor) =
        (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: every pointer is null (for an absent optional) or a live handle borrowed for the call; the C++ side
    // only reads them, writes two new handles on success and returns a heap message (or null) it never frees.
    let message = unsafe {
        slim_kept_fold(
            weights.as_ptr(),
            pointer(biases),
            pointer(norm.gamma.as_ref()),
            pointer(norm.beta.as_ref()),
            norm.mean.as_ptr(),
            norm.variance.as_ptr(),
            norm.epsilon,
            dtype.map_or(-1, |dtype| dtype as i32),
            keep,
            &mut folded_weights,
            &mut folded_biases,
        )
    };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    // SAFETY: on success both are fresh handles this wrapper alone owns.
    Ok(unsafe { (Tensor::from_ptr(folded_weights), Tensor::from_ptr(folded_biases)) })
}

/// Drops every kept entry (they are also dropped, on the next miss, once their variables are gone).
pub(crate) fn clear_kept_weights() {
    // SAFETY: takes the cache's lock; no arguments.
    unsafe { slim_clear_kept_weights() }
}

/// How many casts to `dtype` are kept.
#[cfg(test)]
fn weight_cast_count(dtype: AutocastType) -> i64 {
    // SAFETY: takes the cache's lock; the arguments are a derivation (0: cast) and a valid c10 scalar type.
    unsafe { slim_kept_weight_count(0, dtype as i32) }
}

#[cfg(test)]
mod tests {
    use tch::Kind;

    use super::*;

    // The cache is the process's, shared with the other tests, which cast to bfloat16: these cast to half, one at
    // a time (the copy-counting test counts half casts, and another test's cast between its steps would count).
    const HALF: AutocastType = AutocastType::Half;
    static HALF_CASTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
        HALF_CASTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn variable(values: &[f32]) -> Tensor {
        Tensor::from_slice(values).set_requires_grad(true)
    }

    fn kept(t: &Tensor) -> Tensor {
        tch::no_grad(|| autocast_cast(t, Device::Cpu, HALF, true)).unwrap()
    }

    #[test]
    fn inference_reuses_a_variables_cast_until_it_is_written() {
        let _half_casts = one_at_a_time();
        let mut weights = variable(&[1.0, 2.0, 3.0]);
        let (first, second) = (kept(&weights), kept(&weights));
        assert_eq!(first.kind(), Kind::Half);
        assert_eq!(first.data_ptr(), second.data_ptr(), "the second call reuses the first call's copy");
        let _ = tch::no_grad(|| weights.f_add_scalar_(1.0)).unwrap();
        let written = kept(&weights);
        assert_ne!(written.data_ptr(), first.data_ptr());
        assert_eq!(Vec::<f32>::try_from(written.to_kind(Kind::Float)).unwrap(), [2.0, 3.0, 4.0]);
        tch::no_grad(|| weights.set_data(&Tensor::from_slice(&[7.0f32, 8.0, 9.0])));
        assert_eq!(Vec::<f32>::try_from(kept(&weights).to_kind(Kind::Float)).unwrap(), [7.0, 8.0, 9.0]);
    }

    #[test]
    fn activations_and_recorded_casts_are_not_kept() {
        let _half_casts = one_at_a_time();
        let activation = Tensor::from_slice(&[1.0f32, 2.0]);
        assert_ne!(kept(&activation).data_ptr(), kept(&activation).data_ptr(), "no variable: cast each call");
        let weights = variable(&[1.0, 2.0]);
        let not_asked = tch::no_grad(|| autocast_cast(&weights, Device::Cpu, HALF, false)).unwrap();
        assert_ne!(not_asked.data_ptr(), kept(&weights).data_ptr(), "without `keep`, autocast's own cast");
        let recorded = autocast_cast(&weights, Device::Cpu, HALF, true).unwrap();
        assert!(recorded.requires_grad(), "with gradients recorded the cast is autocast's, differentiable");
        recorded.to_kind(Kind::Float).f_mul_scalar(3.0).unwrap().sum(Kind::Float).backward();
        assert_eq!(Vec::<f32>::try_from(weights.grad()).unwrap(), [3.0, 3.0]);
    }

    #[test]
    fn a_dead_variables_copy_goes_at_the_next_cast_or_when_cleared() {
        let _half_casts = one_at_a_time();
        let before = weight_cast_count(HALF);
        let doomed = variable(&[1.0; 64]);
        let _ = kept(&doomed);
        assert_eq!(weight_cast_count(HALF), before + 1);
        drop(doomed);
        let survivor = variable(&[2.0; 64]);
        let _ = kept(&survivor);
        assert_eq!(weight_cast_count(HALF), before + 1, "the dead variable's copy went, the new one is kept");
        clear_kept_weights();
        assert_eq!(weight_cast_count(HALF), 0);
    }
}
