//! `spatial_softmax`: each channel's softmax over its positions, reduced to the expected (x, y) position, a
//! keypoint per channel (TF-Slim's `spatial_softmax`, Levine et al. 2016).

use tch::{Device, Kind, Tensor};

use super::layer_scope::{LayerScope, check_channels, collect};
use super::params::{ParamSpec, model_param};
use super::protocol::{BuildLayer, HasVariables};
use super::types::Collections;
use crate::arg_scope::scope_args;
use crate::error::TorchContext;
use crate::initializers::Initializer;
use crate::model::tape::Layer;
use crate::variables::VarStore;
use crate::{Error, Result};

scope_args! {
    /// The arguments of [`spatial_softmax`](fn@spatial_softmax).
    pub struct Args => Options for "spatial_softmax" [Call] {
        /// The softmax temperature's initial value (default 1); the temperature is a model variable.
        temperature: Option<f64> = None,
        /// Whether the temperature is trainable (default true).
        trainable: bool = true,
        /// Extra collections for the temperature.
        variables_collections: Collections = Collections::default(),
        /// Collections the output is added to, under the layer's scope name.
        outputs_collections: Collections = Collections::default(),
    }
}

/// A call of [`spatial_softmax`](fn@spatial_softmax) being configured; finish it with
/// [`Call::call`](super::Call::call).
pub type Call = super::Call<SpatialSoftmax>;

/// TF-Slim's `spatial_softmax(features, …)` for `[N, C, H, W]` features: `[N, 2C]` keypoints `(x₀, y₀, x₁, …)`,
/// each the expected position under the softmax of `features / temperature` over the channel's positions, with
/// x running from −1 to 1 down the height and y across the width, as TF's. Scope `spatial_softmax`, variable
/// `temperature` (a scalar).
pub fn spatial_softmax(features: &Tensor) -> Call {
    Call::new(features, (), Args::default())
}

impl BuildLayer for SpatialSoftmax {
    type Args = Args;
    type Positional = ();
    const DEFAULT_SCOPE: &'static str = "spatial_softmax";
    const REPEAT_NAME: &'static str = "spatial_softmax";

    fn build(scope: &LayerScope, features: &Tensor, (): (), args: Args) -> Result<(Self, Tensor)> {
        let o = args.resolve();
        let [_, channels, _, _] = features.size()[..] else {
            return Err(Error::invalid(
                &scope.name,
                format!("expects [N, C, H, W] features, got {:?}", features.size()),
            ));
        };
        let initializer = Initializer::Constant(o.temperature.unwrap_or(1.0));
        let spec = ParamSpec {
            initializer: &initializer,
            regularizer: None,
            trainable: o.trainable,
            collections: &o.variables_collections,
        };
        let temperature = model_param("temperature", &[], &spec, None)?;
        let layer = SpatialSoftmax {
            name: scope.name.clone(),
            temperature,
            channels,
            outputs: o.outputs_collections,
            store: scope.store.clone(),
        };
        let out = layer.forward(features)?;
        Ok((layer, out))
    }
}

impl HasVariables for SpatialSoftmax {}

/// A built `spatial_softmax` layer.
#[derive(Debug)]
pub struct SpatialSoftmax {
    name: String,
    temperature: Tensor,
    channels: i64,
    outputs: Collections,
    store: VarStore,
}

impl Layer for SpatialSoftmax {
    fn name(&self) -> &str {
        &self.name
    }

    /// The `[N, 2C]` keypoints of `[N, C, H, W]` features.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let [n, _, height, width] = x.size()[..] else {
            return Err(Error::invalid(&self.name, format!("expects [N, C, H, W] features, got {:?}", x.size())));
        };
        check_channels(&self.name, x, self.channels)?;
        let keypoints = || -> tch::Result<Tensor> {
            let options = (x.kind(), x.device());
            let line = |steps: i64| Tensor::f_linspace(-1.0, 1.0, steps, (Kind::Float, Device::Cpu));
            let pos_x =
                line(height)?.f_view([height, 1])?.f_expand([height, width], false)?.f_reshape([height * width])?;
            let pos_y =
                line(width)?.f_view([1, width])?.f_expand([height, width], false)?.f_reshape([height * width])?;
            let positions = Tensor::f_stack(&[pos_x, pos_y], 1)?.f_to_kind(options.0)?.f_to_device(options.1)?;
            let attention =
                x.f_reshape([n * self.channels, height * width])?.f_div(&self.temperature)?.f_softmax(1, options.0)?;
            attention.f_matmul(&positions)?.f_reshape([n, self.channels * 2])
        };
        let y = keypoints().context(&self.name)?;
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }
}
