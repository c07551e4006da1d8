// slim's MPI world (built with the `mpi` feature): one duplicated communicator over every rank, and one
// communication thread that makes every MPI call of slim's after initialization, in the order they were
// submitted (Horovod's background thread). The calls are MPI's blocking collectives, which Open MPI runs with its
// tuned algorithms (its non-blocking ones took 2-3 times as long here); the caller waits for each with a
// deadline, so that a rank that died or stopped taking part makes the others fail instead of hang.

#pragma once

#include <ATen/ATen.h>
#include <mpi.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace slim::mpi {

/// The communicator slim uses and this process's place in it.
struct World {
    MPI_Comm comm = MPI_COMM_NULL;
    int rank = 0;
    int size = 1;
    int local_rank = 0;
};

/// Initializes MPI (unless the program did), slim's world and the communication thread; idempotent. Throws what
/// MPI reports.
const World& init();

/// slim's world; throws unless init() ran.
const World& world();

/// Throws a message naming `what` and MPI's explanation when `code` is not MPI_SUCCESS.
void check(int code, const char* what);

/// One submitted call: done once the communication thread has run it, with its error if it threw.
class Ticket {
  public:
    /// Waits for the call for at most `timeout_seconds`. On timeout marks the world broken and throws a message
    /// naming `what` and the timeout; rethrows the call's own error.
    void wait(double timeout_seconds, const char* what);

    /// Marks the call done (with `error`, empty for none) and wakes the waiter.
    void finish(std::string error);

  private:
    std::mutex mutex_;
    std::condition_variable done_changed_;
    bool done_ = false;
    std::atomic<bool> finished_{false};
    std::string error_;
};

/// Runs `call` (MPI calls on `world().comm`; it must hold references to the memory it touches) on the
/// communication thread after every call submitted before it.
std::shared_ptr<Ticket> submit(std::function<void()> call);

/// Throws when an earlier wait timed out: the ranks no longer agree on which collective comes next.
void check_not_broken();

/// The MPI datatype of a tensor's elements; `summed` refuses types MPI cannot add (bool, half floats).
MPI_Datatype datatype_of(const at::Tensor& tensor, bool summed);

/// Throws unless `tensor` is a defined CPU tensor (the MPI backend works on host memory).
void check_host_tensor(const at::Tensor& tensor, const char* what);

/// Runs `body` (with gradients off) for a C function named `name`: nullptr on success, else the exception's
/// message as a heap copy for the Rust side to free with slim_free_error.
char* guarded(const char* name, const std::function<void()>& body);

/// In-place MPI_Allreduce (sum) of a dense host tensor, in pieces of at most INT_MAX / 2 elements; runs on the
/// communication thread.
void all_reduce_in_place(const at::Tensor& dense);

}  // namespace slim::mpi
