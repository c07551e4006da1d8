//! `separable_conv2d`: a depthwise convolution, then (unless `num_outputs` is `None`) a pointwise 1×1 one.

use tch::Tensor;

use super::conv2d::ConvCore;
use super::layer_scope::{LayerScope, check_rank};
use super::params::weighted_layer_args;
use super::params::{ParamSpec, layer_params, model_param};
use super::protocol::{BuildLayer, HasVariables};
use super::tail::Tail;
use super::types::{DataFormat, Padding, Pair};
use crate::initializers::{Fans, Initializer};
use crate::model::tape::Layer;
use crate::{Error, Result};

weighted_layer_args! {
    /// The arguments of [`separable_conv2d`](fn@separable_conv2d).
    pub struct Args => Options for "separable_conv2d" [Call] {
        /// Depthwise filters per input channel (default 1).
        depth_multiplier: i64 = 1,
        /// Stride of the depthwise convolution (default 1).
        stride: Pair = Pair::square(1),
        /// Padding of the depthwise convolution (default SAME).
        padding: Padding = Padding::Same,
        /// Layout of inputs and outputs (default NCHW).
        data_format: DataFormat = DataFormat::Nchw,
        /// Dilation rate of the depthwise convolution (default 1).
        rate: Pair = Pair::square(1),
        /// Pointwise weights initializer (default: the weights initializer, which initializes the depthwise weights).
        pointwise_initializer: Option<Initializer> = None,
    }
}

/// A call of [`separable_conv2d`](fn@separable_conv2d) being configured; finish it with
/// [`Call::call`](super::Call::call).
pub type Call = super::Call<SeparableConv2d>;

/// TF-Slim's `separable_conv2d(inputs, num_outputs, kernel_size, depth_multiplier, …)` in scope
/// `SeparableConv2d` (made unique) or the given scope. `depthwise_weights` are `[in·multiplier, 1, kh, kw]`
/// (with TF's fans: in·k in, multiplier·k out); with `Some(num_outputs)`, `pointwise_weights` are
/// `[num_outputs, in·multiplier, 1, 1]`. `None` makes a depthwise-only convolution, as MobileNet uses.
pub fn separable_conv2d(inputs: &Tensor, num_outputs: impl Into<Option<i64>>, kernel_size: impl Into<Pair>) -> Call {
    Call::new(inputs, (num_outputs.into(), kernel_size.into()), Args::default())
}

impl BuildLayer for SeparableConv2d {
    type Args = Args;
    type Positional = (Option<i64>, Pair);
    const DEFAULT_SCOPE: &'static str = "SeparableConv2d";
    const REPEAT_NAME: &'static str = "separable_convolution2d";

    fn build(
        scope: &LayerScope,
        inputs: &Tensor,
        (num_outputs, kernel): (Option<i64>, Pair),
        args: Args,
    ) -> Result<(Self, Tensor)> {
        let options = args.resolve();
        let name = scope.name.as_str();
        check_rank(name, "Separable convolution", inputs, &[4])?;
        validate(name, num_outputs, kernel, &options)?;
        let x = options.data_format.view_as_nchw(inputs);
        let in_channels = x.size()[1];
        let depthwise = depthwise_core(name, in_channels, kernel, &options)?;
        let pointwise = match num_outputs {
            Some(num_outputs) => Some(pointwise_core(name, in_channels, num_outputs, &options)?),
            None => None,
        };
        let (depthwise, pointwise) = attach_biases(depthwise, pointwise, &options)?;
        let layer_core = SeparableCore { depthwise, pointwise };
        let y = layer_core.forward(&x)?;
        let (tail, y) = Tail::build(
            scope,
            options.normalizer_fn.as_ref(),
            options.activation_fn.clone(),
            options.outputs_collections.clone(),
            y,
        )?;
        let out = options.data_format.view_from_nchw(y);
        Ok((SeparableConv2d { core: layer_core, tail, data_format: options.data_format }, out))
    }
}

impl HasVariables for SeparableConv2d {}

