//! Evaluation hooks: code run when an evaluation begins, after each of its batches, and when it ends (TF's
//! `SessionRunHook`s that TF-Slim's `evaluate_once` and `evaluation_loop` take).

use std::ops::ControlFlow;
use std::path::Path;

use crate::Result;
use crate::metrics::MetricMap;

/// Called by an [`Evaluation`](super::Evaluation) around each checkpoint it evaluates. Every method has a default
/// that does nothing; an error from any of them ends the evaluation with that error.
pub trait EvaluationHook {
    /// After `checkpoint` (of `global_step`) was restored and the metrics reset, before the first batch.
    fn begin(&mut self, _checkpoint: &Path, _global_step: i64) -> Result<()> {
        Ok(())
    }

    /// After batch `index` updated `metrics`. [`ControlFlow::Break`] ends the evaluation after this batch (TF's
    /// `request_stop`), with the values so far.
    fn after_batch(&mut self, _index: usize, _metrics: &MetricMap) -> Result<ControlFlow<()>> {
        Ok(ControlFlow::Continue(()))
    }

    /// After the last batch, with the metrics' final values (before they are written as summaries).
    fn end(&mut self, _values: &[(String, f64)]) -> Result<()> {
        Ok(())
    }
}
