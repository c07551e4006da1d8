// Checks shared by slim's fused optimizer updates.

#include "update_checks.h"

namespace slim {

namespace {

/// Whether `a` and `b` have the same sizes and strides, except along dimensions of size 1 (no index steps there).
bool same_layout(const at::Tensor& a, const at::Tensor& b) {
    if (a.sizes() != b.sizes()) return false;
    for (int64_t d = 0; d < a.dim(); ++d) {
        if (a.size(d) != 1 && a.stride(d) != b.stride(d)) return false;
    }
    return true;
}

}  // namespace

void check_variable(const at::Tensor& variable, int64_t position) {
    TORCH_CHECK(variable.defined(), "position ", position, ": the variable is undefined");
    const auto kind = variable.scalar_type();
    TORCH_CHECK(variable.device().is_cpu() && (kind == at::kFloat || kind == at::kDouble), "position ", position,
                ": the fused update covers float32 and float64 CPU variables, not ", variable.toString());
    TORCH_CHECK(variable.is_non_overlapping_and_dense(), "position ", position,
                ": the variable is not dense in memory (strides ", variable.strides(), ")");
}

void check_alike(const at::Tensor& variable, const at::Tensor& tensor, int64_t position, const char* what) {
    TORCH_CHECK(tensor.defined(), "position ", position, ": the ", what, " is undefined");
    TORCH_CHECK(same_layout(variable, tensor), "position ", position, ": the ", what, " has sizes ", tensor.sizes(),
                " and strides ", tensor.strides(), ", the variable ", variable.sizes(), " and ", variable.strides());
    TORCH_CHECK(tensor.scalar_type() == variable.scalar_type() && tensor.device() == variable.device(),
                "position ", position, ": the ", what, " is ", tensor.toString(), ", the variable ",
                variable.toString());
}

std::vector<at::Tensor> gather(const at::Tensor* const* handles, int64_t count) {
    std::vector<at::Tensor> tensors;
    tensors.reserve(count);
    for (int64_t i = 0; i < count; ++i) tensors.push_back(*handles[i]);
    return tensors;
}

}  // namespace slim
