// The frame every fused optimizer update shares: the variables, their gradients and their slots checked, then one
// parallel region that scans the gradients (optionally) and updates each piece with subnormals flushed to zero,
// then the written tensors marked modified. Each kernel supplies only its loop over a piece of one variable.

#pragma once

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "finite_scan.h"
#include "flush_denormals.h"
#include "tensor_list.h"
#include "update_checks.h"

namespace slim {

/// One list of slots updated with the variables (one tensor per variable; an empty list for a slot the rule
/// does not keep) and what to call them in errors.
struct SlotList {
    std::vector<at::Tensor> tensors;
    const char* what;
};

/// The slot tensors behind `handles` (`count` of them; none where `handles` is null), called `what` in errors.
inline SlotList slot_list(const at::Tensor* const* handles, int64_t count, const char* what) {
    return {handles == nullptr ? std::vector<at::Tensor>{} : gather(handles, count), what};
}

/// Checks every variable, its gradient and each of its slots (errors name the position and the slot), then runs
/// `piece(index, begin, end)` over every element with the gradients scanned first when `check_finite` (nothing
/// is updated if one is not finite), subnormal results flushed to zero as TF's CPU kernels do (slots that decay
/// under zero gradients go to zero instead of the subnormal range, where every vector op takes a microcode
/// assist), and marks the variables and slots modified as an in-place ATen op would. Answers whether it updated.
template <typename Piece>
bool fused_update(std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& grads,
                  std::vector<SlotList>& slots, bool check_finite, const Piece& piece) {
    for (size_t i = 0; i < weights.size(); ++i) {
        check_variable(weights[i], static_cast<int64_t>(i));
        check_alike(weights[i], grads[i], static_cast<int64_t>(i), "gradient");
        for (const auto& slot : slots) {
            if (!slot.tensors.empty()) check_alike(weights[i], slot.tensors[i], static_cast<int64_t>(i), slot.what);
        }
    }
    c10::NoGradGuard no_grad;
    const auto update = [&](size_t i, int64_t begin, int64_t end) {
        const FlushDenormals flush;
        piece(i, begin, end);
    };
    const bool applied = scan_then_update(start_offsets(weights), gradient_scan(grads, check_finite), update);
    if (applied) {
        // Written through data pointers.
        for (size_t i = 0; i < weights.size(); ++i) {
            weights[i].unsafeGetTensorImpl()->bump_version();
            for (auto& slot : slots) {
                if (!slot.tensors.empty()) slot.tensors[i].unsafeGetTensorImpl()->bump_version();
            }
        }
    }
    return applied;
}

}  // namespace slim
