// The MPI backend's collectives on tensors: all-reduce (sum, in place), broadcast (in place), all-gather and
// barrier, each run on the communication thread and waited for with a deadline (mpi_world.h). Counts beyond
// MPI's int are sent in pieces; a tensor with gaps in memory goes through a dense copy.
//
// C interface: each function returns nullptr on success or an error message the caller frees with
// slim_free_error.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <climits>
#include <exception>
#include <functional>
#include <string>

#include "error_message.h"
#include "mpi_world.h"

namespace {

/// The most elements one MPI call moves (its counts are ints).
constexpr int64_t kLargestPiece = INT_MAX / 2;

/// Runs `call` on the communication thread and waits for it for at most `timeout` seconds.
void run(const char* what, double timeout, std::function<void()> call) {
    slim::mpi::submit(std::move(call))->wait(timeout, what);
}

/// Applies `operate` to a dense version of `tensor` and writes the result back when that was a copy.
void on_dense(const at::Tensor& tensor, const std::function<void(const at::Tensor&)>& operate) {
    if (tensor.is_contiguous()) {
        operate(tensor);
        // Written through its data pointer: marked as modified, as an in-place ATen op would (kept casts of it
        // are stale now).
        tensor.unsafeGetTensorImpl()->bump_version();
        return;
    }
    auto dense = tensor.contiguous();
    operate(dense);
    tensor.copy_(dense);
}

void all_reduce_sum(const at::Tensor& tensor, double timeout) {
    slim::mpi::check_host_tensor(tensor, "all_reduce_sum");
    slim::mpi::datatype_of(tensor, true);
    on_dense(tensor, [&](const at::Tensor& dense) {
        // The call keeps its own reference: after a timeout it may still run, later, into memory it owns.
        run("all-reduce", timeout, [dense] { slim::mpi::all_reduce_in_place(dense); });
    });
}

void broadcast(const at::Tensor& tensor, int root, double timeout) {
    slim::mpi::check_host_tensor(tensor, "broadcast");
    const auto& world = slim::mpi::world();
    TORCH_CHECK(root >= 0 && root < world.size, "broadcast: root ", root, " is no rank of ", world.size);
    const auto type = slim::mpi::datatype_of(tensor, false);
    on_dense(tensor, [&](const at::Tensor& dense) {
        run("broadcast", timeout, [dense, type, root, comm = world.comm] {
            auto* base = static_cast<char*>(dense.data_ptr());
            const auto elements = dense.numel();
            for (int64_t first = 0; first == 0 || first < elements; first += kLargestPiece) {
                const int count = static_cast<int>(std::min(kLargestPiece, elements - first));
                slim::mpi::check(MPI_Bcast(base + first * dense.element_size(), count, type, root, comm), "MPI_Bcast");
            }
        });
    });
}

/// Every rank's element count, gathered; throws naming the ranks when they differ.
void check_same_count(int64_t elements, double timeout) {
    const auto& world = slim::mpi::world();
    auto counts = at::empty({world.size}, at::kLong);
    auto mine = at::full({1}, elements, at::kLong);
    run("all-gather of the sizes", timeout, [counts, mine, comm = world.comm] {
        slim::mpi::check(MPI_Allgather(mine.data_ptr(), 1, MPI_INT64_T, counts.data_ptr(), 1, MPI_INT64_T, comm),
                         "MPI_Allgather");
    });
    const auto* all = counts.data_ptr<int64_t>();
    for (int rank = 1; rank < world.size; ++rank) {
        TORCH_CHECK(all[rank] == all[0], "all-gather: rank 0 gives ", all[0], " elements but rank ", rank, " gives ",
                    all[rank], "; every rank must give a tensor of the same size");
    }
}

at::Tensor all_gather(const at::Tensor& tensor, double timeout) {
    slim::mpi::check_host_tensor(tensor, "all_gather");
    const auto& world = slim::mpi::world();
    const auto type = slim::mpi::datatype_of(tensor, false);
    check_same_count(tensor.numel(), timeout);
    auto dense = tensor.contiguous();
    auto sizes = tensor.sizes().vec();
    sizes.insert(sizes.begin(), world.size);
    auto gathered = at::empty(sizes, tensor.options());
    const auto elements = dense.numel();
    TORCH_CHECK(elements <= kLargestPiece, "all_gather: ", elements, " elements per rank is more than ", kLargestPiece,
                " (MPI's counts are ints)");
    run("all-gather", timeout, [dense, gathered, elements, type, comm = world.comm] {
        const int count = static_cast<int>(elements);
        slim::mpi::check(MPI_Allgather(dense.data_ptr(), count, type, gathered.data_ptr(), count, type, comm),
                         "MPI_Allgather");
    });
    return gathered;
}

void barrier(double timeout) {
    const auto comm = slim::mpi::world().comm;
    run("barrier", timeout, [comm] { slim::mpi::check(MPI_Barrier(comm), "MPI_Barrier"); });
}

}  // namespace

extern "C" {

/// Sums `tensor` over the ranks, in place, on every rank.
char* slim_mpi_all_reduce_sum(const at::Tensor* tensor, double timeout) {
    return slim::mpi::guarded("slim_mpi_all_reduce_sum", [&] { all_reduce_sum(*tensor, timeout); });
}

/// Copies rank `root`'s `tensor` into every rank's, in place.
char* slim_mpi_broadcast(const at::Tensor* tensor, int root, double timeout) {
    return slim::mpi::guarded("slim_mpi_broadcast", [&] { broadcast(*tensor, root, timeout); });
}

/// Every rank's `tensor` stacked in rank order into *out ([ranks, ...]).
char* slim_mpi_all_gather(const at::Tensor* tensor, double timeout, at::Tensor** out) {
    return slim::mpi::guarded("slim_mpi_all_gather", [&] { *out = new at::Tensor(all_gather(*tensor, timeout)); });
}

/// Returns when every rank has called it.
char* slim_mpi_barrier(double timeout) {
    return slim::mpi::guarded("slim_mpi_barrier", [&] { barrier(timeout); });
}

}  // extern "C"
