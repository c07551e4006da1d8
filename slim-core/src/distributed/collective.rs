//! What a communication backend offers data-parallel training: collectives on tensors and a gradient reducer.
//! MPI ([`Mpi`](super::Mpi), the `mpi` feature) moves host tensors; a backend for CUDA tensors (NCCL) implements
//! the same traits.

use tch::Tensor;

use super::World;
use crate::Result;
use crate::variables::Variable;

/// Collective operations over the ranks of a [`World`]. Every rank must call the same operations in the same
/// order with tensors of the same size; a rank that does not makes the others fail after the backend's timeout
/// with [`Error::Distributed`](crate::Error::Distributed), never hang.
pub trait Collective: Send + Sync {
    /// The world this backend connects.
    fn world(&self) -> World;

    /// Sums `tensor` over the ranks, in place: afterwards every rank holds the same sum.
    fn all_reduce_sum(&self, tensor: &Tensor) -> Result<()>;

    /// Copies rank `root`'s `tensor` into every other rank's, in place.
    fn broadcast(&self, tensor: &Tensor, root: usize) -> Result<()>;

    /// Every rank's `tensor` (each of the same shape), stacked in rank order: `[ranks, ...shape]`.
    fn all_gather(&self, tensor: &Tensor) -> Result<Tensor>;

    /// Returns when every rank has called it.
    fn barrier(&self) -> Result<()>;

    /// A reducer of the gradients of `variables`, fused into buckets of about `bucket_bytes` and summed while the
    /// backward pass runs.
    fn gradient_reducer(&self, variables: &[Variable], bucket_bytes: usize) -> Result<Box<dyn GradientReducer>>;
}

/// Averages the gradients of a fixed list of variables over the ranks, one training step at a time: armed by
/// [`GradientReducer::begin_step`] before the backward pass, which hands it each gradient as autograd computes
/// it, and finished by [`GradientReducer::finish_step`] after.
pub trait GradientReducer: Send {
    /// Arms the reducer for the next backward pass.
    fn begin_step(&mut self) -> Result<()>;

    /// Waits for the sums and returns each variable's gradient averaged over the ranks, in the variables' order
    /// (zeros where the loss did not reach a variable on any rank). The tensors may share memory with the
    /// reducer's buffers: they are valid until the next step.
    fn finish_step(&mut self) -> Result<Vec<Tensor>>;

    /// Averages gradients computed beforehand (one per variable, in the variables' order; an undefined one
    /// counts as zeros) over the ranks, through the same buckets but without overlap: the path of gradient
    /// accumulation over micro-batches.
    fn reduce(&mut self, gradients: &[Tensor]) -> Result<Vec<Tensor>>;

    /// How many fused buffers (each one collective per step) the gradients travel in.
    fn buckets(&self) -> usize;

    /// How many of them started their sum while the last step's backward pass was still running (the rest
    /// started when it ended): the overlap of communication with computation.
    fn overlapped_buckets(&self) -> usize;
}
