//! `conv2d_transpose`: the transposed 2-D convolution, with TF's output sizes (SAME: `in·s`; VALID:
//! `in·s + max(k − s, 0)`).

use tch::Tensor;

use super::layer_scope::{self, check_channels, check_rank};
use super::params::layer_params;
use super::params::weighted_layer_args;
use super::repeat::layer_call;
use super::tail::Tail;
use super::types::{DataFormat, Padding, Pair};
use crate::error::TorchContext;
use crate::{Error, Result};

weighted_layer_args! {
    /// The arguments of [`conv2d_transpose`].
    pub struct Conv2dTransposeArgs => Conv2dTransposeOptions for "conv2d_transpose" [Conv2dTransposeCall] {
        /// Stride (default 1): the factor by which the spatial size grows.
        stride: Pair = Pair::square(1),
        /// Padding (default SAME).
        padding: Padding = Padding::Same,
        /// Layout of inputs and outputs (default NCHW).
        data_format: DataFormat = DataFormat::Nchw,
    }
}

/// A call of [`conv2d_transpose`] being configured; finish it with [`Conv2dTransposeCall::call`].
#[derive(Debug)]
pub struct Conv2dTransposeCall {
    inputs: Tensor,
    num_outputs: i64,
    kernel_size: Pair,
    args: Conv2dTransposeArgs,
    scope: Option<String>,
    reuse: bool,
}

layer_call!(
    Conv2dTransposeCall,
    Conv2dTransposeArgs,
    default_scope: "Conv2d_transpose",
    repeat_name: "convolution2d_transpose"
);

/// TF-Slim's `conv2d_transpose(inputs, num_outputs, kernel_size, …)`. Weights are
/// `[in_channels, num_outputs, kh, kw]` (TF's `[kh, kw, out, in]` in libtorch's layout, with the same fans),
/// created from the first input in scope `Conv2d_transpose` (made unique) or the given scope.
pub fn conv2d_transpose(inputs: &Tensor, num_outputs: i64, kernel_size: impl Into<Pair>) -> Conv2dTransposeCall {
    Conv2dTransposeCall {
        inputs: inputs.shallow_clone(),
        num_outputs,
        kernel_size: kernel_size.into(),
        args: Conv2dTransposeArgs::default(),
        scope: None,
        reuse: false,
    }
}

impl Conv2dTransposeCall {
    /// Creates (or reuses) the variables and applies the layer; returns the layer, to apply again, and the output.
    pub fn build(self) -> Result<(Conv2dTranspose, Tensor)> {
        let options = self.args.resolve_in_scope();
        let scope = layer_scope::open(self.scope.as_deref(), "Conv2d_transpose", self.reuse)?;
        let name = scope.name.as_str();
        check_rank(name, "Transposed convolution", &self.inputs, &[4])?;
        if self.num_outputs < 1 {
            return Err(Error::invalid(name, format!("num_outputs must be positive, got {}", self.num_outputs)));
        }
        self.kernel_size.check_positive(name, "kernel_size")?;
        options.stride.check_positive(name, "stride")?;
        let x = options.data_format.view_as_nchw(&self.inputs);
        let Pair(kh, kw) = self.kernel_size;
        let shape = [x.size()[1], self.num_outputs, kh, kw];
        let (weights, biases) = layer_params!(options).create(&shape, self.num_outputs)?;
        let core = TransposeCore {
            scope: scope.name.clone(),
            weights,
            biases,
            kernel: self.kernel_size,
            stride: options.stride,
            padding: options.padding,
        };
        let y = core.forward(&x)?;
        let (tail, y) = Tail::build(
            &scope,
            options.normalizer_fn.as_ref(),
            options.activation_fn.clone(),
            options.outputs_collections.clone(),
            y,
        )?;
        let out = options.data_format.view_from_nchw(y);
        Ok((Conv2dTranspose { core, tail, data_format: options.data_format }, out))
    }
}

