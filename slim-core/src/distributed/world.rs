//! The world of a data-parallel run: this process's rank, the number of ranks and the rank on its machine, as
//! the launcher (`mpirun`/`mpiexec` of Open MPI or MPICH, Slurm's `srun`) tells each process.

use crate::{Error, Result};

/// This process's place among the processes of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct World {
    rank: usize,
    size: usize,
    local_rank: usize,
}

/// The launchers' variables, tried in order: (rank, size, rank on the node).
const LAUNCHERS: [(&str, &str, &str); 3] = [
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"),
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"),
    ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"),
];

impl World {
    /// Rank `rank` of `size` processes, `local_rank` on its machine; an error unless `rank < size`.
    pub fn new(rank: usize, size: usize, local_rank: usize) -> Result<World> {
        if size == 0 || rank >= size || local_rank >= size {
            let message = format!("rank {rank} (local rank {local_rank}) is no rank of a world of {size}");
            return Err(Error::invalid("distributed", message));
        }
        Ok(World { rank, size, local_rank })
    }

    /// One process alone.
    pub fn single() -> World {
        World { rank: 0, size: 1, local_rank: 0 }
    }

    /// The world the launcher describes in the environment (Open MPI's `OMPI_COMM_WORLD_*`, MPICH's `PMI_*`,
    /// Slurm's `SLURM_PROCID`/`SLURM_NTASKS`/`SLURM_LOCALID`), or `None` when no launcher started this process.
    /// A variable that is set but not a number is an error naming it.
    pub fn from_env() -> Result<Option<World>> {
        Self::from_variables(|name| std::env::var(name).ok())
    }

    /// [`World::from_env`] over any source of variables.
    fn from_variables(get: impl Fn(&str) -> Option<String>) -> Result<Option<World>> {
        for (rank, size, local) in LAUNCHERS {
            let (Some(rank_text), Some(size_text)) = (get(rank), get(size)) else { continue };
            let number = |name: &str, text: &str| {
                text.trim().parse::<usize>().map_err(|_| {
                    Error::invalid("distributed", format!("the launcher's {name} is {text:?}, not a rank count"))
                })
            };
            let local_rank = match get(local) {
                Some(text) => number(local, &text)?,
                None => 0,
            };
            return World::new(number(rank, &rank_text)?, number(size, &size_text)?, local_rank).map(Some);
        }
        Ok(None)
    }

    /// This process's rank, 0 to `size - 1`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of processes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// This process's rank among the processes on its machine (which GPU it takes, say).
    pub fn local_rank(&self) -> usize {
        self.local_rank
    }

    /// Whether this is rank 0, the one that writes checkpoints, summaries and logs.
    pub fn is_chief(&self) -> bool {
        self.rank == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use std::collections::HashMap;

    use super::*;

    fn world_of(pairs: &[(&str, &str)]) -> Result<Option<World>> {
        let variables: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        World::from_variables(|name| variables.get(name).cloned())
    }

    #[test]
    fn each_launcher_is_read() {
        let open_mpi =
            [("OMPI_COMM_WORLD_RANK", "3"), ("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_LOCAL_RANK", "1")];
        assert_eq!(world_of(&open_mpi).unwrap(), Some(World::new(3, 4, 1).unwrap()));
        let mpich = [("PMI_RANK", "1"), ("PMI_SIZE", "2")];
        assert_eq!(world_of(&mpich).unwrap(), Some(World::new(1, 2, 0).unwrap()));
        let slurm = [("SLURM_PROCID", "5"), ("SLURM_NTASKS", "8"), ("SLURM_LOCALID", "1")];
        let world = world_of(&slurm).unwrap().unwrap();
        assert_eq!((world.rank(), world.size(), world.local_rank(), world.is_chief()), (5, 8, 1, false));
        assert_eq!(world_of(&[]).unwrap(), None);
    }

    #[test]
    fn nonsense_from_the_launcher_is_an_error_naming_the_variable() {
        let message = world_of(&[("PMI_RANK", "one"), ("PMI_SIZE", "2")]).unwrap_err().to_string();
        assert!(message.contains("PMI_RANK is \"one\""), "{message}");
        let message = world_of(&[("SLURM_PROCID", "4"), ("SLURM_NTASKS", "4")]).unwrap_err().to_string();
        assert!(message.contains("rank 4 (local rank 0) is no rank of a world of 4"), "{message}");
    }
}
