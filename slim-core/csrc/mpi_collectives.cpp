// The MPI backend's collectives on tensors: all-reduce (sum, in place), broadcast (in place), all-gather and
// barrier, each a non-blocking MPI call waited for with a deadline (mpi_world.h). Counts beyond MPI's int are
// sent in pieces; a tensor with gaps in memory goes through a dense copy.
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

/// Runs `start` (which begins a non-blocking call on the elements [first, first + count) and sets the request) over
/// pieces of at most kLargestPiece elements, waiting for each.
void in_pieces(int64_t elements, double timeout, const char* what,
               const std::function<int(int64_t first, int count, MPI_Request*)>& start) {
    slim::mpi::check_not_broken();
    for (int64_t first = 0; first < elements || (elements == 0 && first == 0); first += kLargestPiece) {
        const int count = static_cast<int>(std::min(kLargestPiece, elements - first));
        MPI_Request request = MPI_REQUEST_NULL;
        {
            std::lock_guard<std::mutex> guard(slim::mpi::lock());
            slim::mpi::check(start(first, count, &request), what);
        }
        slim::mpi::wait(&request, timeout, what);
        if (elements == 0) break;
    }
}

/// Applies `operate` to a dense version of `tensor` and writes the result back when that was a copy.
void on_dense(const at::Tensor& tensor, const std::function<void(const at::Tensor&)>& operate) {
    if (tensor.is_contiguous()) {
        operate(tensor);
        return;
    }
    auto dense = tensor.contiguous();
    operate(dense);
    tensor.copy_(dense);
}

void all_reduce_sum(const at::Tensor& tensor, double timeout) {
    slim::mpi::check_host_tensor(tensor, "all_reduce_sum");
    const auto type = slim::mpi::datatype_of(tensor, true);
    const auto& world = slim::mpi::world();
    on_dense(tensor, [&](const at::Tensor& dense) {
        auto* base = static_cast<char*>(dense.data_ptr());
        const auto size = dense.element_size();
        in_pieces(dense.numel(), timeout, "all-reduce", [&](int64_t first, int count, MPI_Request* request) {
            return MPI_Iallreduce(MPI_IN_PLACE, base + first * size, count, type, MPI_SUM, world.comm, request);
        });
    });
}

void broadcast(const at::Tensor& tensor, int root, double timeout) {
    slim::mpi::check_host_tensor(tensor, "broadcast");
    const auto& world = slim::mpi::world();
    TORCH_CHECK(root >= 0 && root < world.size, "broadcast: root ", root, " is no rank of ", world.size);
    const auto type = slim::mpi::datatype_of(tensor, false);
    on_dense(tensor, [&](const at::Tensor& dense) {
        auto* base = static_cast<char*>(dense.data_ptr());
        const auto size = dense.element_size();
        in_pieces(dense.numel(), timeout, "broadcast", [&](int64_t first, int count, MPI_Request* request) {
            return MPI_Ibcast(base + first * size, count, type, root, world.comm, request);
        });
    });
}

/// Every rank's element count, gathered; throws naming the ranks when they differ.
void check_same_count(int64_t elements, double timeout) {
    const auto& world = slim::mpi::world();
    auto counts = at::empty({world.size}, at::kLong);
    int64_t mine = elements;
    in_pieces(1, timeout, "all-gather of the sizes", [&](int64_t, int, MPI_Request* request) {
        return MPI_Iallgather(&mine, 1, MPI_INT64_T, counts.data_ptr<int64_t>(), 1, MPI_INT64_T, world.comm, request);
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
    in_pieces(1, timeout, "all-gather", [&](int64_t, int, MPI_Request* request) {
        return MPI_Iallgather(dense.data_ptr(), static_cast<int>(elements), type, gathered.data_ptr(),
                              static_cast<int>(elements), type, world.comm, request);
    });
    return gathered;
}

void barrier(double timeout) {
    const auto& world = slim::mpi::world();
    in_pieces(1, timeout, "barrier",
              [&](int64_t, int, MPI_Request* request) { return MPI_Ibarrier(world.comm, request); });
}

/// Runs `body`, turning an exception into a message for the Rust side.
char* guarded(const char* name, const std::function<void()>& body) {
    try {
        c10::NoGradGuard no_grad;
        body();
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message((std::string("unknown C++ exception in ") + name).c_str());
    }
}

}  // namespace

extern "C" {

/// Sums `tensor` over the ranks, in place, on every rank.
char* slim_mpi_all_reduce_sum(const at::Tensor* tensor, double timeout) {
    return guarded("slim_mpi_all_reduce_sum", [&] { all_reduce_sum(*tensor, timeout); });
}

/// Copies rank `root`'s `tensor` into every rank's, in place.
char* slim_mpi_broadcast(const at::Tensor* tensor, int root, double timeout) {
    return guarded("slim_mpi_broadcast", [&] { broadcast(*tensor, root, timeout); });
}

/// Every rank's `tensor` stacked in rank order into *out ([ranks, ...]).
char* slim_mpi_all_gather(const at::Tensor* tensor, double timeout, at::Tensor** out) {
    return guarded("slim_mpi_all_gather", [&] { *out = new at::Tensor(all_gather(*tensor, timeout)); });
}

/// Returns when every rank has called it.
char* slim_mpi_barrier(double timeout) {
    return guarded("slim_mpi_barrier", [&] { barrier(timeout); });
}

}  // extern "C"
