//! slim: TF-Slim reborn in Rust on libtorch. Define networks compactly without input sizes, with TF-Slim's
//! names, collections, arg scopes and numerics; train them with one call that checkpoints and logs; fine-tune
//! from TF-Slim's and PyTorch's checkpoints; score them with streaming metrics. This facade re-exports the
//! runtime (`slim-core`) and the macros (`slim-macros`), and holds TF-Slim's model zoo, data sets and
//! preprocessings; most programs only need `use slim::prelude::*;`.
//!
//! # Setting up
//!
//! The package is `tch-slim` (`tch-slim = "0.1"` in Cargo.toml); the library is `slim`. libtorch 2.13.0 must be
//! named by `LIBTORCH` before anything builds: `cargo install tch-slim-setup`, then `slim-setup configure` in
//! your crate provisions it (from PyPI, into a shared cache, or your own exported `LIBTORCH`, e.g. a CUDA build)
//! and writes `.cargo/config.toml` and a `build.rs` that records its rpath.
//!
//! # Quick start
//!
//! ```
//! use slim::prelude::*;
//!
//! #[slim::model]
//! struct Mlp {
//!     num_classes: i64,
//! }
//!
//! #[slim::model]
//! impl Mlp {
//!     fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
//!         arg_scope!([fully_connected], weights_regularizer = l2_regularizer(1e-4) => {
//!             let net = fully_connected(inputs, 32, scope = "fc1");
//!             fully_connected(net, self.num_classes, activation_fn = None, scope = "logits")
//!         })
//!     }
//! }
//!
//! # fn main() -> slim::Result<()> {
//! let vs = VarStore::new(Device::Cpu);
//! let model = Mlp { num_classes: 3 }.build(&vs, "mlp", &[1, 8])?; // variables from an example shape
//! let mut train_op = create_train_op(&vs, Momentum::new(0.9)?, 0.1).build()?;
//! let _store = vs.as_default();
//! let images = Tensor::randn([16, 8], (Kind::Float, Device::Cpu));
//! let labels = Tensor::from_slice(&[0i64, 1, 2, 1]).repeat([4]);
//! let first = train_op.step(|| {
//!     let logits = model.forward_t(&images, Mode::Train)?.output; // replays the recorded layers
//!     let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?;
//!     get_total_loss(true) // the cross entropy plus the l2 regularization losses
//! })?;
//! assert!(first.is_finite() && train_op.global_step() == 1);
//! assert_eq!(vs.variable("mlp/fc1/weights").map(|w| w.shape()), Some(vec![32, 8]));
//! # Ok(())
//! # }
//! ```
//!
//! # Concepts
//!
//! - **Variables, scopes and collections** ([`variables`]): every variable has a TF-Slim name
//!   (`vgg_16/conv1/conv1_1/weights`) from the [`VariableScope`](variables::VariableScope)s it was created in,
//!   lives in a [`VarStore`](variables::VarStore), and belongs to collections (`GLOBAL_VARIABLES`,
//!   `TRAINABLE_VARIABLES`, `MODEL_VARIABLES`, `LOSSES`, `UPDATE_OPS`, …).
//! - **Layers** ([`layers`]): builders with TF-Slim's defaults (`conv2d(&x, 64, 3).stride(2).call()?`); each
//!   layer's keyword arguments are its module's `Args` (`layers::conv2d::Args`), which [`arg_scope!`] sets for
//!   every call inside it, as TF-Slim's `arg_scope` does. Your own blocks get keywords with [`add_arg_scope`].
//! - **Models and the tape** ([`model`](mod@model)): [`macro@model`] turns an `impl` with `fn forward` into a
//!   [`Model`](model::Model); `build` runs it once on an example shape, creating the variables and recording
//!   the layers, and every later pass replays them with no name or variable lookups.
//! - **Training** ([`learning`]): [`create_train_op`](learning::create_train_op) (optimizer, learning-rate
//!   schedule, clipping, multipliers, update ops, the numeric check) and [`train`](learning::train), the loop
//!   that restores, steps, logs, writes summaries and checkpoints.
//! - **Checkpoints and fine-tuning** ([`checkpoint`]): slim's safetensors checkpoints, TF-Slim's V2
//!   checkpoints and PyTorch's `torch.save` files, through one reader; [`restore`](checkpoint::restore)
//!   resumes, [`assign_from_checkpoint`](checkpoint::assign_from_checkpoint) fine-tunes with renames and
//!   exclusions.
//! - **Evaluation** ([`metrics`], [`evaluation`]): streaming metrics and `evaluate_once` / `evaluation_loop`.
//! - **Data** ([`data`], [`datasets`], [`preprocessing`]): data sets in memory, a seeded, resumable
//!   [`Provider`](data::Provider) of batches, and TF-Slim's preprocessings.
//! - **The zoo** ([`nets`]): TF-Slim's nets with TF-Slim's variable names.
//! - **CPU paths** ([`backend`]): the switches of slim's CPU speed paths, scoped with `Config::scoped`, and
//!   mixed precision (`Precision::Bf16`, `Precision::F16`: bfloat16 and float16 autocast).

