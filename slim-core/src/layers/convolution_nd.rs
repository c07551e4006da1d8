//! `convolution`, `conv1d` and `conv3d`: TF-Slim's convolution of any number of spatial axes (1 to 3, from the
//! input's rank, or fixed by the op), with TF padding, dilation, optional normalizer and activation. Each op has
//! its own arguments (its own arg-scope key, as TF-Slim's `convolution`, `convolution1d` and `convolution3d` are
//! separate functions) and built layer around one shared [`ConvolutionNd`].

use tch::Tensor;

use super::layer_scope::{LayerScope, check_channels, check_rank};
use super::padding::{dilated_nd, pad_for_window_nd};
use super::params::LayerParams;
use super::tail::{Tail, TailParts};
use super::types::{DataFormat, Dims, Padding};
use crate::backend::autocast_convolution_inputs;
use crate::error::TorchContext;
use crate::{Error, Result};

/// Defines the module of one convolution op: its arguments, call, function and built layer.
macro_rules! convolution_op {
    ($op:ident, $name:literal, $layer:ident, $ranks:expr, $repeat:literal, $doc:literal) => {
        #[doc = concat!("`", $name, "`: its arguments, call and built layer.")]
        pub mod $op {
            use tch::Tensor;

            use super::{ConvolutionNd, ConvolutionSpec};
            use crate::Result;
            use crate::layers::layer_scope::LayerScope;
            use crate::layers::params::{layer_params, weighted_layer_args};
            use crate::layers::protocol::{BuildLayer, HasVariables};
            use crate::layers::types::{DataFormat, Dims, Padding};
            use crate::model::tape::Layer;

            weighted_layer_args! {
                #[doc = concat!("The arguments of [`", $name, "`](fn@", $name, ").")]
                pub struct Args => Options for $name [Call] {
                    /// Stride (default 1): one value for every spatial axis or one per axis.
                    stride: Dims = Dims::All(1),
                    /// Padding (default SAME).
                    padding: Padding = Padding::Same,
                    /// Where the channels are (default `Nchw`: first, as NCW / NCHW / NCDHW; `Nhwc`: last, as TF's
                    /// NWC / NHWC / NDHWC).
                    data_format: DataFormat = DataFormat::Nchw,
                    /// Dilation rate (default 1); a rate above 1 cannot be combined with a stride above 1.
                    rate: Dims = Dims::All(1),
                }
            }

            #[doc = concat!("A call of [`", $name, "`](fn@", $name, ") being configured; finish it with [`Call::call`](crate::layers::Call::call).")]
            pub type Call = crate::layers::Call<$layer>;

            #[doc = $doc]
            pub fn $op(inputs: &Tensor, num_outputs: i64, kernel_size: impl Into<Dims>) -> Call {
                Call::new(inputs, (num_outputs, kernel_size.into()), Args::default())
            }

            #[doc = concat!("A built `", $name, "` layer: apply it again with [`Layer::forward`].")]
            #[derive(Debug)]
            pub struct $layer(ConvolutionNd);

            impl $layer {
                /// The weights, `[out, in, k…]`.
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
                type Positional = (i64, Dims);
                const DEFAULT_SCOPE: &'static str = "Conv";
                const REPEAT_NAME: &'static str = $repeat;

                fn build(
                    scope: &LayerScope,
                    inputs: &Tensor,
                    (num_outputs, kernel): (i64, Dims),
                    args: Args,
                ) -> Result<(Self, Tensor)> {
                    let o = args.resolve();
                    let spec = ConvolutionSpec {
                        ranks: $ranks,
                        num_outputs,
                        kernel,
                        stride: o.stride.clone(),
                        rate: o.rate.clone(),
                        padding: o.padding,
                        data_format: o.data_format,
                    };
                    let tail = (o.normalizer_fn.as_ref(), o.activation_fn.clone(), o.outputs_collections.clone());
                    let (layer, out) = ConvolutionNd::build(scope, inputs, spec, layer_params!(o), tail)?;
                    Ok(($layer(layer), out))
                }
            }

            impl HasVariables for $layer {}
        }
    };
}

