//! Evaluation, as TF-Slim's `evaluation` module: score one checkpoint with streaming metrics and write the
//! values as summaries at the checkpoint's global step (`evaluate_once`), or score every new checkpoint that
//! training writes (`evaluation_loop`, `checkpoints_iterator`, `wait_for_new_checkpoint`), with hooks around
//! each evaluation (`EvaluationHook`), and two-view test-time augmentation (`mirror_averaged_logits`).

mod evaluate;
mod hooks;
mod test_time_flip;
mod watch;

pub use evaluate::{Evaluation, evaluation};
pub use hooks::EvaluationHook;
pub use test_time_flip::mirror_averaged_logits;
pub use watch::{CheckpointsIterator, checkpoints_iterator, wait_for_new_checkpoint};
