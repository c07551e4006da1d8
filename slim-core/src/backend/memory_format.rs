//! Channels-last execution: 4-D activations and convolution weights kept NHWC in memory (still indexed NCHW), so
//! libtorch's oneDNN convolutions on CPU skip their reorders. slim's default for float tensors on CPU.

use tch::{Device, Kind, Tensor};

use super::CpuPath;
use crate::Result;
use crate::error::TorchContext;

/// Whether channels-last execution is on ([`Config::channels_last`](super::Config::channels_last), on by
/// default); weights follow a change at their next use.
pub(crate) fn channels_last_enabled() -> bool {
    CpuPath::ChannelsLast.enabled()
}

/// Whether the 4-D `tensor` is laid out NHWC in memory (its strides are channels-last ones).
pub fn is_channels_last(tensor: &Tensor) -> bool {
    let size = tensor.size();
    size.len() == 4 && tensor.stride() == channels_last_strides(&size)
}

/// `tensor` (4-D, indexed NCHW) copied into NHWC memory: the same values, shape and gradient, other strides.
/// Returns `tensor` itself when it is already channels-last.
pub fn to_channels_last(tensor: &Tensor) -> Result<Tensor> {
    let size = tensor.size();
    if size.len() != 4 {
        return Err(crate::Error::invalid(
            "to_channels_last",
            format!("expects a rank-4 tensor (NCHW), got shape {size:?}"),
        ));
    }
    if is_channels_last(tensor) {
        return Ok(tensor.shallow_clone());
    }
    copy_to_nhwc("to_channels_last", tensor)
}

/// A copy of the 4-D `tensor` in NHWC memory (differentiable; a TorchScript trace keeps it free of the
/// example's sizes); torch errors name `context`.
fn copy_to_nhwc(context: &str, tensor: &Tensor) -> Result<Tensor> {
    crate::native::channels_last(tensor).context(context)
}

/// The strides of an NHWC-in-memory tensor of NCHW `size`.
fn channels_last_strides(size: &[i64]) -> Vec<i64> {
    let (c, w) = (size[1], size[3]);
    vec![size[2] * w * c, 1, w * c, c]
}

/// Whether channels-last applies to tensors like `tensor`: the switch is on, it lives on the CPU and holds
/// float32 or bfloat16 (oneDNN's NHWC kernels). Other devices and kinds take the plain path; when the user asked
/// for channels-last explicitly, slim says so once.
fn applies_to(tensor: &Tensor) -> bool {
    if !channels_last_enabled() {
        return false;
    }
    let supported = tensor.device() == Device::Cpu && matches!(tensor.kind(), Kind::Float | Kind::BFloat16);
    if !supported {
        CpuPath::ChannelsLast.switch().decline(|| {
            format!(
                "channels-last runs float32/bfloat16 CPU tensors only; {:?} {:?} tensors take the plain NCHW path \
                 (same results)",
                tensor.device(),
                tensor.kind()
            )
        });
    }
    supported
}

/// A convolution's input in the layout the convolution should see: channels-last where it applies, else as is.
pub(crate) fn conv_input(scope: &str, x: &Tensor) -> Result<Tensor> {
    if x.dim() == 4 && applies_to(x) && !is_channels_last(x) {
        return copy_to_nhwc(scope, x);
    }
    Ok(x.shallow_clone())
}

/// Puts a convolution's 4-D weight variable in the layout the switch asks for, in place: channels-last where it
/// applies, plain NCHW when the switch is off. Every handle to the variable (the store's, the optimizer's) sees
/// the new layout; values and `requires_grad` stay.
pub(crate) fn conv_weights(scope: &str, weights: &Tensor) -> Result<()> {
    if weights.dim() != 4 {
        return Ok(());
    }
    let relaid = match (is_channels_last(weights), applies_to(weights)) {
        (false, true) => tch::no_grad(|| copy_to_nhwc(scope, &weights.detach()))?,
        (true, false) if !channels_last_enabled() => weights.detach().f_contiguous().context(scope)?,
        _ => return Ok(()),
    };
    let mut handle = weights.shallow_clone();
    tch::no_grad(|| handle.f_set_data(&relaid)).context(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_keeps_values_and_shape() {
        let x = Tensor::arange(2 * 3 * 4 * 5, (Kind::Float, Device::Cpu)).view([2, 3, 4, 5]);
        let y = to_channels_last(&x).unwrap();
        assert_eq!(y.size(), x.size());
        assert_eq!(y.stride(), vec![60, 1, 15, 3]);
        assert!(is_channels_last(&y) && !is_channels_last(&x));
        assert_eq!(y.double_value(&[1, 2, 3, 4]), x.double_value(&[1, 2, 3, 4]));
        assert!(y.equal(&x));
    }

    #[test]
    fn single_channel_tensors_get_channels_last_strides_too() {
        let x = Tensor::zeros([4, 1, 6, 6], (Kind::Float, Device::Cpu));
        assert_eq!(to_channels_last(&x).unwrap().stride(), vec![36, 1, 6, 1]);
    }

    #[test]
    fn other_ranks_are_refused_with_the_shape() {
        let error = to_channels_last(&Tensor::zeros([2, 3], (Kind::Float, Device::Cpu))).unwrap_err();
        assert!(error.to_string().contains("[2, 3]"), "{error}");
    }

    #[test]
    fn weights_move_in_place_for_every_handle() {
        let weights = Tensor::randn([8, 3, 3, 3], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let expected = weights.detach().copy();
        let other_handle = weights.shallow_clone();
        conv_weights("conv", &weights).unwrap();
        assert_eq!(is_channels_last(&other_handle), channels_last_enabled());
        assert!(other_handle.detach().equal(&expected));
        assert!(other_handle.requires_grad());
    }

    #[test]
    fn double_tensors_keep_their_layout() {
        let x = Tensor::zeros([2, 3, 4, 4], (Kind::Double, Device::Cpu));
        assert!(!is_channels_last(&conv_input("conv", &x).unwrap()));
    }
}
