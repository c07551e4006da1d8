// The scan for NaNs and infinities that the train op's gradient check runs, shared by the list check
// (all_finite.cpp) and the fused updates that check before they write (fused_sgd.cpp, fused_adam.cpp).

#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace slim {

/// Whether the dense float32 or float64 CPU `tensors` (their offsets in one run: `starts`, from
/// start_offsets) hold only finite values: one parallel region over the run.
bool list_is_finite(const std::vector<at::Tensor>& tensors, const std::vector<int64_t>& starts);

/// Whether elements `[begin, end)` (in memory order) of the dense float32 or float64 CPU `tensor` are finite.
bool piece_is_finite(const at::Tensor& tensor, int64_t begin, int64_t end);

/// The scan a fused update hands scan_then_update (tensor_list.h): each piece of `gradients` checked for NaNs
/// and infinities, or every piece passed when `check` is off.
inline auto gradient_scan(const std::vector<at::Tensor>& gradients, bool check) {
    return [&gradients, check](size_t index, int64_t begin, int64_t end) {
        return !check || piece_is_finite(gradients[index], begin, end);
    };
}

}  // namespace slim
