//! Evaluation, as TF-Slim's `evaluation` module: score one checkpoint with streaming metrics and write the
//! values as summaries at the checkpoint's global step (`evaluate_once`), or score every new checkpoint that
//! training writes (`evaluation_loop`, `checkpoints_iterator`, `wait_for_new_checkpoint`), with hooks around
//! each evaluation (`EvaluationHook`).

mod evaluate;
mod hooks;
mod watch;

pub use evaluate::{Evaluation, evaluation};
pub use hooks::EvaluationHook;
pub use watch::{CheckpointsIterator, checkpoints_iterator, wait_for_new_checkpoint};
