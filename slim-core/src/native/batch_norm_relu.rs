//! Training-mode batch norm over channels-last activations, with an optional ReLU, as one autograd function
//! (`csrc/batch_norm_relu.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_batch_norm_relu(
        x: *const C_tensor,
        gamma: *const C_tensor,
        beta: *const C_tensor,
        running_mean: *const C_tensor,
        running_variance: *const C_tensor,
        momentum: f64,
        epsilon: f64,
        relu: bool,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
}

/// One batch norm's inputs besides the activations: the affine parameters where the layer has them, the copies of
/// the moving statistics that the call moves toward the batch's in place, the momentum of that move (`1 − decay`),
/// epsilon, and whether a ReLU follows.
pub(crate) struct BatchNormRelu<'a> {
    pub(crate) gamma: Option<&'a Tensor>,
    pub(crate) beta: Option<&'a Tensor>,
    pub(crate) running_mean: &'a Tensor,
    pub(crate) running_variance: &'a Tensor,
    pub(crate) momentum: f64,
    pub(crate) epsilon: f64,
    pub(crate) relu: bool,
}

/// `x` [N, C, H, W] (or [N, C]) normalized with its batch's statistics (biased variance), scaled and shifted, then the ReLU
/// where asked; the running statistics move toward the batch's (unbiased variance), as libtorch's `batch_norm`
/// moves them. `None` where the kernel does not take `x`: it must be a non-empty CPU tensor, 4-D channels-last in
/// memory or 2-D contiguous, float32 or bfloat16, with float32 parameters and statistics of C values.
pub(crate) fn batch_norm_relu(x: &Tensor, norm: &BatchNormRelu<'_>) -> tch::Result<Option<Tensor>> {
    let pointer = |t: Option<&Tensor>| t.map_or(std::ptr::null(), Tensor::as_ptr);
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: every handle is a live tensor borrowed for the call (or null for an absent parameter); the running
    // statistics are written in place through their handles, as libtorch's batch_norm writes them. On success the
    // C++ side writes a fresh handle to `out`, or null where it does not take the input.
    let message = unsafe {
        slim_batch_norm_relu(
            x.as_ptr(),
            pointer(norm.gamma),
            pointer(norm.beta),
            norm.running_mean.as_ptr(),
            norm.running_variance.as_ptr(),
            norm.momentum,
            norm.epsilon,
            norm.relu,
            &mut out,
        )
    };
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

    /// Random activations of `kind` away from zero mean and unit scale: [N, C, H, W] channels-last in memory, or
    /// [N, C].
    fn activations(shape: &[i64], kind: Kind) -> Tensor {
        let x = (Tensor::randn(shape, (Kind::Float, Device::Cpu)) * 3.0 + 1.5).to_kind(kind);
        let x = if shape.len() == 4 { channels_last(&x).unwrap() } else { x };
        x.set_requires_grad(true)
    }

    /// Output, gradients (x, gamma, beta) and moved statistics of libtorch's batch norm (+ ReLU) and slim's kernel
    /// on the same input, compared at `tolerance` of each reference's scale.
    fn compare(shape: &[i64], kind: Kind, affine: bool, relu: bool, tolerance: f64) {
        let channels = shape[1];
        let x = activations(shape, kind);
        let parameter = |t: Tensor| affine.then(|| t.set_requires_grad(true));
        let gamma = parameter(Tensor::rand([channels], (Kind::Float, Device::Cpu)) + 0.5);
        let beta = parameter(Tensor::randn([channels], (Kind::Float, Device::Cpu)));
        let upstream = Tensor::randn(shape, (Kind::Float, Device::Cpu)).to_kind(kind);
        let statistics = || {
            (
                Tensor::randn([channels], (Kind::Float, Device::Cpu)),
                Tensor::rand([channels], (Kind::Float, Device::Cpu)) + 0.5,
            )
        };
        let (mean, variance) = statistics();
        let (their_mean, their_variance) = (mean.copy(), variance.copy());
        let norm = BatchNormRelu {
            gamma: gamma.as_ref(),
            beta: beta.as_ref(),
            running_mean: &mean,
            running_variance: &variance,
            momentum: 0.1,
            epsilon: 1e-3,
            relu,
        };
        let ours = batch_norm_relu(&x, &norm).unwrap().expect("the kernel takes a channels-last input");
        let theirs = x.batch_norm(
            gamma.as_ref(),
            beta.as_ref(),
            Some(&their_mean),
            Some(&their_variance),
            true,
            0.1,
            1e-3,
            false,
        );
        let theirs = if relu { theirs.relu() } else { theirs };
        assert_eq!(ours.kind(), kind);
        assert!(shape.len() == 2 || is_channels_last(&ours), "channels-last in, channels-last out");
        let what = format!("{shape:?} {kind:?} affine {affine} relu {relu}");
        assert_close_at_scale(
            &ours.to_kind(Kind::Float),
            &theirs.to_kind(Kind::Float),
            tolerance,
            &format!("{what}: output"),
        );
        assert_close_at_scale(&mean, &their_mean, 1e-6, &format!("{what}: moving mean"));
        assert_close_at_scale(&variance, &their_variance, 1e-5, &format!("{what}: moving variance"));
        let mut inputs = vec![&x];
        inputs.extend(gamma.iter().chain(beta.iter()));
        let grads = |y: &Tensor| Tensor::run_backward(&[(y * &upstream).sum(Kind::Float)], &inputs, false, false);
        for (index, (a, b)) in grads(&ours).iter().zip(grads(&theirs).iter()).enumerate() {
            assert_eq!(a.kind(), b.kind(), "{what}: gradient {index} dtype");
            assert_close_at_scale(
                &a.to_kind(Kind::Float),
                &b.to_kind(Kind::Float),
                tolerance,
                &format!("{what}: gradient {index}"),
            );
        }
    }

    #[test]
    fn matches_libtorchs_batch_norm_and_relu_in_float32() {
        // 16 channels walk in rows of 64 lanes; 24 (not a divisor of 64) and 96 in rows of their own width; a
        // fully connected layer's [N, C] output is rows of C too.
        for shape in [&[8, 16, 6, 6][..], &[4, 24, 5, 7], &[2, 96, 3, 3], &[40, 32], &[9, 24]] {
            for (affine, relu) in [(true, true), (true, false), (false, true), (false, false)] {
                compare(shape, Kind::Float, affine, relu, 2e-5);
            }
        }
    }

    #[test]
    fn matches_libtorchs_batch_norm_and_relu_in_bfloat16() {
        // One bfloat16 rounding of each output and input gradient (2⁻⁸ relative) apart at most, and a few outputs
        // next to zero may fall on the other side of the ReLU.
        for shape in [&[8, 16, 6, 6][..], &[4, 24, 5, 7], &[40, 32]] {
            for (affine, relu) in [(true, true), (false, false)] {
                compare(shape, Kind::BFloat16, affine, relu, 2e-2);
            }
        }
    }

    /// Moving statistics of `channels` values as a layer starts them: zeros and ones.
    fn fresh_statistics(channels: i64) -> (Tensor, Tensor) {
        (Tensor::zeros([channels], (Kind::Float, Device::Cpu)), Tensor::ones([channels], (Kind::Float, Device::Cpu)))
    }

    /// Batch norm without γ or β, followed by the ReLU.
    fn plain_relu<'a>(mean: &'a Tensor, variance: &'a Tensor) -> BatchNormRelu<'a> {
        BatchNormRelu {
            gamma: None,
            beta: None,
            running_mean: mean,
            running_variance: variance,
            momentum: 0.1,
            epsilon: 1e-3,
            relu: true,
        }
    }

    #[test]
    fn declines_what_it_does_not_take_and_refuses_one_value_per_channel() {
        let (mean, variance) = fresh_statistics(4);
        let norm = plain_relu(&mean, &variance);
        let nchw = Tensor::randn([2, 4, 3, 3], (Kind::Float, Device::Cpu));
        assert!(batch_norm_relu(&nchw, &norm).unwrap().is_none(), "an NCHW-contiguous input");
        let double = channels_last(&nchw.to_kind(Kind::Double)).unwrap();
        assert!(batch_norm_relu(&double, &norm).unwrap().is_none(), "float64");
        let transposed = Tensor::randn([4, 6], (Kind::Float, Device::Cpu)).transpose(0, 1);
        assert!(batch_norm_relu(&transposed, &norm).unwrap().is_none(), "a 2-D input not in rows");
        let volume = Tensor::randn([2, 4, 3, 3, 3], (Kind::Float, Device::Cpu));
        assert!(batch_norm_relu(&volume, &norm).unwrap().is_none(), "a 5-D input");
        // One pixel: NCHW and channels-last at once.
        let single = Tensor::randn([1, 4, 1, 1], (Kind::Float, Device::Cpu));
        let error = batch_norm_relu(&single, &norm).unwrap_err().to_string();
        assert!(error.contains("more than 1 value per channel"), "{error}");
        assert!(mean.equal(&Tensor::zeros([4], (Kind::Float, Device::Cpu))), "a refused call moves nothing");
    }

    #[test]
    fn a_nan_passes_the_relu_as_in_libtorch() {
        let (mean, variance) = fresh_statistics(16);
        let norm = plain_relu(&mean, &variance);
        let x = activations(&[4, 16, 2, 2], Kind::Float);
        let _ = tch::no_grad(|| x.get(0).get(3).get(0).get(0).fill_(f64::NAN));
        let y = batch_norm_relu(&x, &norm).unwrap().unwrap();
        let nan_per_channel = y.isnan().sum_dim_intlist([0i64, 2, 3].as_slice(), false, Kind::Int64);
        let expected: Vec<i64> = (0..16).map(|c| if c == 3 { 16 } else { 0 }).collect();
        assert_eq!(Vec::<i64>::try_from(&nan_per_channel).unwrap(), expected, "channel 3 is NaN throughout");
        let grad = Tensor::run_backward(&[y.sum(Kind::Float)], &[&x], false, false).remove(0);
        assert!(grad.get(0).get(3).isnan().all().int64_value(&[]) == 1, "and so is its gradient");
    }

    #[test]
    fn refuses_a_second_derivative_rather_than_returning_a_wrong_one() {
        let (mean, variance) = fresh_statistics(16);
        let norm = plain_relu(&mean, &variance);
        let x = activations(&[4, 16, 2, 2], Kind::Float);
        let y = batch_norm_relu(&x, &norm).unwrap().unwrap();
        let loss = (&y * &y).sum(Kind::Float);
        let error = Tensor::f_run_backward(&[loss], &[&x], true, true).unwrap_err().to_string();
        assert!(error.contains("SLIM_FUSED_BATCH_NORM=0"), "{error}");
    }
}