pub use macros::{add_arg_scope, arg_scope, model, repeat, stack};
pub use slim_core::{
    Error, Result, TorchContext, arg_scope, backend, checkpoint, data, distributed, evaluation, initializers, io,
    layers, learning, losses, metrics, mode, model, optimizers, regularizers, summary, variables,
};
pub use tch;

/// What the macros' expansions name; not part of slim's API.
#[doc(hidden)]
pub use slim_core::__private;

// The macros' expansions name `::slim::…`; this lets them work inside this crate too (the model zoo).
extern crate self as slim;

pub mod datasets;
mod macros;
pub mod nets;
pub mod preprocessing;

/// What a model definition or training script usually needs, listed name by name: the layers (each name
/// brings the function and its module, whose `Args` arg scopes set), the [`Layer`](slim_core::layers::Layer)
/// trait of built layers, activations, initializers, regularizers, losses, optimizers, variables, scopes
/// and collections, models, and tch's `Tensor`, `Device` and `Kind`. Built-layer types, call builders and the
/// CPU switches and precision (in [`backend`]; `Precision` would clash with the metric) stay in their modules.
pub mod prelude {
    pub use crate::macros::{arg_scope, repeat, stack};
    pub use slim_core::arg_scope::{ArgScope, ScopeArgs};
    pub use slim_core::initializers::{
        FanMode, Initializer, constant_initializer, ones_initializer, orthogonal_initializer, random_normal,
        random_uniform, truncated_normal, variance_scaling_initializer, xavier_initializer, zeros_initializer,
    };
    pub use slim_core::layers::{
        Activation, BatchNormParams, Collections, DataFormat, DataFormat::Nchw, DataFormat::Nhwc, Dims, Layer,
        Normalizer, Padding, Padding::Same, Padding::Valid, Pair, RenormClipping, avg_pool2d, avg_pool3d, batch_norm,
        bias_add, conv1d, conv2d, conv2d_in_plane, conv2d_transpose, conv3d, conv3d_transpose, convolution, drop_path,
        dropout, elu, end_point, flatten, fully_connected, gdn, group_norm, hard_swish, images_to_sequence,
        instance_norm, layer_norm, leaky_relu, local_response_normalization, max_pool2d, max_pool3d, maxout,
        one_hot_encoding, relu, relu6, repeat, scale_gradient, separable_conv2d, sequence_to_images, sigmoid, softmax,
        spatial_softmax, stack, tanh, unit_norm,
    };
    pub use slim_core::learning::create_train_op;
    pub use slim_core::losses::{
        Weights, absolute_difference, add_loss, compute_weighted_loss, cosine_distance, get_losses,
        get_regularization_losses, get_total_loss, hinge_loss, log_loss, mean_squared_error, sigmoid_cross_entropy,
        softmax_cross_entropy, sparse_softmax_cross_entropy,
    };
    pub use slim_core::mode::Mode;
    pub use slim_core::model::{Built, Model, ModelOutput};
    pub use slim_core::optimizers::{
        Adadelta, Adagrad, Adam, AdamW, GradientDescent, LearningRate, Momentum, Optimizer, RmsProp,
    };
    pub use slim_core::regularizers::{
        Regularizer, l1_l2_regularizer, l1_regularizer, l2_regularizer, sum_regularizer,
    };
    pub use slim_core::variables::collections::{
        GLOBAL_STEP, GLOBAL_VARIABLES, LOCAL_VARIABLES, LOSSES, MODEL_VARIABLES, REGULARIZATION_LOSSES,
        TRAINABLE_VARIABLES, UPDATE_OPS,
    };
    pub use slim_core::variables::{
        ModelVariableArgs, Reuse, VarStore, Variable, VariableArgs, VariablePattern, VariableScope, add_model_variable,
        create_global_step, current_scope_name, filter_variables, get_global_step, get_global_variables,
        get_local_variables, get_model_variables, get_or_create_global_step, get_trainable_variables,
        get_unique_variable, get_variables, get_variables_by_name, get_variables_by_suffix, get_variables_to_restore,
        global_variable, local_variable, model_variable, variable,
    };
    pub use slim_core::{Error, Result};
    pub use tch::{Device, Kind, Tensor};
}
