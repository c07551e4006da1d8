//! Summaries a step function adds when the training loop asks for them: the activations of the forward pass
//! it just ran (TF-Slim's scripts summarize every end point's histogram and zero fraction), or anything else
//! only the step can see.

use std::sync::{Arc, Mutex, MutexGuard};

use tch::{Kind, Tensor};

use crate::{Result, TorchContext};

/// A handle shared by a training loop ([`Train::step_summaries`](super::Train::step_summaries)) and its step
/// function: the loop marks the steps whose summaries are due, the step function asks
/// [`StepSummaries::due`] and adds histograms and scalars, and the loop writes them at that step.
#[derive(Clone, Debug, Default)]
pub struct StepSummaries(Arc<Mutex<Pending>>);

/// What the step of the moment was asked for and has added.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    due: bool,
    /// Histograms by tag.
    pub(crate) histograms: Vec<(String, Tensor)>,
    /// Image batches by tag, with how many of each to show.
    pub(crate) images: Vec<(String, Tensor, usize)>,
    /// Scalars by tag.
    pub(crate) scalars: Vec<(String, f64)>,
}

impl StepSummaries {
    /// A handle to give the loop and the step function.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the step running now writes summaries (only then are added values kept).
    pub fn due(&self) -> bool {
        self.lock().due
    }

    /// Adds a histogram of `values` (copied, detached) under `tag`, when summaries are due.
    pub fn histogram(&self, tag: impl Into<String>, values: &Tensor) -> Result<()> {
        let mut pending = self.lock();
        if pending.due {
            let copy = values.f_detach_copy().context("StepSummaries::histogram")?;
            pending.histograms.push((tag.into(), copy));
        }
        Ok(())
    }

    /// Adds up to `max_images` images of the `[N, C, H, W]` batch `images` (copied, detached) under `tag`, when
    /// summaries are due (written as [`SummaryWriter::add_images`](crate::summary::SummaryWriter::add_images)
    /// writes them).
    pub fn images(&self, tag: impl Into<String>, images: &Tensor, max_images: usize) -> Result<()> {
        let mut pending = self.lock();
        if pending.due {
            let copy = images.f_detach_copy().context("StepSummaries::images")?;
            pending.images.push((tag.into(), copy, max_images));
        }
        Ok(())
    }

    /// Adds a scalar under `tag`, when summaries are due.
    pub fn scalar(&self, tag: impl Into<String>, value: f64) {
        let mut pending = self.lock();
        if pending.due {
            pending.scalars.push((tag.into(), value));
        }
    }

    /// TF-Slim's activation summaries of one tensor: its histogram as `activations/<name>` and its fraction of
    /// zeros (`tf.nn.zero_fraction`) as `sparsity/<name>`, when summaries are due.
    pub fn activation(&self, name: &str, activation: &Tensor) -> Result<()> {
        if !self.due() {
            return Ok(());
        }
        let zeros = activation.f_eq(0.0).and_then(|zeros| zeros.f_to_kind(Kind::Double));
        let fraction = zeros.and_then(|zeros| zeros.f_mean(Kind::Double)).context(name)?.double_value(&[]);
        self.scalar(format!("sparsity/{name}"), fraction);
        self.histogram(format!("activations/{name}"), activation)
    }

    /// Marks whether the next step's summaries are due, dropping anything left from before.
    pub(crate) fn start_step(&self, due: bool) {
        let mut pending = self.lock();
        *pending = Pending { due, ..Pending::default() };
    }

    /// Takes what the step added, leaving nothing due.
    pub(crate) fn take(&self) -> Pending {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_only_while_due_and_taken_once() {
        let summaries = StepSummaries::new();
        let x = Tensor::from_slice(&[0.0f32, 1.0, 0.0, 2.0]);
        summaries.activation("net/fc", &x).unwrap();
        assert_eq!(summaries.take().histograms.len(), 0, "nothing kept while not due");
        summaries.start_step(true);
        assert!(summaries.due());
        summaries.activation("net/fc", &x).unwrap();
        summaries.scalar("extra", 3.0);
        summaries.images("input", &Tensor::zeros([2, 1, 4, 4], (Kind::Float, tch::Device::Cpu)), 1).unwrap();
        let Pending { histograms, scalars, images, .. } = summaries.take();
        assert_eq!((images.len(), images[0].0.as_str(), images[0].2), (1, "input", 1));
        assert_eq!(histograms.len(), 1);
        assert_eq!(histograms[0].0, "activations/net/fc");
        assert!(histograms[0].1.equal(&x));
        assert_eq!(scalars, [("sparsity/net/fc".to_string(), 0.5), ("extra".to_string(), 3.0)]);
        assert!(!summaries.due() && summaries.take().scalars.is_empty());
    }
}
