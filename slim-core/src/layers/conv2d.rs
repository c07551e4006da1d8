//! `conv2d`: 2-D convolution with TF padding, dilation, optional normalizer and activation.

use tch::Tensor;

use super::layer_scope::{LayerScope, check_channels, check_rank};
use super::padding::{dilated, pad_for_window};
use super::params::layer_params;
use super::params::weighted_layer_args;
use super::protocol::{BuildLayer, HasVariables};
use super::tail::Tail;
use super::types::{DataFormat, Padding, Pair};
use crate::backend::conv_bias::convolve;
use crate::backend::dense_product::dense;
use crate::backend::fused_convolution::{self, Epilogue};
use crate::backend::{autocast_inputs, depthwise_in_float32, memory_format};
use crate::error::TorchContext;
use crate::model::tape::Layer;
use crate::native::ConvGeometry;
use crate::{Error, Result};

weighted_layer_args! {
    /// The arguments of [`conv2d`](fn@conv2d).
    pub struct Args => Options for "conv2d" [Call] {
        /// Stride (default 1).
        stride: Pair = Pair::square(1),
        /// Padding (default SAME).
        padding: Padding = Padding::Same,
        /// Layout of inputs and outputs (default NCHW).
        data_format: DataFormat = DataFormat::Nchw,
        /// Dilation rate (default 1); a rate above 1 cannot be combined with a stride above 1.
        rate: Pair = Pair::square(1),
    }
}

/// A call of [`conv2d`](fn@conv2d) being configured; finish it with [`Call::call`](super::Call::call).
pub type Call = super::Call<Conv2d>;

/// TF-Slim's `conv2d(inputs, num_outputs, kernel_size, …)`. Weights are `[num_outputs, in_channels, kh, kw]`,
/// created from the first input in scope `Conv` (made unique) or the given scope.
pub fn conv2d(inputs: &Tensor, num_outputs: i64, kernel_size: impl Into<Pair>) -> Call {
    Call::new(inputs, (num_outputs, kernel_size.into()), Args::default())
}

impl BuildLayer for Conv2d {
    type Args = Args;
    type Positional = (i64, Pair);
    const DEFAULT_SCOPE: &'static str = "Conv";
    const REPEAT_NAME: &'static str = "convolution2d";

