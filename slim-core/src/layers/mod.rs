//! Layers with TF-Slim's names, defaults and numerics. Each is a builder (`conv2d(&x, 64, [3, 3]).stride(2)
//! .scope("conv1").call()?`) whose unset arguments come from the active arg scope, then TF-Slim's defaults;
//! `build()` also returns the layer, which can be applied again without any lookup. Every layer `op` has a
//! module of its name holding its arguments (`op::Args`, what arg scopes set), resolved options and call type,
//! as functions made with `#[slim::add_arg_scope]` do; the protocol they share is [`BuildLayer`].

pub mod activation;
pub mod batch_norm;
mod batch_renorm;
pub mod bias_add;
mod call;
pub mod conv2d;
pub mod conv2d_in_plane;
pub mod conv2d_transpose;
mod dense_to_sparse;
pub mod dropout;
mod end_point;
mod flatten;
pub mod fully_connected;
pub mod group_norm;
mod image_sequence;
pub mod instance_norm;
pub mod layer_norm;
mod layer_scope;
mod lrn;
mod maxout;
mod normalizer;
mod one_hot;
mod padding;
mod params;
mod pool;
mod protocol;
pub(crate) mod repeat;
mod scale_gradient;
pub mod separable_conv2d;
mod softmax;
pub mod spatial_softmax;
mod tail;
pub mod types;
mod unit_norm;
mod zero_debias;

pub use activation::{Activation, elu, hard_swish, leaky_relu, relu, relu6, sigmoid, tanh};
pub use batch_norm::{BatchNorm, BatchNormParams, batch_norm};
pub use batch_renorm::RenormClipping;
pub use bias_add::{BiasAdd, bias_add};
pub use call::Call;
pub use conv2d::{Conv2d, conv2d};
pub use conv2d_in_plane::{Conv2dInPlane, conv2d_in_plane};
pub use conv2d_transpose::{Conv2dTranspose, conv2d_transpose};
pub use dense_to_sparse::{SparseParts, dense_to_sparse};
pub use dropout::{Dropout, dropout};
pub use end_point::end_point;
pub use flatten::flatten;
pub use fully_connected::{FullyConnected, fully_connected};
pub use group_norm::{GroupNorm, group_norm};
pub use image_sequence::{images_to_sequence, sequence_to_images};
pub use instance_norm::{InstanceNorm, instance_norm};
pub use layer_norm::{LayerNorm, layer_norm};
pub use layer_scope::LayerScope;
pub use lrn::local_response_normalization;
pub use maxout::maxout;
pub use normalizer::{Normalizer, NormalizerLayer};
pub use one_hot::one_hot_encoding;
pub use pool::avg_pool2d::{AvgPool2d, avg_pool2d};
pub use pool::max_pool2d::{MaxPool2d, max_pool2d};
pub use pool::{avg_pool2d, max_pool2d};
pub use protocol::{BuildLayer, HasVariables};
pub use repeat::{repeat, stack};
pub use scale_gradient::scale_gradient;
pub use separable_conv2d::{SeparableConv2d, separable_conv2d};
pub use softmax::softmax;
pub use spatial_softmax::{SpatialSoftmax, spatial_softmax};
pub use types::{Collections, DataFormat, Padding, Pair};
pub use unit_norm::unit_norm;

pub use crate::model::tape::Layer;
