//! slim: TF-Slim reborn in Rust on libtorch. Define networks compactly without input sizes, with TF-Slim's
//! names, collections, arg scopes and numerics. This facade re-exports the runtime (`slim-core`) and the
//! macros (`slim-macros`); most programs only need `use slim::prelude::*;`.

pub use macros::{add_arg_scope, arg_scope, model, repeat, stack};
pub use slim_core::{
    Error, Result, TorchContext, arg_scope, backend, checkpoint, data, evaluation, initializers, io, layers, learning,
    losses, metrics, mode, model, optimizers, regularizers, summary, variables,
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
/// CPU switches stay in their modules.
pub mod prelude {
    pub use crate::macros::{arg_scope, repeat, stack};
    pub use slim_core::arg_scope::{ArgScope, ScopeArgs};
    pub use slim_core::initializers::{
        FanMode, Initializer, constant_initializer, ones_initializer, orthogonal_initializer, random_normal,
        random_uniform, truncated_normal, variance_scaling_initializer, xavier_initializer, zeros_initializer,
    };
    pub use slim_core::layers::{
        Activation, BatchNormParams, Collections, DataFormat, DataFormat::Nchw, DataFormat::Nhwc, Layer, Normalizer,
        Padding, Padding::Same, Padding::Valid, Pair, avg_pool2d, batch_norm, bias_add, conv2d, conv2d_transpose,
        dropout, elu, flatten, fully_connected, layer_norm, local_response_normalization, max_pool2d, one_hot_encoding,
        relu, relu6, repeat, separable_conv2d, sigmoid, softmax, stack, tanh, unit_norm,
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
