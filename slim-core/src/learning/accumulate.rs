//! Gradient accumulation: one training step over several micro-batches, each with its own forward and backward
//! pass, for a batch larger than memory allows at once. It averages as data-parallel ranks do — the losses and
//! the deferred updates' values summed and divided by their number, the gradients scaled by its inverse and summed —
//! and a distributed op then averages those over the ranks through the same buckets, so a run with k
//! micro-batches on N ranks takes the step one process with k·N of them would (and is that path's test oracle).

use tch::Tensor;

use super::TrainOp;
use super::train_op::scalar_loss;
use crate::distributed::{BatchPart, World};
use crate::native;
use crate::variables::{UpdateOp, Variable};
use crate::{Error, Result, TorchContext};

/// What the micro-batches of one step add up to.
#[derive(Default)]
struct Sums {
    loss: f64,
    /// The first micro-batch's deferred updates, applied with the averaged values.
    ops: Vec<UpdateOp>,
    values: Vec<Tensor>,
    gradients: Vec<Tensor>,
}

impl TrainOp {
    /// Runs one step over `micro_batches` micro-batches: `forward(i)` computes micro-batch `i`'s total loss (its
    /// forward pass and losses, as for [`TrainOp::step`]), each followed by its backward pass; then the averages
    /// of the losses, the deferred updates and the gradients go through the rest of the step as one batch's
    /// would. Returns the mean loss. Each micro-batch's forward pass starts from the CPU generator state the
    /// first one started from (as each rank's does), and dropout in micro-batch `i` draws the part of the mask one
    /// forward pass over all of them would ([`BatchPart`]). An error for 0 micro-batches, or when micro-batches
    /// record different deferred updates.
    pub fn step_accumulated(
        &mut self,
        micro_batches: usize,
        mut forward: impl FnMut(usize) -> Result<Tensor>,
    ) -> Result<f64> {
        if micro_batches == 0 {
            return Err(Error::invalid("train_op", "step_accumulated needs at least one micro-batch"));
        }
        self.synchronize_once()?;
        let step = self.global_step();
        let world = self.world();
        let parts = world.size() * micro_batches;
        let mut sums = Sums::default();
        // Every micro-batch draws from the generator state the first one started from, as every rank does.
        let state = native::cpu_generator_state().context("train_op")?;
        for micro_batch in 0..micro_batches {
            if micro_batch > 0 {
                native::set_cpu_generator_state(&state).context("train_op")?;
            }
            let part = World::new(world.rank() * micro_batches + micro_batch, parts, world.local_rank())?;
            let guard = BatchPart::enter(part);
            let total_loss = self.forward_in_precision(|| forward(micro_batch))?;
            drop(guard);
            self.add_micro_batch(&mut sums, &total_loss, micro_batch, 1.0 / micro_batches as f64)?;
        }
        let count = micro_batches as f64;
        let loss = self.agreed_loss(sums.loss / count, step)?;
        let values = tch::no_grad(|| sums.values.iter().map(|sum| sum / count).collect());
        self.apply_updates(&sums.ops, values)?;
        let gradients = self.reduce_gradients(sums.gradients)?;
        self.apply_gradients(gradients, step)?;
        Ok(loss)
    }

    /// Adds micro-batch `index`'s loss, deferred updates' values and gradients (times `share`, as each rank's are
    /// scaled before their sum) to `sums`, and empties the loss collections for the next micro-batch.
    fn add_micro_batch(&self, sums: &mut Sums, total_loss: &Tensor, index: usize, share: f64) -> Result<()> {
        sums.loss += scalar_loss(total_loss)?;
        let ops = self.store().take_update_ops();
        let values: Vec<Tensor> = ops.iter().flat_map(UpdateOp::values).map(|v| v.detach()).collect();
        let tensors: Vec<&Tensor> = self.variables_to_train().iter().map(Variable::tensor).collect();
        let scaled_loss = self.scaled_for_backward(total_loss)?;
        let gradients = Tensor::f_run_backward(&[&scaled_loss], &tensors, false, false).context("train_op")?;
        let gradients: Vec<Tensor> =
            tch::no_grad(|| gradients.into_iter().map(|g| if g.defined() { g * share } else { g }).collect());
        self.store().clear_losses();
        if index == 0 {
            sums.ops = ops;
            sums.values = tch::no_grad(|| values.iter().map(Tensor::copy).collect());
            sums.gradients = gradients;
            return Ok(());
        }
        let shapes = |values: &[Tensor]| values.iter().map(Tensor::size).collect::<Vec<_>>();
        if shapes(&values) != shapes(&sums.values) {
            let message = format!("micro-batch {index} records other deferred updates than micro-batch 0");
            return Err(Error::invalid("train_op", message));
        }
        tch::no_grad(|| {
            for (sum, value) in sums.values.iter_mut().zip(&values) {
                *sum = &*sum + value;
            }
            for (sum, gradient) in sums.gradients.iter_mut().zip(gradients) {
                *sum = match (sum.defined(), gradient.defined()) {
                    (true, true) => &*sum + gradient,
                    (false, _) => gradient,
                    (true, false) => sum.shallow_clone(),
                };
            }
        });
        Ok(())
    }
}
