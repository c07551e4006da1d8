//! `conv2d_in_plane`: one 2-D kernel applied to every channel on its own (TF-Slim's `conv2d_in_plane`: a
//! depthwise convolution whose `[kh, kw, 1, 1]` weights are shared by all channels).

use tch::Tensor;

use super::layer_scope::{LayerScope, check_channels, check_rank};
use super::padding::pad_for_window;
use super::params::{layer_params, weighted_layer_args};
use super::protocol::{BuildLayer, HasVariables};
use super::tail::Tail;
use super::types::{Padding, Pair};
use crate::Result;
use crate::error::TorchContext;
use crate::model::tape::Layer;

weighted_layer_args! {
    /// The arguments of [`conv2d_in_plane`](fn@conv2d_in_plane).
    pub struct Args => Options for "conv2d_in_plane" [Call] {
        /// Stride (default 1).
        stride: Pair = Pair::square(1),
        /// Padding (default SAME).
        padding: Padding = Padding::Same,
    }
}

/// A call of [`conv2d_in_plane`](fn@conv2d_in_plane) being configured; finish it with
/// [`Call::call`](super::Call::call).
pub type Call = super::Call<Conv2dInPlane>;

/// TF-Slim's `conv2d_in_plane(inputs, kernel_size, …)` for `[N, C, H, W]` inputs: weights `[1, 1, kh, kw]` (TF's
/// `[kh, kw, 1, 1]`) shared by every channel, biases `[C]` unless a normalizer follows; scope `ConvInPlane`.
pub fn conv2d_in_plane(inputs: &Tensor, kernel_size: impl Into<Pair>) -> Call {
    Call::new(inputs, kernel_size.into(), Args::default())
}

impl BuildLayer for Conv2dInPlane {
    type Args = Args;
    type Positional = Pair;
    const DEFAULT_SCOPE: &'static str = "ConvInPlane";
    const REPEAT_NAME: &'static str = "convolution2d_in_plane";

    fn build(scope: &LayerScope, inputs: &Tensor, kernel: Pair, args: Args) -> Result<(Self, Tensor)> {
        let options = args.resolve();
        check_rank(&scope.name, "ConvInPlane", inputs, &[4])?;
        kernel.check_positive(&scope.name, "kernel_size")?;
        options.stride.check_positive(&scope.name, "stride")?;
        let channels = inputs.size()[1];
        let (weights, biases) = layer_params!(options).create(&[1, 1, kernel.0, kernel.1], channels)?;
        let layer_core = InPlane {
            scope: scope.name.clone(),
            weights,
            biases,
            kernel,
            stride: options.stride,
            padding: options.padding,
            channels,
        };
        let y = layer_core.forward(inputs)?;
        let normalizer = options.normalizer_fn.as_ref();
        let (tail, out) =
            Tail::build(scope, normalizer, options.activation_fn.clone(), options.outputs_collections.clone(), y)?;
        Ok((Conv2dInPlane { core: layer_core, tail }, out))
    }
}

impl HasVariables for Conv2dInPlane {}

/// The shared-kernel convolution itself.
#[derive(Debug)]
struct InPlane {
    scope: String,
    weights: Tensor,
    biases: Option<Tensor>,
    kernel: Pair,
    stride: Pair,
    padding: Padding,
    channels: i64,
}

impl InPlane {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_rank(&self.scope, "ConvInPlane", x, &[4])?;
        check_channels(&self.scope, x, self.channels)?;
        let (x, pad) = pad_for_window(&self.scope, x, self.padding, self.kernel, self.stride, 0.0)?;
        let weights =
            self.weights.f_expand([self.channels, 1, self.kernel.0, self.kernel.1], false).context(&self.scope)?;
        x.f_conv2d(&weights, self.biases.as_ref(), self.stride.to_array(), pad, [1, 1], self.channels)
            .context(&self.scope)
    }
}

/// A built `conv2d_in_plane` layer.
#[derive(Debug)]
pub struct Conv2dInPlane {
    core: InPlane,
    tail: Tail,
}

impl Layer for Conv2dInPlane {
    fn name(&self) -> &str {
        self.tail.alias()
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = self.core.forward(x)?;
        self.tail.forward(y)
    }
}
