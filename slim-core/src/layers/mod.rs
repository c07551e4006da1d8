//! Layers with TF-Slim's names, defaults and numerics. Each is a builder (`conv2d(&x, 64, [3, 3]).stride(2)
//! .scope("conv1").call()?`) whose unset arguments come from the active arg scope, then TF-Slim's defaults;
//! `build()` also returns the layer, which can be applied again without any lookup.

pub mod activation;
mod batch_norm;
mod bias_add;
mod conv;
mod conv_transpose;
mod dropout;
mod flatten;
mod fully_connected;
mod layer_norm;
mod layer_scope;
mod lrn;
mod normalizer;
mod one_hot;
mod padding;
mod params;
mod pool;
pub(crate) mod repeat;
mod separable_conv;
mod softmax;
mod tail;
mod tape_layers;
pub mod types;
mod unit_norm;

pub use activation::{Activation, elu, relu, relu6, sigmoid, tanh};
pub use batch_norm::{BatchNorm, BatchNormArgs, BatchNormCall, BatchNormOptions, BatchNormParams, batch_norm};
pub use bias_add::{BiasAdd, BiasAddArgs, BiasAddCall, BiasAddOptions, bias_add};
pub use conv::{Conv2d, Conv2dArgs, Conv2dCall, Conv2dOptions, conv2d};
pub use conv_transpose::{
    Conv2dTranspose, Conv2dTransposeArgs, Conv2dTransposeCall, Conv2dTransposeOptions, conv2d_transpose,
};
pub use dropout::{Dropout, DropoutArgs, DropoutCall, DropoutOptions, dropout};
pub use flatten::flatten;
pub use fully_connected::{
    FullyConnected, FullyConnectedArgs, FullyConnectedCall, FullyConnectedOptions, fully_connected,
};
pub use layer_norm::{LayerNorm, LayerNormArgs, LayerNormCall, LayerNormOptions, layer_norm};
pub use lrn::local_response_normalization;
pub use normalizer::{Normalizer, NormalizerLayer};
pub use one_hot::one_hot_encoding;
pub use pool::{
    AvgPool2dArgs, AvgPool2dCall, AvgPool2dOptions, MaxPool2dArgs, MaxPool2dCall, MaxPool2dOptions, Pool2d, avg_pool2d,
    max_pool2d,
};
pub use repeat::{repeat, stack};
pub use separable_conv::{
    SeparableConv2d, SeparableConv2dArgs, SeparableConv2dCall, SeparableConv2dOptions, separable_conv2d,
};
pub use softmax::softmax;
pub use types::{Collections, DataFormat, Padding, Pair};
pub use unit_norm::unit_norm;
