// A list of tensors seen as one run of elements, so that one parallel region can cover all of them: a kernel
// over the list splits the run into chunks (one per thread) and each chunk into its pieces of single tensors.

#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <vector>

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

}  // namespace slim
