//! Training: `create_train_op` (gradients with multipliers and per-tensor clipping, numeric checks, update
//! ops, the optimizer step and the global step) and the `train` loop (restore or initialize, log, summarize,
//! checkpoint), as TF-Slim's `learning` module defines them.

mod train;
mod train_op;

pub use train::{Train, train};
pub use train_op::{TrainOp, TrainOpBuilder, create_train_op};
