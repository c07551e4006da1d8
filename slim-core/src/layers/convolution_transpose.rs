//! `conv2d_transpose` and `conv3d_transpose`: transposed convolutions with TF's output sizes per axis (SAME:
//! `in·s`; VALID: `in·s + max(k − s, 0)`). Each op has its own arguments (its own arg-scope key) and built layer
//! around one shared [`TransposeNd`].

use tch::Tensor;

use super::layer_scope::{LayerScope, check_channels, check_rank};
use super::params::LayerParams;
use super::tail::{Tail, TailParts};
use super::types::{DataFormat, Dims, Padding};
use crate::backend::autocast_convolution_inputs;
use crate::error::TorchContext;
use crate::{Error, Result};

/// Defines the module of one transposed-convolution op: its arguments, call, function and built layer.
macro_rules! transpose_op {
    (
        $op:ident, $name:literal, $layer:ident, [$window:ident; $axes:literal], $default_scope:literal, $repeat:literal,
        $weights:literal, $doc:literal
    ) => {
        #[doc = concat!("`", $name, "`: its arguments, call and built layer.")]
        pub mod $op {
            use tch::Tensor;

            use super::{TransposeNd, TransposeSpec};
            use crate::Result;
            use crate::layers::layer_scope::LayerScope;
            use crate::layers::params::{layer_params, weighted_layer_args};
            use crate::layers::protocol::{BuildLayer, HasVariables};
            use crate::layers::types::{$window, DataFormat, Padding};
            use crate::model::tape::Layer;

            weighted_layer_args! {
                #[doc = concat!("The arguments of [`", $name, "`](fn@", $name, ").")]
                pub struct Args => Options for $name [Call] {
                    /// Stride (default 1): the factor by which each spatial size grows.
                    stride: $window = $window::from(1),
                    /// Padding (default SAME).
                    padding: Padding = Padding::Same,
                    /// Where the channels are (default `Nchw`: first; `Nhwc`: last, TF's default).
                    data_format: DataFormat = DataFormat::Nchw,
                }
            }

            #[doc = concat!("A call of [`", $name, "`](fn@", $name, ") being configured; finish it with [`Call::call`](crate::layers::Call::call).")]
            pub type Call = crate::layers::Call<$layer>;

            #[doc = $doc]
            pub fn $op(inputs: &Tensor, num_outputs: i64, kernel_size: impl Into<$window>) -> Call {
                Call::new(inputs, (num_outputs, kernel_size.into()), Args::default())
            }

            #[doc = concat!("A built `", $name, "` layer: apply it again with [`Layer::forward`].")]
            #[derive(Debug)]
            pub struct $layer(TransposeNd);

            impl $layer {
                #[doc = concat!("The weights, `", $weights, "`.")]
                pub fn weights(&self) -> &Tensor {
                    &self.0.weights
                }

                /// The biases, absent with a normalizer or without a biases initializer.
                pub fn biases(&self) -> Option<&Tensor> {
                    self.0.biases.as_ref()
                }
            }

            impl Layer for $layer {
                fn name(&self) -> &str {
                    self.0.tail.alias()
                }

                fn forward(&self, x: &Tensor) -> Result<Tensor> {
                    self.0.forward(x)
                }
            }

            impl BuildLayer for $layer {
                type Args = Args;
                type Positional = (i64, $window);
                const DEFAULT_SCOPE: &'static str = $default_scope;
                const REPEAT_NAME: &'static str = $repeat;

                fn build(
                    scope: &LayerScope,
                    inputs: &Tensor,
                    (num_outputs, kernel): (i64, $window),
                    args: Args,
                ) -> Result<(Self, Tensor)> {
                    let o = args.resolve();
                    let spec = TransposeSpec {
                        axes: $axes,
                        num_outputs,
                        kernel: kernel.into(),
                        stride: o.stride.into(),
                        padding: o.padding,
                        data_format: o.data_format,
                    };
                    let tail = (o.normalizer_fn.as_ref(), o.activation_fn.clone(), o.outputs_collections.clone());
                    let (layer, out) = TransposeNd::build(scope, inputs, spec, layer_params!(o), tail)?;
                    Ok(($layer(layer), out))
                }
            }

            impl HasVariables for $layer {}
        }
    };
}

transpose_op!(
    conv2d_transpose,
    "conv2d_transpose",
    Conv2dTranspose,
    [Pair; 2],
    "Conv2d_transpose",
    "convolution2d_transpose",
    "[in, out, kh, kw]",
    "TF-Slim's `conv2d_transpose(inputs, num_outputs, kernel_size, …)`. Weights are
`[in_channels, num_outputs, kh, kw]` (TF's `[kh, kw, out, in]` in libtorch's layout, with the same fans),
created from the first input in scope `Conv2d_transpose` (made unique) or the given scope."
);
transpose_op!(
    conv3d_transpose,
    "conv3d_transpose",
    Conv3dTranspose,
    [Dims; 3],
    "Conv3d_transpose",
    "convolution3d_transpose",
    "[in, out, kd, kh, kw]",
    "TF-Slim's `conv3d_transpose(inputs, num_outputs, kernel_size, …)` of `[N, C, D, H, W]` inputs. Weights are
`[in_channels, num_outputs, kd, kh, kw]` (TF's `[kd, kh, kw, out, in]` in libtorch's layout, with the same
fans), created from the first input in scope `Conv3d_transpose` (made unique) or the given scope."
);

