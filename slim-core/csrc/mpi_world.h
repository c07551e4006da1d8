// slim's MPI world (built with the `mpi` feature): one duplicated communicator over every rank, MPI calls
// serialized by one lock (MPI_THREAD_SERIALIZED is all slim asks of the library), and waits that poll with a
// deadline, so that a rank that died or stopped taking part makes the others fail instead of hang.

#pragma once

#include <ATen/ATen.h>
#include <mpi.h>

#include <mutex>

namespace slim::mpi {

/// The communicator slim uses and this process's place in it.
struct World {
    MPI_Comm comm = MPI_COMM_NULL;
    int rank = 0;
    int size = 1;
    int local_rank = 0;
};

/// Initializes MPI (unless the program did) and slim's world; idempotent. Throws what MPI reports.
const World& init();

/// slim's world; throws unless init() ran.
const World& world();

/// The lock every MPI call of slim's takes.
std::mutex& lock();

/// Throws a message naming `what` and MPI's explanation when `code` is not MPI_SUCCESS.
void check(int code, const char* what);

/// Waits for `request`, polling, for at most `timeout_seconds`; on timeout marks the world broken and throws a
/// message naming `what`, this rank and the timeout.
void wait(MPI_Request* request, double timeout_seconds, const char* what);

/// Whether `request` has completed (one MPI_Test, under the lock).
bool test(MPI_Request* request);

/// Throws when an earlier wait timed out: the ranks no longer agree on which collective comes next.
void check_not_broken();

/// The MPI datatype of a tensor's elements; `summed` refuses types MPI cannot add (bool, half floats).
MPI_Datatype datatype_of(const at::Tensor& tensor, bool summed);

/// Throws unless `tensor` is a defined CPU tensor (the MPI backend works on host memory).
void check_host_tensor(const at::Tensor& tensor, const char* what);

}  // namespace slim::mpi
