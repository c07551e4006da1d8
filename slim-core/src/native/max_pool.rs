//! 2-D max pooling of channels-last activations by slim's kernel (`csrc/max_pool.cpp`).

use std::ffi::c_char;

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_max_pool2d(x: *const C_tensor, window: *const i64, out: *mut *mut C_tensor) -> *mut c_char;
}

/// A pooling window over [N, C, H, W]: kernel and stride per spatial axis (height, width), the padding before the
/// first row and column (positions outside the input are skipped), and the output's height and width.
pub(crate) struct PoolWindow {
    pub(crate) kernel: [i64; 2],
    pub(crate) stride: [i64; 2],
    pub(crate) pad_before: [i64; 2],
    pub(crate) output: [i64; 2],
}

/// The max pool of `x` over `window`, differentiable (ties and NaNs as libtorch's `max_pool2d`). `None` where the
/// kernel does not take `x`: it must be a non-empty 4-D CPU tensor, channels-last in memory, float32 or
/// bfloat16, and the windows must not overlap (stride at least the kernel) and hold at most 256 positions.
pub(crate) fn max_pool2d(x: &Tensor, window: &PoolWindow) -> tch::Result<Option<Tensor>> {
    let geometry: [i64; 8] = [
        window.kernel[0],
        window.kernel[1],
        window.stride[0],
        window.stride[1],
        window.pad_before[0],
        window.pad_before[1],
        window.output[0],
        window.output[1],
    ];
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: `x` is a live tensor handle and `geometry` eight integers, both borrowed for the call; on success
    // the C++ side writes a fresh handle to `out`, or null where it does not take the input.
    let message = unsafe { slim_max_pool2d(x.as_ptr(), geometry.as_ptr(), &mut out) };
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
    use crate::native::channels_last;

    /// libtorch's max pool and slim's over the same channels-last input: outputs and input gradients equal.
    fn compare(shape: [i64; 4], kind: Kind, kernel: i64, stride: i64) {
        let x = channels_last(&Tensor::randn(shape, (Kind::Float, Device::Cpu)).to_kind(kind)).unwrap();
        let x = x.set_requires_grad(true);
        let out = (shape[2] - kernel) / stride + 1;
        let window = PoolWindow { kernel: [kernel; 2], stride: [stride; 2], pad_before: [0; 2], output: [out, out] };
        let ours = max_pool2d(&x, &window).unwrap().expect("the kernel takes a channels-last input");
        let theirs = x.max_pool2d([kernel, kernel], [stride, stride], [0, 0], [1, 1], false);
        let what = format!("{shape:?} {kind:?} {kernel}×{kernel}/{stride}");
        assert!(is_channels_last(&ours) && ours.kind() == kind, "{what}: layout and dtype");
        assert!(ours.equal(&theirs), "{what}: values");
        let upstream = Tensor::randn(theirs.size().as_slice(), (Kind::Float, Device::Cpu)).to_kind(kind);
        let grad = |y: &Tensor| Tensor::run_backward(&[(y * &upstream).sum(Kind::Float)], &[&x], false, false);
        assert!(grad(&ours)[0].equal(&grad(&theirs)[0]), "{what}: gradients");
    }

    #[test]
    fn matches_libtorchs_max_pool_values_and_gradients() {
        for kind in [Kind::Float, Kind::BFloat16] {
            compare([4, 16, 12, 12], kind, 2, 2); // windows tiling the input
            compare([2, 24, 11, 11], kind, 2, 2); // a last row and column no window covers
            compare([2, 16, 10, 10], kind, 3, 3); // nine positions, one row and column left over
            compare([2, 8, 9, 9], kind, 2, 3); // stride over the kernel: gaps between windows
        }
    }

    #[test]
    fn skips_positions_outside_the_input_as_tf_same_padding_does() {
        // 3×3 windows at stride 3 over 10×10 with TF SAME: 4 outputs, one row and column of padding on each side.
        let x = channels_last(&Tensor::randn([2, 16, 10, 10], (Kind::Float, Device::Cpu))).unwrap();
        let window = PoolWindow { kernel: [3, 3], stride: [3, 3], pad_before: [1, 1], output: [4, 4] };
        let ours = max_pool2d(&x, &window).unwrap().unwrap();
        let padded = x.pad([1, 1, 1, 1], "constant", Some(f64::NEG_INFINITY));
        assert!(ours.equal(&padded.max_pool2d([3, 3], [3, 3], [0, 0], [1, 1], false)));
    }

    #[test]
    fn declines_what_it_does_not_take_and_refuses_windows_that_miss_the_input() {
        let window = PoolWindow { kernel: [2, 2], stride: [2, 2], pad_before: [0, 0], output: [2, 2] };
        let nchw = Tensor::randn([2, 4, 4, 4], (Kind::Float, Device::Cpu));
        assert!(max_pool2d(&nchw, &window).unwrap().is_none(), "an NCHW-contiguous input");
        let double = channels_last(&nchw.to_kind(Kind::Double)).unwrap();
        assert!(max_pool2d(&double, &window).unwrap().is_none(), "float64");
        let x = channels_last(&nchw).unwrap();
        let overlapping = PoolWindow { kernel: [3, 3], stride: [2, 2], pad_before: [1, 1], output: [2, 2] };
        assert!(max_pool2d(&x, &overlapping).unwrap().is_none(), "overlapping windows");
        let too_many = PoolWindow { output: [3, 3], ..window };
        let error = max_pool2d(&x, &too_many).unwrap_err().to_string();
        assert!(error.contains("does not fit"), "{error}");
    }

    #[test]
    fn refuses_a_second_derivative_rather_than_returning_a_wrong_one() {
        let x = channels_last(&Tensor::randn([2, 16, 4, 4], (Kind::Float, Device::Cpu))).unwrap();
        let x = x.set_requires_grad(true);
        let window = PoolWindow { kernel: [2, 2], stride: [2, 2], pad_before: [0, 0], output: [2, 2] };
        let y = max_pool2d(&x, &window).unwrap().unwrap();
        let loss = (&y * &y).sum(Kind::Float);
        let error = Tensor::f_run_backward(&[loss], &[&x], true, true).unwrap_err().to_string();
        assert!(error.contains("SLIM_MAX_POOL_KERNEL=0"), "{error}");
    }
}
