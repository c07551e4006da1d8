// Whether every element of a list of tensors is finite, answered in one call: the train op's check that no
// gradient holds a NaN or an infinity before the optimizer applies them.
//
// Dense float32 and float64 CPU tensors are scanned in place, all in one parallel region (finite_scan.h); other
// tensors (another device or dtype, gaps in memory) go through ATen's isfinite, with one read-back for all of
// them.
//
// C interface: returns nullptr on success (the answer in *all_finite) or an error message the caller frees with
// slim_free_error.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <exception>
#include <vector>

#include "error_message.h"
#include "finite_scan.h"
#include "tensor_list.h"

namespace {

/// Whether finite_scan.h's scan covers `tensor` (else ATen's isfinite does).
bool scanned_in_place(const at::Tensor& tensor) {
    const auto kind = tensor.scalar_type();
    return tensor.device().is_cpu() && (kind == at::kFloat || kind == at::kDouble) &&
           tensor.is_non_overlapping_and_dense();
}

bool all_finite(const at::Tensor* const* tensors, int64_t count) {
    std::vector<at::Tensor> scanned;
    std::vector<at::Tensor> others;
    for (int64_t i = 0; i < count; ++i) {
        const at::Tensor& tensor = *tensors[i];
        TORCH_CHECK(tensor.defined(), "position ", i, ": the tensor is undefined");
        if (scanned_in_place(tensor)) {
            scanned.push_back(tensor);
        } else {
            others.push_back(at::isfinite(tensor).all());
        }
    }
    if (!slim::list_is_finite(scanned, slim::start_offsets(scanned))) return false;
    return others.empty() || at::stack(others).all().item<bool>();
}

}  // namespace

extern "C" {

/// Sets *result to whether every element of the `count` tensors is finite. Returns nullptr or an error message.
char* slim_all_finite(const at::Tensor* const* tensors, int64_t count, bool* result) {
    try {
        c10::NoGradGuard no_grad;
        *result = all_finite(tensors, count);
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_all_finite");
    }
}

}