convolution_op!(
    convolution,
    "convolution",
    Convolution,
    &[3, 4, 5],
    "convolution",
    "TF-Slim's `convolution(inputs, num_outputs, kernel_size, …)`: 1-, 2- or 3-D by the input's rank (3, 4 or 5).
Weights are `[num_outputs, in_channels, k…]`, created from the first input in scope `Conv` (made unique) or the
given scope."
);
convolution_op!(
    conv1d,
    "conv1d",
    Conv1d,
    &[3],
    "convolution1d",
    "TF-Slim's `conv1d` (`convolution1d`): [`convolution`](fn@crate::layers::convolution) of `[N, C, W]` inputs
(`[N, W, C]` with `data_format = Nhwc`), weights `[num_outputs, in_channels, k]`, scope `Conv`."
);
convolution_op!(
    conv3d,
    "conv3d",
    Conv3d,
    &[5],
    "convolution3d",
    "TF-Slim's `conv3d` (`convolution3d`): [`convolution`](fn@crate::layers::convolution) of `[N, C, D, H, W]`
inputs (`[N, D, H, W, C]` with `data_format = Nhwc`), weights `[num_outputs, in_channels, kd, kh, kw]`, scope
`Conv`."
);

/// What a convolution op asks for: the input ranks it takes, its outputs, window and layout.
pub(crate) struct ConvolutionSpec {
    ranks: &'static [usize],
    num_outputs: i64,
    kernel: Dims,
    stride: Dims,
    rate: Dims,
    padding: Padding,
    data_format: DataFormat,
}

/// The convolution every op builds: weights, biases, window, TF padding, layout and tail.
#[derive(Debug)]
pub(crate) struct ConvolutionNd {
    scope: String,
    weights: Tensor,
    biases: Option<Tensor>,
    kernel: Vec<i64>,
    stride: Vec<i64>,
    rate: Vec<i64>,
    padding: Padding,
    data_format: DataFormat,
    tail: Tail,
}

impl ConvolutionNd {
    /// Checks `inputs` and `spec`, creates the variables in `scope` and applies the layer.
    fn build(
        scope: &LayerScope,
        inputs: &Tensor,
        spec: ConvolutionSpec,
        params: LayerParams<'_>,
        (normalizer, activation, outputs): TailParts<'_>,
    ) -> Result<(ConvolutionNd, Tensor)> {
        let name = scope.name.as_str();
        check_rank(name, "Convolution", inputs, spec.ranks)?;
        if spec.num_outputs < 1 {
            return Err(Error::invalid(name, format!("num_outputs must be positive, got {}", spec.num_outputs)));
        }
        let axes = inputs.dim() - 2;
        let kernel = spec.kernel.resolve(axes, name, "kernel_size")?;
        let stride = spec.stride.resolve(axes, name, "stride")?;
        let rate = spec.rate.resolve(axes, name, "rate")?;
        if stride.iter().any(|s| *s > 1) && rate.iter().any(|r| *r > 1) {
            return Err(Error::invalid(name, "a rate greater than 1 cannot be combined with a stride greater than 1"));
        }
        let x = spec.data_format.view_channels_first(inputs);
        let shape: Vec<i64> = [spec.num_outputs, x.size()[1]].into_iter().chain(kernel.iter().copied()).collect();
        let (weights, biases) = params.create(&shape, spec.num_outputs)?;
        let y = convolve(name, &x, (&weights, biases.as_ref()), (&kernel, &stride, &rate), spec.padding)?;
        let (tail, y) = Tail::build(scope, normalizer, activation, outputs, y)?;
        let layer = ConvolutionNd {
            scope: name.to_string(),
            weights,
            biases,
            kernel,
            stride,
            rate,
            padding: spec.padding,
            data_format: spec.data_format,
            tail,
        };
        Ok((layer, spec.data_format.view_from_channels_first(y)))
    }

