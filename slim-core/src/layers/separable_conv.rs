//! `separable_conv2d`: a depthwise convolution, then (unless `num_outputs` is `None`) a pointwise 1×1 one.

use tch::Tensor;

use super::conv::ConvCore;
use super::layer_scope::{self, check_rank};
use super::params::weighted_layer_args;
use super::params::{ParamSpec, layer_params, model_param};
use super::repeat::layer_call;
use super::tail::Tail;
use super::types::{DataFormat, Padding, Pair};
use crate::initializers::{Fans, Initializer};
use crate::{Error, Result};

weighted_layer_args! {
    /// The arguments of [`separable_conv2d`].
    pub struct SeparableConv2dArgs => SeparableConv2dOptions for "separable_conv2d" [SeparableConv2dCall] {
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

/// A call of [`separable_conv2d`] being configured; finish it with [`SeparableConv2dCall::call`].
#[derive(Debug)]
pub struct SeparableConv2dCall {
    inputs: Tensor,
    num_outputs: Option<i64>,
    kernel_size: Pair,
    args: SeparableConv2dArgs,
    scope: Option<String>,
    reuse: bool,
}

layer_call!(
    SeparableConv2dCall,
    SeparableConv2dArgs,
    default_scope: "SeparableConv2d",
    repeat_name: "separable_convolution2d"
);

/// TF-Slim's `separable_conv2d(inputs, num_outputs, kernel_size, depth_multiplier, …)` in scope
/// `SeparableConv2d` (made unique) or the given scope. `depthwise_weights` are `[in·multiplier, 1, kh, kw]`
/// (with TF's fans: in·k in, multiplier·k out); with `Some(num_outputs)`, `pointwise_weights` are
/// `[num_outputs, in·multiplier, 1, 1]`. `None` makes a depthwise-only convolution, as MobileNet uses.
pub fn separable_conv2d(
    inputs: &Tensor,
    num_outputs: impl Into<Option<i64>>,
    kernel_size: impl Into<Pair>,
) -> SeparableConv2dCall {
    SeparableConv2dCall {
        inputs: inputs.shallow_clone(),
        num_outputs: num_outputs.into(),
        kernel_size: kernel_size.into(),
        args: SeparableConv2dArgs::default(),
        scope: None,
        reuse: false,
    }
}

impl SeparableConv2dCall {
    /// Creates (or reuses) the variables and applies the layer; returns the layer, to apply again, and the output.
    pub fn build(self) -> Result<(SeparableConv2d, Tensor)> {
        let options = self.args.resolve_in_scope();
        let scope = layer_scope::open(self.scope.as_deref(), "SeparableConv2d", self.reuse)?;
        let name = scope.name.as_str();
        check_rank(name, "Separable convolution", &self.inputs, &[4])?;
        validate(name, self.num_outputs, self.kernel_size, &options)?;
        let x = options.data_format.view_as_nchw(&self.inputs);
        let in_channels = x.size()[1];
        let depthwise = depthwise_core(name, in_channels, self.kernel_size, &options)?;
        let pointwise = match self.num_outputs {
            Some(num_outputs) => Some(pointwise_core(name, in_channels, num_outputs, &options)?),
            None => None,
        };
        let (depthwise, pointwise) = attach_biases(depthwise, pointwise, &options)?;
        let layer_core = SeparableCore { depthwise, pointwise };
        let y = layer_core.forward(&x)?;
        let (tail, y) = Tail::build(
            &scope,
            options.normalizer_fn.as_ref(),
            options.activation_fn.clone(),
            options.outputs_collections.clone(),
            y,
        )?;
        let out = options.data_format.view_from_nchw(y);
        Ok((SeparableConv2d { core: layer_core, tail, data_format: options.data_format }, out))
    }
}

fn validate(scope: &str, num_outputs: Option<i64>, kernel: Pair, options: &SeparableConv2dOptions) -> Result<()> {
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

fn depthwise_core(scope: &str, in_channels: i64, kernel: Pair, options: &SeparableConv2dOptions) -> Result<ConvCore> {
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

fn pointwise_core(
    scope: &str,
    in_channels: i64,
    num_outputs: i64,
    options: &SeparableConv2dOptions,
) -> Result<ConvCore> {
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
    options: &SeparableConv2dOptions,
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

/// A built `separable_conv2d` layer: apply it again with [`SeparableConv2d::forward`].
#[derive(Debug)]
pub struct SeparableConv2d {
    core: SeparableCore,
    tail: Tail,
    data_format: DataFormat,
}

impl SeparableConv2d {
    /// Applies the layer to `x` in the current [`Mode`](crate::mode::Mode).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_rank(&self.core.depthwise.scope, "Separable convolution", x, &[4])?;
        let y = self.core.forward(&self.data_format.view_as_nchw(x))?;
        Ok(self.data_format.view_from_nchw(self.tail.forward(y)?))
    }

    /// The layer's full scope name.
    pub fn name(&self) -> &str {
        self.tail.alias()
    }

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
