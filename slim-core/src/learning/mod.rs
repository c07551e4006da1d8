//! Training: `create_train_op` (gradients with multipliers and per-tensor clipping, numeric checks, update
//! ops, the optimizer step, the global step and moving averages; data-parallel over ranks, or accumulated over
//! micro-batches) and the `train` loop (restore or initialize, log, summarize, checkpoint), as TF-Slim's
//! `learning` module defines them.

mod accumulate;
mod gradient_multiplier;
mod interrupt;
mod loss_scale;
mod moving_average;
mod step_summaries;
mod step_threads;
mod train;
mod train_op;

pub use gradient_multiplier::{GradientMultiplier, SharedValue};
pub use interrupt::ctrl_c_flag;
pub use loss_scale::{CURRENT_LOSS_SCALE, DynamicLossScale, GOOD_STEPS};
pub use moving_average::{ExponentialMovingAverage, MOVING_AVERAGE_SUFFIX, average_names};
pub use step_summaries::StepSummaries;
pub use train::{Train, train};
pub use train_op::{TrainOp, TrainOpBuilder, create_train_op};