/// How one spatial axis of the transposed convolution is computed: libtorch's symmetric `padding`, its
/// `output_padding`, and the TF output size to keep.
#[derive(Debug, PartialEq, Eq)]
struct AxisPlan {
    padding: i64,
    output_padding: i64,
    output: i64,
}

impl AxisPlan {
    /// TF's transposed convolution is the gradient of the forward convolution whose input has the TF output
    /// size; that convolution's padding before is cropped from the front of the full result, and the result is
    /// cut to the output size.
    fn new(input: i64, kernel: i64, stride: i64, padding: Padding) -> AxisPlan {
        let output = match padding {
            Padding::Same => input * stride,
            Padding::Valid => input * stride + (kernel - stride).max(0),
        };
        let (before, _) = padding.amounts(output, kernel, stride);
        let produced = (input - 1) * stride + kernel - 2 * before;
        AxisPlan { padding: before, output_padding: (output - produced).max(0), output }
    }
}

/// The transposed convolution itself.
#[derive(Debug)]
struct TransposeCore {
    scope: String,
    weights: Tensor,
    biases: Option<Tensor>,
    kernel: Pair,
    stride: Pair,
    padding: Padding,
}

impl TransposeCore {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_rank(&self.scope, "Transposed convolution", x, &[4])?;
        check_channels(&self.scope, x, self.weights.size()[0])?;
        let size = x.size();
        let rows = AxisPlan::new(size[2], self.kernel.0, self.stride.0, self.padding);
        let cols = AxisPlan::new(size[3], self.kernel.1, self.stride.1, self.padding);
        let y = x
            .f_conv_transpose2d(
                &self.weights,
                self.biases.as_ref(),
                self.stride.to_array(),
                [rows.padding, cols.padding],
                [rows.output_padding, cols.output_padding],
                1,
                [1, 1],
            )
            .context(&self.scope)?;
        let y = y.f_narrow(2, 0, rows.output).context(&self.scope)?;
        y.f_narrow(3, 0, cols.output).context(&self.scope)
    }
}

/// A built `conv2d_transpose` layer: apply it again with [`Conv2dTranspose::forward`].
#[derive(Debug)]
pub struct Conv2dTranspose {
    core: TransposeCore,
    tail: Tail,
    data_format: DataFormat,
}

impl Conv2dTranspose {
    /// Applies the layer to `x` in the current [`Mode`](crate::mode::Mode).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_rank(&self.core.scope, "Transposed convolution", x, &[4])?;
        let y = self.core.forward(&self.data_format.view_as_nchw(x))?;
        Ok(self.data_format.view_from_nchw(self.tail.forward(y)?))
    }

    /// The layer's full scope name.
    pub fn name(&self) -> &str {
        self.tail.alias()
    }

    /// The weights, `[in, out, kh, kw]`.
    pub fn weights(&self) -> &Tensor {
        &self.core.weights
    }

    /// The biases, absent with a normalizer or without a biases initializer.
    pub fn biases(&self) -> Option<&Tensor> {
        self.core.biases.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_crop_the_forward_padding_before_and_keep_tf_sizes() {
        // SAME, k=3, s=2: the forward conv of 10 → 5 pads (0, 1); the full result (4·2+3=11) loses nothing
        // in front and is cut to 10.
        assert_eq!(AxisPlan::new(5, 3, 2, Padding::Same), AxisPlan { padding: 0, output_padding: 0, output: 10 });
        // SAME, k=4, s=1: pads (1, 2); full 5+3=8 minus 2·1 = 6 is cut to 5.
        assert_eq!(AxisPlan::new(5, 4, 1, Padding::Same), AxisPlan { padding: 1, output_padding: 0, output: 5 });
        // k < s: the full result is short by s − k, made up by output padding.
        assert_eq!(AxisPlan::new(2, 1, 4, Padding::Valid), AxisPlan { padding: 0, output_padding: 3, output: 8 });
    }
}
