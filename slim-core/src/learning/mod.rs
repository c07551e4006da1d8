//! Training: `create_train_op` (gradients with multipliers and per-tensor clipping, numeric checks, update
//! ops, the optimizer step and the global step), as TF-Slim's `learning` module defines it.

mod train_op;

pub use train_op::{TrainOp, TrainOpBuilder, create_train_op};