fn validate(scope: &str, num_outputs: Option<i64>, kernel: Pair, options: &Options) -> Result<()> {
    if let Some(n) = num_outputs.filter(|n| *n < 1) {
        return Err(Error::invalid(scope, format!("num_outputs must be positive or None, got {n}")));
    }
    if options.depth_multiplier < 1 {
        return Err(Error::invalid(
            scope,
            format!("depth_multiplier must be positive, got {}", options.depth_multiplier),
        ));
    }
    kernel.check_positive(scope, "kernel_size")?;
    options.stride.check_positive(scope, "stride")?;
    options.rate.check_positive(scope, "rate")?;
    let strided = options.stride.0 > 1 || options.stride.1 > 1;
    if strided && (options.rate.0 > 1 || options.rate.1 > 1) {
        return Err(Error::invalid(scope, "a rate greater than 1 cannot be combined with a stride greater than 1"));
    }
    Ok(())
}

fn depthwise_core(scope: &str, in_channels: i64, kernel: Pair, options: &Options) -> Result<ConvCore> {
    let multiplier = options.depth_multiplier;
    let spec = layer_params!(options).weights;
    let receptive = (kernel.0 * kernel.1) as f64;
    let fans = Fans { fan_in: in_channels as f64 * receptive, fan_out: multiplier as f64 * receptive };
    let shape = [in_channels * multiplier, 1, kernel.0, kernel.1];
    let weights = model_param("depthwise_weights", &shape, &spec, Some(fans))?;
    Ok(ConvCore {
        scope: scope.to_string(),
        weights,
        biases: None,
        kernel,
        stride: options.stride,
        rate: options.rate,
        padding: options.padding,
        groups: in_channels,
    })
}

fn pointwise_core(scope: &str, in_channels: i64, num_outputs: i64, options: &Options) -> Result<ConvCore> {
    let initializer = options.pointwise_initializer.as_ref().unwrap_or(&options.weights_initializer);
    let spec = ParamSpec { initializer, ..layer_params!(options).weights };
    let shape = [num_outputs, in_channels * options.depth_multiplier, 1, 1];
    let weights = model_param("pointwise_weights", &shape, &spec, None)?;
    Ok(ConvCore {
        scope: scope.to_string(),
        weights,
        biases: None,
        kernel: Pair::square(1),
        stride: Pair::square(1),
        rate: Pair::square(1),
        padding: Padding::Valid,
        groups: 1,
    })
}

/// Gives the last convolution its biases (`[outputs]`), unless a normalizer replaces them.
fn attach_biases(
    mut depthwise: ConvCore,
    mut pointwise: Option<ConvCore>,
    options: &Options,
) -> Result<(ConvCore, Option<ConvCore>)> {
    let last = pointwise.as_mut().unwrap_or(&mut depthwise);
    last.biases = layer_params!(options).biases(last.weights.size()[0])?;
    Ok((depthwise, pointwise))
}

/// The two convolutions.
#[derive(Debug)]
struct SeparableCore {
    depthwise: ConvCore,
    pointwise: Option<ConvCore>,
}

impl SeparableCore {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = self.depthwise.forward(x)?;
        match &self.pointwise {
            Some(pointwise) => pointwise.forward(&y),
            None => Ok(y),
        }
    }
}

/// A built `separable_conv2d` layer: apply it again with [`Layer::forward`].
#[derive(Debug)]
pub struct SeparableConv2d {
    core: SeparableCore,
    tail: Tail,
    data_format: DataFormat,
}

impl Layer for SeparableConv2d {
    fn name(&self) -> &str {
        self.tail.alias()
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.tail.forward_convolution("Separable convolution", self.data_format, x, |x| self.core.forward(x))
    }
}

impl SeparableConv2d {
    /// The depthwise weights, `[in·multiplier, 1, kh, kw]`.
    pub fn depthwise_weights(&self) -> &Tensor {
        &self.core.depthwise.weights
    }

    /// The pointwise weights, `[out, in·multiplier, 1, 1]`; absent for a depthwise-only layer.
    pub fn pointwise_weights(&self) -> Option<&Tensor> {
        self.core.pointwise.as_ref().map(|pointwise| &pointwise.weights)
    }

    /// The biases, absent with a normalizer or without a biases initializer.
    pub fn biases(&self) -> Option<&Tensor> {
        self.core.pointwise.as_ref().unwrap_or(&self.core.depthwise).biases.as_ref()
    }
}
