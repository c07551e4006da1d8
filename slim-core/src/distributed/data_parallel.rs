//! What a distributed train op does beside a single process's (Horovod's and PyTorch DDP's recipe): at the
//! start, the ranks check that they build the same model and take rank 0's variables; each step, the losses are
//! gathered (a non-finite one anywhere stops every rank), the deferred updates (batch-norm moving statistics)
//! are averaged before they are applied, and the gradients are averaged by the reducer while the backward pass
//! runs.

use tch::{Kind, Tensor};

use super::{Collective, GradientReducer, World};
use crate::variables::{VarStore, Variable};
use crate::{Error, Result, TorchContext};

/// The default size of a gradient bucket: 25 MiB, PyTorch DDP's default.
pub const DEFAULT_BUCKET_BYTES: usize = 25 << 20;

/// A train op's link to the other ranks.
pub(crate) struct DataParallel {
    collective: Box<dyn Collective>,
    reducer: Box<dyn GradientReducer>,
    synchronized: bool,
}

impl DataParallel {
    /// Hooks the gradients of `variables` into buckets of about `bucket_bytes`.
    pub(crate) fn new(collective: Box<dyn Collective>, variables: &[Variable], bucket_bytes: usize) -> Result<Self> {
        let reducer = collective.gradient_reducer(variables, bucket_bytes)?;
        Ok(DataParallel { collective, reducer, synchronized: false })
    }

    pub(crate) fn world(&self) -> World {
        self.collective.world()
    }

    pub(crate) fn collective(&self) -> &dyn Collective {
        self.collective.as_ref()
    }

    pub(crate) fn reducer(&self) -> &dyn GradientReducer {
        self.reducer.as_ref()
    }

    /// An [`Error::Distributed`] of this rank.
    fn error(&self, message: impl Into<String>) -> Error {
        let world = self.world();
        Error::Distributed { rank: world.rank(), size: world.size(), message: message.into() }
    }

    /// Checks that every rank has the same variables (names, dtypes and shapes: a rank with another model is an
    /// error naming the first difference, on every rank), then copies rank 0's values of all of them (model
    /// variables, optimizer slots, the global step) to the others.
    pub(crate) fn synchronize(&mut self, store: &VarStore) -> Result<()> {
        let mut variables = store.variables();
        variables.sort_by(|a, b| a.name().cmp(b.name()));
        let description = describe(&variables);
        self.check_same_model(&description)?;
        tch::no_grad(|| variables.iter().try_for_each(|variable| self.collective.broadcast(variable.tensor(), 0)))?;
        self.synchronized = true;
        Ok(())
    }

    /// An error unless [`DataParallel::synchronize`] ran.
    pub(crate) fn check_synchronized(&self) -> Result<()> {
        match self.synchronized {
            true => Ok(()),
            false => Err(self.error(
                "the ranks' variables were not synchronized: call TrainOp::synchronize after restoring or \
                 initializing the variables and before the first forward pass (TrainOp::step and learning::train \
                 do it)",
            )),
        }
    }

    /// The first difference between rank 0's model and any other's, as an error on every rank.
    fn check_same_model(&self, description: &str) -> Result<()> {
        // A CRC-32C and the length stand for the description; only when they differ are texts exchanged.
        let summary =
            Tensor::from_slice(&[i64::from(crc32c::crc32c(description.as_bytes())), description.len() as i64]);
        let summaries = self.collective.all_gather(&summary)?;
        let summaries = Vec::<i64>::try_from(summaries.view(-1)).context("distributed")?;
        let of_rank = |rank: usize| &summaries[2 * rank..2 * rank + 2];
        let Some(other) = (1..self.world().size()).find(|rank| of_rank(*rank) != of_rank(0)) else { return Ok(()) };
        let first = self.text_of(0, description)?;
        let theirs = self.text_of(other, description)?;
        Err(self.error(format!(
            "rank {other} builds another model than rank 0: {}",
            first_difference(&first, &theirs, other)
        )))
    }

