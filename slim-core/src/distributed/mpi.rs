//! The MPI backend (the `mpi` feature): slim's own C++ calls MPI (Open MPI, MPICH or any MPI-3 library whose
//! compiler wrapper the build finds) on a duplicate of `MPI_COMM_WORLD`, each collective non-blocking and waited
//! for with a deadline.

use std::time::Duration;

use tch::Tensor;

use super::{Collective, GradientReducer, World};
use crate::native::mpi as native;
use crate::variables::Variable;
use crate::{Error, Result};

/// How long a collective waits for the other ranks unless told otherwise ([`Mpi::timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// MPI's world for data-parallel training; see [`Mpi::init`].
#[derive(Clone, Debug)]
pub struct Mpi {
    world: World,
    timeout: Duration,
}

impl Mpi {
    /// Initializes MPI (unless the program already did, at `MPI_THREAD_SERIALIZED` or more) and joins the world
    /// of every process the launcher started. slim then finalizes MPI when the process exits — or, after a
    /// collective timed out, aborts the whole job, since the other ranks wait on one that will never come.
    /// An error when the launcher's count of ranks (`OMPI_COMM_WORLD_SIZE`, `PMI_SIZE`, `SLURM_NTASKS`) is not
    /// MPI's: the program was built against another MPI than the one that launched it.
    pub fn init() -> Result<Mpi> {
        let (rank, size, local_rank) = native::init().map_err(|e| Error::Distributed {
            rank: 0,
            size: 0,
            message: format!("MPI could not start: {}", without_prefix(e)),
        })?;
        let world = World::new(rank, size, local_rank)?;
        if let Some(launched) = World::from_env()?.filter(|launched| launched.size() != size) {
            return Err(Error::Distributed {
                rank,
                size,
                message: format!(
                    "the launcher started {} ranks but MPI sees {size}: this program links another MPI than the \
                     launcher's (use the mpirun beside the mpicc slim was built with)",
                    launched.size()
                ),
            });
        }
        Ok(Mpi { world, timeout: DEFAULT_TIMEOUT })
    }

    /// How long each collective waits for the other ranks before failing (default [`DEFAULT_TIMEOUT`]). It must
    /// exceed the longest time one rank spends alone between steps: the chief saving a checkpoint or validating.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn seconds(&self) -> f64 {
        self.timeout.as_secs_f64()
    }

    /// An [`Error::Distributed`] of this rank from a libtorch-side failure.
    fn failed(&self, error: tch::TchError) -> Error {
        let message = without_prefix(error);
        Error::Distributed { rank: self.world.rank(), size: self.world.size(), message }
    }
}

/// The C++ side's message itself (tch's display prefixes "Internal torch error").
fn without_prefix(error: tch::TchError) -> String {
    match error {
        tch::TchError::Torch(message) => message,
        other => other.to_string(),
    }
}

impl Collective for Mpi {
    fn world(&self) -> World {
        self.world
    }

    fn all_reduce_sum(&self, tensor: &Tensor) -> Result<()> {
        native::all_reduce_sum(tensor, self.seconds()).map_err(|e| self.failed(e))
    }

    fn broadcast(&self, tensor: &Tensor, root: usize) -> Result<()> {
        let root = i32::try_from(root).map_err(|_| Error::invalid("broadcast", format!("no rank {root}")))?;
        native::broadcast(tensor, root, self.seconds()).map_err(|e| self.failed(e))
    }

    fn all_gather(&self, tensor: &Tensor) -> Result<Tensor> {
        native::all_gather(tensor, self.seconds()).map_err(|e| self.failed(e))
    }

    fn barrier(&self) -> Result<()> {
        native::barrier(self.seconds()).map_err(|e| self.failed(e))
    }

    fn gradient_reducer(&self, variables: &[Variable], bucket_bytes: usize) -> Result<Box<dyn GradientReducer>> {
        let tensors: Vec<&Tensor> = variables.iter().map(Variable::tensor).collect();
        let bytes = i64::try_from(bucket_bytes).unwrap_or(i64::MAX);
        let reducer = native::Reducer::new(&tensors, bytes, self.seconds()).map_err(|e| self.failed(e))?;
        Ok(Box::new(MpiReducer { reducer, mpi: self.clone() }))
    }
}

/// The MPI backend's [`GradientReducer`]: hooks on the variables copy each gradient into its bucket as autograd
/// computes it, and a bucket complete on this rank starts its non-blocking all-reduce at once.
struct MpiReducer {
    reducer: native::Reducer,
    mpi: Mpi,
}

impl GradientReducer for MpiReducer {
    fn begin_step(&mut self) -> Result<()> {
        self.reducer.begin().map_err(|e| self.mpi.failed(e))
    }

    fn finish_step(&mut self) -> Result<Vec<Tensor>> {
        self.reducer.finish().map_err(|e| self.mpi.failed(e))
    }

    fn reduce(&mut self, gradients: &[Tensor]) -> Result<Vec<Tensor>> {
        self.reducer.reduce(gradients).map_err(|e| self.mpi.failed(e))
    }

    fn buckets(&self) -> usize {
        self.reducer.buckets()
    }

    fn overlapped_buckets(&self) -> usize {
        self.reducer.overlapped()
    }
}