    fn build(
        scope: &LayerScope,
        inputs: &Tensor,
        (num_outputs, kernel): (i64, Pair),
        args: Args,
    ) -> Result<(Self, Tensor)> {
        let options = args.resolve();
        let name = scope.name.as_str();
        check_rank(name, "Convolution", inputs, &[4])?;
        let x = options.data_format.view_as_nchw(inputs);
        validate(name, num_outputs, kernel, &options)?;
        let in_channels = x.size()[1];
        let Pair(kh, kw) = kernel;
        let shape = [num_outputs, in_channels, kh, kw];
        let (weights, biases) = layer_params!(options).create(&shape, num_outputs)?;
        let core = ConvCore {
            scope: scope.name.clone(),
            weights,
            biases,
            kernel,
            stride: options.stride,
            rate: options.rate,
            padding: options.padding,
            groups: 1,
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
        Ok((Conv2d { core, tail, data_format: options.data_format }, out))
    }
}

impl HasVariables for Conv2d {}

fn validate(scope: &str, num_outputs: i64, kernel: Pair, options: &Options) -> Result<()> {
    if num_outputs < 1 {
        return Err(Error::invalid(scope, format!("num_outputs must be positive, got {num_outputs}")));
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

/// The convolution itself: weights, biases, TF padding.
#[derive(Debug)]
pub(crate) struct ConvCore {
    pub(crate) scope: String,
    pub(crate) weights: Tensor,
    pub(crate) biases: Option<Tensor>,
    pub(crate) kernel: Pair,
    pub(crate) stride: Pair,
    pub(crate) rate: Pair,
    pub(crate) padding: Padding,
    /// 1 for a full convolution; the input channels for a depthwise one (weights `[in·multiplier, 1, kh, kw]`).
    pub(crate) groups: i64,
}

/// How a convolution runs on its input: as one matrix product over the whole input, or windowed over the input
/// as laid out and padded for it.
enum Plan {
    WholeInput,
    Windowed(Tensor, ConvGeometry),
}

impl ConvCore {
    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self.plan(x)? {
            Plan::WholeInput => self.as_matrix_product(x),
            Plan::Windowed(x, geometry) => depthwise_in_float32(&self.scope, &x, &self.weights, geometry.groups, |x| {
                convolve(&self.scope, x, &self.weights, self.biases.as_ref(), geometry)
            }),
        }
    }

    /// The convolution with `epilogue` taken into its own call (batch norm folded into the weights, the ReLU as
    /// oneDNN's post-op), for `backend::fused_convolution::applies`'s case; `None` where it cannot (a whole-input
    /// product, a type the fused operator does not take).
    pub(crate) fn forward_fused(&self, x: &Tensor, epilogue: &Epilogue) -> Result<Option<Tensor>> {
        let Plan::Windowed(x, geometry) = self.plan(x)? else {
            return Ok(None);
        };
        depthwise_in_float32(&self.scope, &x, &self.weights, geometry.groups, |x| {
            self.windowed_fused(x, geometry, epilogue)
        })
    }

    /// [`ConvCore::forward_fused`] of the input as laid out and padded for the window.
    fn windowed_fused(&self, x: &Tensor, geometry: ConvGeometry, epilogue: &Epilogue) -> Result<Option<Tensor>> {
        let (weights, biases) = match &epilogue.norm {
            Some(norm) => {
                let (weights, biases) =
                    fused_convolution::folded(&self.weights, self.biases.as_ref(), norm).context(&self.scope)?;
                (weights, Some(biases))
            }
            None => (self.weights.shallow_clone(), self.biases.as_ref().map(Tensor::shallow_clone)),
        };
        match epilogue.relu {
            true => fused_convolution::convolve_relu(&self.scope, x, &weights, biases.as_ref(), geometry),
            false => convolve(&self.scope, x, &weights, biases.as_ref(), geometry).map(Some),
        }
    }

    /// Checks `x` against the weights and lays both out for the convolution.
    fn plan(&self, x: &Tensor) -> Result<Plan> {
        check_rank(&self.scope, "Convolution", x, &[4])?;
        check_channels(&self.scope, x, self.weights.size()[1] * self.groups)?;
        memory_format::conv_weights(&self.scope, &self.weights)?;
        if self.covers_whole_input(x) {
            return Ok(Plan::WholeInput);
        }
        let x = memory_format::conv_input(&self.scope, x)?;
        let window = dilated(self.kernel, self.rate);
        let (x, pad) = pad_for_window(&self.scope, &x, self.padding, window, self.stride, 0.0)?;
        let geometry = ConvGeometry {
            stride: self.stride.to_array(),
            padding: pad,
            dilation: self.rate.to_array(),
            groups: self.groups,
        };
        Ok(Plan::Windowed(x, geometry))
    }

    /// Whether the window is the whole unpadded input, so each output is one dot product per example: a fully
    /// connected layer written as a convolution (VGG's `fc6`–`fc8`, the logits of a pooled net).
    fn covers_whole_input(&self, x: &Tensor) -> bool {
        let size = x.size();
        let unit_rate = self.rate == Pair::square(1);
        let unpadded = self.padding == Padding::Valid || self.kernel == Pair::square(1);
        self.groups == 1 && unit_rate && unpadded && size[2] == self.kernel.0 && size[3] == self.kernel.1
    }

    /// The whole-input convolution as one matrix product (`[batch, k] × [k, out]`): libtorch's convolution
    /// would reorder the weights on every call, which for VGG's 7×7×512×4096 `fc6` costs more than the product.
    /// The flattening order follows the weights' memory layout, so neither side is copied.
    fn as_matrix_product(&self, x: &Tensor) -> Result<Tensor> {
        // `flatten` and `unsqueeze`, not reshapes to sizes read here, so a TorchScript trace keeps the batch free.
        let flatten = |t: &Tensor| match memory_format::is_channels_last(&self.weights) {
            true => t.f_permute([0, 2, 3, 1]).and_then(|t| t.f_flatten(1, -1)),
            false => t.f_flatten(1, -1),
        };
        let rows = flatten(x).context(&self.scope)?;
        // Cast (under autocast) before flattening, so inference keeps the variable's cast between calls.
        let cast = autocast_inputs(x.device());
        let weights = cast(&self.weights).and_then(|weights| flatten(&weights)).context(&self.scope)?;
        let biases = self.biases.as_ref().map(&cast).transpose().context(&self.scope)?;
        dense(&self.scope, &rows, &weights, biases.as_ref())?
            .f_unsqueeze(-1)
            .and_then(|y| y.f_unsqueeze(-1))
            .context(&self.scope)
    }
}

/// A built `conv2d` layer: apply it again with [`Layer::forward`] (no lookups, no allocation beyond the ops).
#[derive(Debug)]
pub struct Conv2d {
    core: ConvCore,
    tail: Tail,
    data_format: DataFormat,
}

impl Layer for Conv2d {
    fn name(&self) -> &str {
        self.tail.alias()
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let core = |x: &Tensor| self.core.forward(x);
        let fused_core = |x: &Tensor, epilogue: &Epilogue| self.core.forward_fused(x, epilogue);
        self.tail.forward_convolution_fused("Convolution", self.data_format, x, core, fused_core)
    }
}

impl Conv2d {
    /// The weights, `[out, in, kh, kw]`.
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
    use crate::backend::Config;
    use crate::layers::{Normalizer, batch_norm};
    use crate::mode::Mode;
    use crate::native::{StepTrace, fused_convolution_available};
    use crate::variables::VarStore;
    use tch::{Device, Kind};

    /// The libtorch operators `f` ran, as the profiler's trace names them (one trace at a time in this process).
    fn traced(f: impl FnOnce() -> Tensor) -> (Tensor, String) {
        static ONE_TRACE: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = ONE_TRACE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let path = std::env::temp_dir().join(format!("slim-fused-convolution-{}.json", std::process::id()));
        let trace = StepTrace::start().unwrap();
        let out = f();
        trace.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        (out, text)
    }

    fn assert_close(a: &Tensor, b: &Tensor) {
        assert_eq!(a.size(), b.size());
        let difference = (a - b).abs().max().double_value(&[]);
        assert!(difference < 1e-5 * (1.0 + b.abs().max().double_value(&[])), "{difference}");
    }

    #[test]
    fn without_gradients_a_relu_convolution_is_one_fused_call_with_the_plain_values() {
        if !fused_convolution_available() {
            return; // a libtorch without oneDNN: nothing to fuse
        }
        tch::manual_seed(0);
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let x = Tensor::randn([2, 3, 9, 9], (Kind::Float, Device::Cpu));
        let (layer, _) = conv2d(&x, 4, [3, 3]).stride(2).build().unwrap();
        let unfused = Config { fused_convolution: Some(false), ..Config::default() };
        let plain = unfused.scoped(|| tch::no_grad(|| layer.forward(&x))).unwrap();
        let (fused, trace) = traced(|| tch::no_grad(|| layer.forward(&x)).unwrap());
        assert!(trace.contains("mkldnn::_convolution_pointwise"), "the fused operator ran");
        assert_close(&fused, &plain);
        let recorded = layer.forward(&x).unwrap();
        assert!(recorded.requires_grad(), "with gradients recorded, the differentiable path");
        assert_close(&recorded, &plain);
    }

    #[test]
    fn in_eval_mode_without_gradients_batch_norm_is_folded_into_the_convolution() {
        if !fused_convolution_available() {
            return;
        }
        tch::manual_seed(1);
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let x = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        let normalizer = Normalizer::BatchNorm(batch_norm::Args::default().scale(true));
        let (with_relu, _) = conv2d(&x, 5, [3, 3]).normalizer_fn(normalizer.clone()).build().unwrap();
        let (linear, _) = conv2d(&x, 5, [3, 3]).normalizer_fn(normalizer).activation_fn(None).build().unwrap();
        for variable in vs.variables() {
            let values = match variable.name().rsplit('/').next().unwrap() {
                "moving_variance" => Tensor::rand([5], (Kind::Float, Device::Cpu)) + 0.5,
                "moving_mean" | "beta" | "gamma" => Tensor::randn([5], (Kind::Float, Device::Cpu)),
                _ => continue,
            };
            tch::no_grad(|| variable.tensor().shallow_clone().copy_(&values));
        }
        let _eval = Mode::Eval.enter();
        let unfused = Config { fused_convolution: Some(false), ..Config::default() };
        for (layer, operator) in [(&with_relu, "mkldnn::_convolution_pointwise"), (&linear, "aten::convolution")] {
            let plain = unfused.scoped(|| tch::no_grad(|| layer.forward(&x))).unwrap();
            let (fused, trace) = traced(|| tch::no_grad(|| layer.forward(&x)).unwrap());
            assert!(trace.contains(operator) && !trace.contains("batch_norm"), "batch norm folded into {operator}");
            assert_close(&fused, &plain);
        }
        let _train = Mode::Train.enter();
        let (_, trace) = traced(|| tch::no_grad(|| with_relu.forward(&x)).unwrap());
        assert!(trace.contains("batch_norm"), "training mode normalizes with the batch's statistics");
    }

    /// In training, a layer built by `build` with a batch-norm normalizer (and its default ReLU) on `x` runs slim's
    /// fused call and no ReLU op; with the fused path off, libtorch's batch norm and ReLU; the same values either way.
    fn assert_batch_norm_takes_the_relu<L: Layer>(x: Tensor, build: impl FnOnce(&Tensor, Normalizer) -> L) {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let _train = Mode::Train.enter();
        let layer = build(&x, Normalizer::BatchNorm(batch_norm::Args::default().scale(true)));
        let run = |fused: bool| {
            let config = Config { fused_batch_norm: Some(fused), channels_last: Some(true), ..Config::default() };
            config.scoped(|| traced(|| layer.forward(&x).unwrap()))
        };
        let ((fused, trace), (plain, plain_trace)) = (run(true), run(false));
        let relu = |trace: &str| trace.contains("aten::relu") || trace.contains("aten::clamp_min");
        assert!(trace.contains("slim::batch_norm_relu") && !relu(&trace), "one fused call");
        assert!(plain_trace.contains("aten::batch_norm") && relu(&plain_trace), "switched off: libtorch's two");
        assert_close(&fused, &plain);
    }

    #[test]
    fn in_training_batch_norm_takes_the_layers_relu_into_its_fused_call() {
        tch::manual_seed(2);
        let x = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        assert_batch_norm_takes_the_relu(x, |x, normalizer| {
            conv2d(x, 16, [3, 3]).normalizer_fn(normalizer).build().unwrap().0
        });
    }

    #[test]
    fn in_training_a_fully_connected_layers_batch_norm_takes_its_relu_too() {
        tch::manual_seed(3);
        let x = Tensor::randn([12, 20], (Kind::Float, Device::Cpu));
        assert_batch_norm_takes_the_relu(x, |x, normalizer| {
            crate::layers::fully_connected(x, 24).normalizer_fn(normalizer).build().unwrap().0
        });
    }
}
