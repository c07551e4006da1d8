//! slim: TF-Slim reborn in Rust on libtorch. Define networks compactly without input sizes, with TF-Slim's
//! names, collections, arg scopes and numerics. This facade re-exports the runtime (`slim-core`) and the
//! macros (`slim-macros`); most programs only need `use slim::prelude::*;`.

pub use slim_core::{
    Error, Result, TorchContext, allocator, arg_scope, backend, checkpoint, conv_bias, data, dense_product, evaluation,
    initializers, io, layers, learning, losses, memory_format, metrics, mode, model, optimizers, regularizers, summary,
    variables,
};
pub use slim_macros::{add_arg_scope, arg_scope, model, repeat, stack};
pub use tch;

// The macros' expansions name `::slim::…`; this lets them work inside this crate too (the model zoo).
extern crate self as slim;

pub mod nets;

/// Everything a model definition or training script usually needs.
pub mod prelude {
    pub use slim_core::arg_scope::{ArgScope, ScopeArgs};
    pub use slim_core::initializers::*;
    pub use slim_core::layers::*;
    pub use slim_core::layers::{DataFormat::Nchw, DataFormat::Nhwc, Padding::Same, Padding::Valid};
    pub use slim_core::learning::create_train_op;
    pub use slim_core::losses::*;
    pub use slim_core::mode::Mode;
    pub use slim_core::model::{Built, Model, ModelOutput};
    pub use slim_core::optimizers::{
        Adadelta, Adagrad, Adam, AdamW, GradientDescent, LearningRate, Momentum, Optimizer, RmsProp,
    };
    pub use slim_core::regularizers::*;
    pub use slim_core::variables::collections::*;
    pub use slim_core::variables::*;
    pub use slim_core::{Error, Result};
    pub use slim_macros::{arg_scope, repeat, stack};
    pub use tch::{Device, Kind, Tensor};
}
