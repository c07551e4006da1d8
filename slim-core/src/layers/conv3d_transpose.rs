//! `conv3d_transpose`: the transposed 3-D convolution, with TF's output sizes per axis (SAME: `in·s`; VALID:
//! `in·s + max(k − s, 0)`).

use tch::Tensor;

use super::conv2d_transpose::AxisPlan;
use super::layer_scope::{LayerScope, check_channels, check_rank};
use super::params::layer_params;
use super::params::weighted_layer_args;
use super::protocol::{BuildLayer, HasVariables};
use super::tail::Tail;
use super::types::{DataFormat, Dims, Padding};
use crate::error::TorchContext;
use crate::model::tape::Layer;
use crate::{Error, Result};

weighted_layer_args! {
    /// The arguments of [`conv3d_transpose`](fn@conv3d_transpose).
    pub struct Args => Options for "conv3d_transpose" [Call] {
        /// Stride (default 1): the factor by which each spatial size grows, one for all axes or one per axis.
        stride: Dims = Dims::All(1),
        /// Padding (default SAME).
        padding: Padding = Padding::Same,
        /// Where the channels are (default `Nchw`: first, NCDHW; `Nhwc`: last, TF's NDHWC).
        data_format: DataFormat = DataFormat::Nchw,
    }
}

/// A call of [`conv3d_transpose`](fn@conv3d_transpose) being configured; finish it with
/// [`Call::call`](super::Call::call).
pub type Call = super::Call<Conv3dTranspose>;

/// TF-Slim's `conv3d_transpose(inputs, num_outputs, kernel_size, …)` of `[N, C, D, H, W]` inputs. Weights are
/// `[in_channels, num_outputs, kd, kh, kw]` (TF's `[kd, kh, kw, out, in]` in libtorch's layout, with the same
/// fans), created from the first input in scope `Conv3d_transpose` (made unique) or the given scope.
pub fn conv3d_transpose(inputs: &Tensor, num_outputs: i64, kernel_size: impl Into<Dims>) -> Call {
    Call::new(inputs, (num_outputs, kernel_size.into()), Args::default())
}

impl BuildLayer for Conv3dTranspose {
    type Args = Args;
    type Positional = (i64, Dims);
    const DEFAULT_SCOPE: &'static str = "Conv3d_transpose";
    const REPEAT_NAME: &'static str = "convolution3d_transpose";

    fn build(
        scope: &LayerScope,
        inputs: &Tensor,
        (num_outputs, kernel): (i64, Dims),
        args: Args,
    ) -> Result<(Self, Tensor)> {
        let options = args.resolve();
        let name = scope.name.as_str();
        check_rank(name, "Transposed 3-D convolution", inputs, &[5])?;
        if num_outputs < 1 {
            return Err(Error::invalid(name, format!("num_outputs must be positive, got {num_outputs}")));
        }
        let kernel = kernel.resolve(3, name, "kernel_size")?;
        let stride = options.stride.resolve(3, name, "stride")?;
        let x = options.data_format.view_channels_first(inputs);
        let shape = [x.size()[1], num_outputs, kernel[0], kernel[1], kernel[2]];
        let (weights, biases) = layer_params!(options).create(&shape, num_outputs)?;
        let core =
            Transpose3dCore { scope: scope.name.clone(), weights, biases, kernel, stride, padding: options.padding };
        let y = core.forward(&x)?;
        let (tail, y) = Tail::build(
            scope,
            options.normalizer_fn.as_ref(),
            options.activation_fn.clone(),
            options.outputs_collections.clone(),
            y,
        )?;
        let out = options.data_format.view_from_channels_first(y);
        Ok((Conv3dTranspose { core, tail, data_format: options.data_format }, out))
    }
}

impl HasVariables for Conv3dTranspose {}

/// The transposed convolution itself.
#[derive(Debug)]
struct Transpose3dCore {
    scope: String,
    weights: Tensor,
    biases: Option<Tensor>,
    kernel: Vec<i64>,
    stride: Vec<i64>,
    padding: Padding,
}

impl Transpose3dCore {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_rank(&self.scope, "Transposed 3-D convolution", x, &[5])?;
        check_channels(&self.scope, x, self.weights.size()[0])?;
        let size = x.size();
        let plans: Vec<AxisPlan> = (0..3)
            .map(|axis| AxisPlan::new(size[axis + 2], self.kernel[axis], self.stride[axis], self.padding))
            .collect();
        let padding: Vec<i64> = plans.iter().map(|plan| plan.padding).collect();
        let output_padding: Vec<i64> = plans.iter().map(|plan| plan.output_padding).collect();
        let y = x
            .f_convolution(
                &self.weights,
                self.biases.as_ref(),
                &self.stride,
                &padding,
                [1, 1, 1],
                true,
                &output_padding,
                1,
            )
            .context(&self.scope)?;
        plans
            .iter()
            .enumerate()
            .try_fold(y, |y, (axis, plan)| y.f_narrow(axis as i64 + 2, 0, plan.output).context(&self.scope))
    }
}

/// A built `conv3d_transpose` layer: apply it again with [`Layer::forward`].
#[derive(Debug)]
pub struct Conv3dTranspose {
    core: Transpose3dCore,
    tail: Tail,
    data_format: DataFormat,
}

impl Layer for Conv3dTranspose {
    fn name(&self) -> &str {
        self.tail.alias()
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_rank(self.tail.alias(), "Transposed 3-D convolution", x, &[5])?;
        let y = self.core.forward(&self.data_format.view_channels_first(x))?;
        Ok(self.data_format.view_from_channels_first(self.tail.forward(y)?))
    }
}

impl Conv3dTranspose {
    /// The weights, `[in, out, kd, kh, kw]`.
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
    use tch::{Device, Kind, Tensor};

    use super::conv3d_transpose;
    use crate::layers::{Padding, conv2d_transpose};
    use crate::variables::VarStore;

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