    /// Rank `root`'s `text` on every rank.
    fn text_of(&self, root: usize, text: &str) -> Result<String> {
        let length = Tensor::from_slice(&[text.len() as i64]);
        self.collective.broadcast(&length, root)?;
        let length = usize::try_from(length.int64_value(&[0])).unwrap_or(0);
        let bytes = match self.world().rank() == root {
            true => Tensor::from_slice(text.as_bytes()),
            false => Tensor::zeros([length as i64], (Kind::Uint8, tch::Device::Cpu)),
        };
        self.collective.broadcast(&bytes, root)?;
        let bytes = Vec::<u8>::try_from(&bytes).context("distributed")?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Every rank's loss of this step; the mean of them, or an error (on every rank) naming the ranks whose loss
    /// is not finite.
    pub(crate) fn mean_loss(&self, loss: f64, step: i64) -> Result<f64> {
        let losses = self.collective.all_gather(&Tensor::from_slice(&[loss]))?;
        let losses = Vec::<f64>::try_from(losses.view(-1)).context("distributed")?;
        let bad: Vec<String> = losses
            .iter()
            .enumerate()
            .filter(|(_, loss)| !loss.is_finite())
            .map(|(rank, loss)| format!("{loss} on rank {rank}"))
            .collect();
        if !bad.is_empty() {
            return Err(self.error(format!("the loss is {} at global step {step}", bad.join(", "))));
        }
        Ok(losses.iter().sum::<f64>() / losses.len() as f64)
    }

    /// `values` averaged over the ranks (one sum per dtype; other dtypes are left as they are). The values
    /// themselves are not written: they may share memory with tensors the backward pass needs.
    pub(crate) fn average(&self, values: Vec<Tensor>) -> Result<Vec<Tensor>> {
        let mut averaged = values;
        let ranks = self.world().size() as f64;
        tch::no_grad(|| -> Result<()> {
            for kind in [Kind::Float, Kind::Double] {
                let positions: Vec<usize> = (0..averaged.len()).filter(|i| averaged[*i].kind() == kind).collect();
                if positions.is_empty() {
                    continue;
                }
                let flat: Vec<Tensor> = positions.iter().map(|i| averaged[*i].reshape(-1)).collect();
                let fused = Tensor::f_cat(&flat, 0).context("distributed")?;
                self.collective.all_reduce_sum(&fused)?;
                let fused = fused / ranks;
                let mut offset = 0;
                for i in positions {
                    let count = averaged[i].numel() as i64;
                    averaged[i] = fused.narrow(0, offset, count).view_as(&averaged[i]);
                    offset += count;
                }
            }
            Ok(())
        })?;
        Ok(averaged)
    }

    /// Averages gradients computed beforehand over the ranks (gradient accumulation's path).
    pub(crate) fn reduce(&mut self, gradients: &[Tensor]) -> Result<Vec<Tensor>> {
        self.reducer.reduce(gradients)
    }

    /// Runs `backward` with the reducer armed and returns the averaged gradients.
    pub(crate) fn gradients(&mut self, backward: impl FnOnce() -> Result<()>) -> Result<Vec<Tensor>> {
        self.reducer.begin_step()?;
        backward()?;
        self.reducer.finish_step()
    }

    /// Whether any rank asks to stop (an interrupted rank stops them all at the same step).
    pub(crate) fn any(&self, flag: bool) -> Result<bool> {
        let flags = Tensor::from_slice(&[i64::from(flag)]);
        self.collective.all_reduce_sum(&flags)?;
        Ok(flags.int64_value(&[0]) > 0)
    }
}

/// One line per variable: name, dtype and shape.
fn describe(variables: &[Variable]) -> String {
    variables.iter().map(|v| format!("{} {:?} {:?}\n", v.name(), v.tensor().kind(), v.shape())).collect()
}

/// The first line where rank 0's description and rank `other`'s differ, in words.
fn first_difference(first: &str, theirs: &str, other: usize) -> String {
    let mut mine = first.lines();
    let mut others = theirs.lines();
    loop {
        match (mine.next(), others.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(a), Some(b)) => return format!("rank 0 has `{a}` where rank {other} has `{b}`"),
            (Some(a), None) => return format!("rank 0 has `{a}`, which rank {other} lacks"),
            (None, Some(b)) => return format!("rank {other} has `{b}`, which rank 0 lacks"),
            (None, None) => return "the variables' descriptions differ in a way lines do not show".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_named() {
        let zero = "a Float [2]\nb Float [3]\n";
        assert_eq!(
            first_difference(zero, "a Float [2]\nb Float [4]\n", 1),
            "rank 0 has `b Float [3]` where rank 1 has `b Float [4]`"
        );
        assert_eq!(first_difference(zero, "a Float [2]\n", 3), "rank 0 has `b Float [3]`, which rank 3 lacks");
        assert_eq!(first_difference("a Float [2]\n", zero, 2), "rank 2 has `b Float [3]`, which rank 0 lacks");
    }
}
