//! `conv2d_transpose`: the transposed 2-D convolution, with TF's output sizes (SAME: `in·s`; VALID:
//! `in·s + max(k − s, 0)`).

use tch::Tensor;

use super::layer_scope::{LayerScope, check_channels, check_rank};
use super::params::layer_params;
use super::params::weighted_layer_args;
use super::protocol::{BuildLayer, HasVariables};
use super::tail::Tail;
use super::types::{DataFormat, Padding, Pair};
use crate::error::TorchContext;
use crate::model::tape::Layer;
use crate::{Error, Result};

weighted_layer_args! {
    /// The arguments of [`conv2d_transpose`](fn@conv2d_transpose).
    pub struct Args => Options for "conv2d_transpose" [Call] {
        /// Stride (default 1): the factor by which the spatial size grows.
        stride: Pair = Pair::square(1),
        /// Padding (default SAME).
        padding: Padding = Padding::Same,
        /// Layout of inputs and outputs (default NCHW).
        data_format: DataFormat = DataFormat::Nchw,
    }
}

/// A call of [`conv2d_transpose`](fn@conv2d_transpose) being configured; finish it with
/// [`Call::call`](super::Call::call).
pub type Call = super::Call<Conv2dTranspose>;

/// TF-Slim's `conv2d_transpose(inputs, num_outputs, kernel_size, …)`. Weights are
/// `[in_channels, num_outputs, kh, kw]` (TF's `[kh, kw, out, in]` in libtorch's layout, with the same fans),
/// created from the first input in scope `Conv2d_transpose` (made unique) or the given scope.
pub fn conv2d_transpose(inputs: &Tensor, num_outputs: i64, kernel_size: impl Into<Pair>) -> Call {
    Call::new(inputs, (num_outputs, kernel_size.into()), Args::default())
}

impl BuildLayer for Conv2dTranspose {
    type Args = Args;
    type Positional = (i64, Pair);
    const DEFAULT_SCOPE: &'static str = "Conv2d_transpose";
    const REPEAT_NAME: &'static str = "convolution2d_transpose";

    fn build(
        scope: &LayerScope,
        inputs: &Tensor,
        (num_outputs, kernel): (i64, Pair),
        args: Args,
    ) -> Result<(Self, Tensor)> {
        let options = args.resolve();
        let name = scope.name.as_str();
        check_rank(name, "Transposed convolution", inputs, &[4])?;
        if num_outputs < 1 {
            return Err(Error::invalid(name, format!("num_outputs must be positive, got {num_outputs}")));
        }
        kernel.check_positive(name, "kernel_size")?;
        options.stride.check_positive(name, "stride")?;
        let x = options.data_format.view_as_nchw(inputs);
        let Pair(kh, kw) = kernel;
        let shape = [x.size()[1], num_outputs, kh, kw];
        let (weights, biases) = layer_params!(options).create(&shape, num_outputs)?;
        let core = TransposeCore {
            scope: scope.name.clone(),
            weights,
            biases,
            kernel,
            stride: options.stride,
            padding: options.padding,
        };
        let y = core.forward(&x)?;
        let (tail, y) = Tail::build(
            scope,
            options.normalizer_fn.as_ref(),
            options.activation_fn.clone(),
            options.outputs_collections.clone(),
            y,
        )?;
        let out = options.data_format.view_from_nchw(y);
        Ok((Conv2dTranspose { core, tail, data_format: options.data_format }, out))
    }
}

impl HasVariables for Conv2dTranspose {}

/// How one spatial axis of the transposed convolution is computed: libtorch's symmetric `padding`, its
/// `output_padding`, and the TF output size to keep.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AxisPlan {
    pub(crate) padding: i64,
    pub(crate) output_padding: i64,
    pub(crate) output: i64,
}

impl AxisPlan {
    /// TF's transposed convolution is the gradient of the forward convolution whose input has the TF output
    /// size; that convolution's padding before is cropped from the front of the full result, and the result is
    /// cut to the output size.
    pub(crate) fn new(input: i64, kernel: i64, stride: i64, padding: Padding) -> AxisPlan {
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

/// A built `conv2d_transpose` layer: apply it again with [`Layer::forward`].
#[derive(Debug)]
pub struct Conv2dTranspose {
    core: TransposeCore,
    tail: Tail,
    data_format: DataFormat,
}

impl Layer for Conv2dTranspose {
    fn name(&self) -> &str {
        self.tail.alias()
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.tail.forward_convolution("Transposed convolution", self.data_format, x, |x| self.core.forward(x))
    }
}

impl Conv2dTranspose {
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
