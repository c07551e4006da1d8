// A list of tensors seen as one run of elements, so that one parallel region can cover all of them: a kernel
// over the list splits the run into chunks (one per thread) and each chunk into its pieces of single tensors.

#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace slim {

/// Where each tensor of a list starts in the run of all their elements; the last entry is the total.
inline std::vector<int64_t> start_offsets(const std::vector<at::Tensor>& tensors) {
    std::vector<int64_t> starts{0};
    starts.reserve(tensors.size() + 1);
    for (const auto& tensor : tensors) starts.push_back(starts.back() + tensor.numel());
    return starts;
}

/// Calls `piece(index, begin, end)` for each part of tensor `index` that lies in `[begin, end)` of the run whose
/// tensor offsets are `starts` (element positions local to that tensor).
template <typename Piece>
void for_each_piece(const std::vector<int64_t>& starts, int64_t begin, int64_t end, const Piece& piece) {
    auto index = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin()) - 1;
    for (; index + 1 < starts.size() && starts[index] < end; ++index) {
        const int64_t from = std::max(begin, starts[index]);
        const int64_t to = std::min(end, starts[index + 1]);
        if (from < to) piece(index, from - starts[index], to - starts[index]);
    }
}

/// Elements per parallel task: the grain of ATen's element-wise kernels, so a list small enough for one thread
/// there stays on one here.
constexpr int64_t kListGrain = 32768;  // at::internal::GRAIN_SIZE

/// Runs `piece(index, begin, end)` over every element of the tensors with offsets `starts`, in one parallel
/// region (each thread takes one chunk of the run, the same chunk for the same run every time).
template <typename Piece>
void parallel_over_list(const std::vector<int64_t>& starts, const Piece& piece) {
    at::parallel_for(0, starts.back(), kListGrain,
                     [&](int64_t begin, int64_t end) { for_each_piece(starts, begin, end, piece); });
}

/// Runs `scan(index, begin, end) -> bool` over every element of the tensors with offsets `starts` and, only if
/// every call answered true, `update(index, begin, end)` over them too; answers whether it did. Both phases run
/// in one parallel region with a barrier between them, each thread updating the chunk it has just scanned (so
/// from its own cache). An exception in either phase is rethrown after the region.
template <typename Scan, typename Update>
bool scan_then_update(const std::vector<int64_t>& starts, const Scan& scan, const Update& update) {
    const int64_t total = starts.back();
    const int64_t chunks = (total + kListGrain - 1) / kListGrain;
    const int64_t threads = std::min<int64_t>(at::get_num_threads(), chunks);
#ifdef _OPENMP
    if (threads > 1 && !at::in_parallel_region()) {
        std::atomic<bool> finite{true};
        std::exception_ptr failure;
        std::atomic_flag failed = ATOMIC_FLAG_INIT;
        const auto guarded = [&](const auto& phase) {
            try {
                phase();
            } catch (...) {
                if (!failed.test_and_set()) failure = std::current_exception();
                finite.store(false);
            }
        };
#pragma omp parallel num_threads(threads)
        {
            const int64_t chunk = (total + omp_get_num_threads() - 1) / omp_get_num_threads();
            const int64_t begin = std::min(total, omp_get_thread_num() * chunk);
            const int64_t end = std::min(total, begin + chunk);
            guarded([&] {
                for_each_piece(starts, begin, end, [&](size_t index, int64_t from, int64_t to) {
                    if (!scan(index, from, to)) finite.store(false, std::memory_order_relaxed);
                });
            });
#pragma omp barrier
            if (finite.load()) guarded([&] { for_each_piece(starts, begin, end, update); });
        }
        if (failure) std::rethrow_exception(failure);
        return finite.load();
    }
#endif
    bool finite = true;
    for_each_piece(starts, 0, total, [&](size_t index, int64_t from, int64_t to) { finite = finite && scan(index, from, to); });
    if (finite) for_each_piece(starts, 0, total, update);
    return finite;
}

}  // namespace slim