/// What a transposed-convolution op asks for: its spatial axes, outputs, window and layout.
pub(crate) struct TransposeSpec {
    axes: usize,
    num_outputs: i64,
    kernel: Dims,
    stride: Dims,
    padding: Padding,
    data_format: DataFormat,
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

/// The window of a transposed convolution: kernel and stride per spatial axis, TF padding.
#[derive(Debug)]
struct TransposeWindow {
    kernel: Vec<i64>,
    stride: Vec<i64>,
    padding: Padding,
}

impl TransposeWindow {
    /// The transposed convolution of channels-first `x` by `weights` and `biases`, cut to TF's output sizes.
    fn convolve(&self, scope: &str, x: &Tensor, weights: &Tensor, biases: Option<&Tensor>) -> Result<Tensor> {
        check_channels(scope, x, weights.size()[0])?;
        let (x, weights, biases) = autocast_convolution_inputs(scope, x, weights, biases, &[])?;
        let size = x.size();
        let plans: Vec<AxisPlan> = (0..self.kernel.len())
            .map(|axis| AxisPlan::new(size[axis + 2], self.kernel[axis], self.stride[axis], self.padding))
            .collect();
        let padding: Vec<i64> = plans.iter().map(|plan| plan.padding).collect();
        let output_padding: Vec<i64> = plans.iter().map(|plan| plan.output_padding).collect();
        let dilation = vec![1; self.kernel.len()];
        let y = x
            .f_convolution(&weights, biases.as_ref(), &self.stride, &padding, &dilation, true, &output_padding, 1)
            .context(scope)?;
        plans
            .iter()
            .enumerate()
            .try_fold(y, |y, (axis, plan)| y.f_narrow(axis as i64 + 2, 0, plan.output).context(scope))
    }
}

/// The transposed convolution every op builds: weights, biases, window, layout and tail.
#[derive(Debug)]
pub(crate) struct TransposeNd {
    scope: String,
    weights: Tensor,
    biases: Option<Tensor>,
    window: TransposeWindow,
    data_format: DataFormat,
    tail: Tail,
}

impl TransposeNd {
    /// Checks `inputs` and `spec`, creates the variables in `scope` and applies the layer.
    fn build(
        scope: &LayerScope,
        inputs: &Tensor,
        spec: TransposeSpec,
        params: LayerParams<'_>,
        (normalizer, activation, outputs): TailParts<'_>,
    ) -> Result<(TransposeNd, Tensor)> {
        let name = scope.name.as_str();
        check_rank(name, "Transposed convolution", inputs, &[spec.axes + 2])?;
        if spec.num_outputs < 1 {
            return Err(Error::invalid(name, format!("num_outputs must be positive, got {}", spec.num_outputs)));
        }
        let kernel = spec.kernel.resolve(spec.axes, name, "kernel_size")?;
        let stride = spec.stride.resolve(spec.axes, name, "stride")?;
        let window = TransposeWindow { kernel, stride, padding: spec.padding };
        let x = spec.data_format.view_channels_first(inputs);
        let shape: Vec<i64> =
            [x.size()[1], spec.num_outputs].into_iter().chain(window.kernel.iter().copied()).collect();
        let (weights, biases) = params.create(&shape, spec.num_outputs)?;
        let y = window.convolve(name, &x, &weights, biases.as_ref())?;
        let (tail, y) = Tail::build(scope, normalizer, activation, outputs, y)?;
        let layer =
            TransposeNd { scope: name.to_string(), weights, biases, window, data_format: spec.data_format, tail };
        Ok((layer, spec.data_format.view_from_channels_first(y)))
    }

    /// Applies the built layer to `x`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_rank(&self.scope, "Transposed convolution", x, &[self.window.kernel.len() + 2])?;
        let x = self.data_format.view_channels_first(x);
        let y = self.window.convolve(&self.scope, &x, &self.weights, self.biases.as_ref())?;
        Ok(self.data_format.view_from_channels_first(self.tail.forward(y)?))
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::AxisPlan;
    use crate::layers::{Padding, conv2d_transpose, conv3d_transpose};
    use crate::variables::VarStore;

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

    #[test]
    fn output_sizes_follow_tf_and_a_flat_depth_matches_the_2d_layer() {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let x = Tensor::rand([2, 3, 1, 5, 4], (Kind::Float, Device::Cpu));
        let y = conv3d_transpose(&x, 6, [1, 3, 3]).stride([1, 2, 2]).activation_fn(None).scope("t3").call().unwrap();
        assert_eq!(y.size(), [2, 6, 1, 10, 8]);
        let weights = vs.variable("t3/weights").unwrap();
        assert_eq!(weights.shape(), [3, 6, 1, 3, 3]);
        let flat = x.squeeze_dim(2);
        let _created = conv2d_transpose(&flat, 6, [3, 3]).scope("t2").call().unwrap();
        tch::no_grad(|| {
            vs.variable("t2/weights").unwrap().tensor().shallow_clone().copy_(&weights.tensor().squeeze_dim(2))
        });
        let again = conv2d_transpose(&flat, 6, [3, 3]).stride(2).activation_fn(None).scope("t2").reuse(true);
        assert!(again.call().unwrap().allclose(&y.squeeze_dim(2), 1e-5, 1e-6, false), "one frame is the 2-D layer");
        let valid = conv3d_transpose(&x, 2, 3).stride(2).padding(Padding::Valid).scope("v").call().unwrap();
        assert_eq!(valid.size(), [2, 2, 3, 11, 9], "in·s + max(k − s, 0)");
        let error = conv3d_transpose(&x.squeeze_dim(2), 2, 3).call().unwrap_err().to_string();
        assert!(error.contains("rank 5"), "{error}");
    }
}