    /// Applies the built layer to `x`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_rank(&self.scope, "Convolution", x, &[self.kernel.len() + 2])?;
        let x = self.data_format.view_channels_first(x);
        let window = (self.kernel.as_slice(), self.stride.as_slice(), self.rate.as_slice());
        let y = convolve(&self.scope, &x, (&self.weights, self.biases.as_ref()), window, self.padding)?;
        Ok(self.data_format.view_from_channels_first(self.tail.forward(y)?))
    }
}

/// The convolution of channels-first `x` by `weights` and `biases` over the window (kernel, stride, rate), with
/// TF's `padding`.
fn convolve(
    scope: &str,
    x: &Tensor,
    (weights, biases): (&Tensor, Option<&Tensor>),
    (kernel, stride, rate): (&[i64], &[i64], &[i64]),
    padding: Padding,
) -> Result<Tensor> {
    check_channels(scope, x, weights.size()[1])?;
    let window = dilated_nd(kernel, rate);
    let (x, weights, biases) = autocast_convolution_inputs(scope, x, weights, biases, &window)?;
    let (x, pad) = pad_for_window_nd(scope, &x, padding, &window, stride, 0.0)?;
    let no_output_padding = vec![0; kernel.len()];
    x.f_convolution(&weights, biases.as_ref(), stride, &pad, rate, false, &no_output_padding, 1).context(scope)
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::conv1d::conv1d;
    use super::conv3d::conv3d;
    use super::convolution::convolution;
    use crate::layers::DataFormat;
    use crate::variables::VarStore;

    fn ones(shape: &[i64]) -> Tensor {
        Tensor::ones(shape, (Kind::Float, Device::Cpu))
    }

    #[test]
    fn tf_same_padding_counts_the_window_inside_the_input() {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let ones_init = crate::initializers::ones_initializer();
        let y = conv1d(&ones(&[1, 1, 5]), 1, 3).weights_initializer(ones_init.clone()).call().unwrap();
        let expected = Tensor::from_slice(&[2.0f32, 3.0, 3.0, 3.0, 2.0]).view([1, 1, 5]);
        assert!(y.equal(&expected), "{y}");
        // SAME at stride 2 on 4: TF pads (0, 1), the extra at the end.
        let y = conv1d(&ones(&[1, 1, 4]), 1, 3).stride(2).weights_initializer(ones_init).call().unwrap();
        assert!(y.equal(&Tensor::from_slice(&[3.0f32, 2.0]).view([1, 1, 2])), "{y}");
    }

    #[test]
    fn ranks_shapes_and_layouts() {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let y = conv3d(&ones(&[2, 3, 8, 9, 10]), 4, [1, 3, 3]).stride([1, 2, 2]).scope("c3").call().unwrap();
        assert_eq!(y.size(), [2, 4, 8, 5, 5]);
        assert_eq!(vs.variable("c3/weights").unwrap().shape(), [4, 3, 1, 3, 3]);
        let nwc = conv1d(&ones(&[2, 7, 3]), 5, 2).data_format(DataFormat::Nhwc).scope("c1").call().unwrap();
        assert_eq!(nwc.size(), [2, 7, 5]);
        let y = convolution(&ones(&[1, 2, 6, 6]), 3, 3).rate(2).padding(crate::layers::Padding::Valid).call().unwrap();
        assert_eq!(y.size(), [1, 3, 2, 2], "rank 4 is 2-D; a rate of 2 makes the 3×3 window 5×5");
        let error = conv3d(&ones(&[1, 2, 6, 6]), 3, 3).call().unwrap_err().to_string();
        assert!(error.contains("rank 5, got 4"), "{error}");
        let error = conv3d(&ones(&[1, 2, 4, 4, 4]), 3, [3, 3]).scope("bad").call().unwrap_err().to_string();
        assert!(error.contains("kernel_size must have 3 values"), "{error}");
        let error = conv1d(&ones(&[1, 2, 6]), 3, 3).stride(2).rate(2).call().unwrap_err().to_string();
        assert!(error.contains("cannot be combined"), "{error}");
    }
}
