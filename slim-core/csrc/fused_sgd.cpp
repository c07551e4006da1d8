// ATen's fused SGD step (`_fused_sgd_`), which tch does not bind: one call updates a whole list of variables,
// each in one pass over its memory (momentum accumulation and variable update together).
//
// The CPU kernel indexes the variable, its gradient and its momentum accumulation as flat arrays and checks
// neither their sizes nor their strides, so this binding checks every triple first: same sizes and strides
// (except along dimensions of size 1), dtype and device; float32 or float64 on the CPU; dense and
// non-overlapping. A failed check is an error naming the position in the list; nothing is updated then.
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <exception>
#include <string>
#include <vector>

#include "error_message.h"

namespace {

/// Whether `a` and `b` have the same sizes and strides, except along dimensions of size 1 (no index steps there).
bool same_layout(const at::Tensor& a, const at::Tensor& b) {
    if (a.sizes() != b.sizes()) return false;
    for (int64_t d = 0; d < a.dim(); ++d) {
        if (a.size(d) != 1 && a.stride(d) != b.stride(d)) return false;
    }
    return true;
}

/// Throws unless `tensor` can share the flat indexing of `variable` (layout, dtype, device).
void check_alike(const at::Tensor& variable, const at::Tensor& tensor, int64_t index, const char* what) {
    TORCH_CHECK(tensor.defined(), "position ", index, ": the ", what, " is undefined");
    TORCH_CHECK(same_layout(variable, tensor), "position ", index,
                ": the ", what, " has sizes ", tensor.sizes(), " and strides ", tensor.strides(),
                ", the variable ", variable.sizes(), " and ", variable.strides());
    TORCH_CHECK(tensor.scalar_type() == variable.scalar_type() && tensor.device() == variable.device(),
                "position ", index, ": the ", what, " is ", tensor.toString(), ", the variable ",
                variable.toString());
}

/// Throws unless `variable` is a dense float CPU tensor the kernel may index flat.
void check_variable(const at::Tensor& variable, int64_t index) {
    TORCH_CHECK(variable.defined(), "position ", index, ": the variable is undefined");
    const auto kind = variable.scalar_type();
    TORCH_CHECK(variable.device().is_cpu() && (kind == at::kFloat || kind == at::kDouble), "position ", index,
                ": the fused step covers float32 and float64 CPU variables, not ", variable.toString());
    TORCH_CHECK(variable.is_non_overlapping_and_dense(), "position ", index,
                ": the variable is not dense in memory (strides ", variable.strides(), ")");
}

std::vector<at::Tensor> gather(const at::Tensor* const* handles, int64_t count) {
    std::vector<at::Tensor> tensors;
    tensors.reserve(count);
    for (int64_t i = 0; i < count; ++i) tensors.push_back(*handles[i]);
    return tensors;
}

}  // namespace

extern "C" {

/// `a = momentum·a + g; w −= lr·a` (Nesterov: `w −= lr·(g + momentum·a)`) for `count` triples, or `w −= lr·g`
/// when `accumulations` is null (then `momentum` must be 0). Returns nullptr or an error message.
char* slim_fused_sgd(const at::Tensor* const* variables, const at::Tensor* const* gradients,
                     const at::Tensor* const* accumulations, int64_t count, double momentum, double learning_rate,
                     bool nesterov) {
    try {
        TORCH_CHECK((accumulations == nullptr) == (momentum == 0.0),
                    "accumulations are needed exactly when momentum is not 0");
        auto weights = gather(variables, count);
        auto grads = gather(gradients, count);
        std::vector<at::Tensor> buffers;
        if (accumulations != nullptr) buffers = gather(accumulations, count);
        for (int64_t i = 0; i < count; ++i) {
            check_variable(weights[i], i);
            check_alike(weights[i], grads[i], i, "gradient");
            if (!buffers.empty()) check_alike(weights[i], buffers[i], i, "accumulation");
        }
        c10::NoGradGuard no_grad;
        at::_fused_sgd_(weights, grads, buffers, /*weight_decay=*/0.0, momentum, learning_rate,
                        /*dampening=*/0.0, nesterov, /*maximize=*/false, /*is_first_step=*/false);
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_fused_sgd");
    }
}

}
