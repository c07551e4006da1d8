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
#include <vector>

#include "error_message.h"
#include "update_checks.h"

extern "C" {

/// `a = momentum·a + g; w −= lr·a` (Nesterov: `w −= lr·(g + momentum·a)`) for `count` triples, or `w −= lr·g`
/// when `accumulations` is null (then `momentum` must be 0). Returns nullptr or an error message.
char* slim_fused_sgd(const at::Tensor* const* variables, const at::Tensor* const* gradients,
                     const at::Tensor* const* accumulations, int64_t count, double momentum, double learning_rate,
                     bool nesterov) {
    try {
        TORCH_CHECK((accumulations == nullptr) == (momentum == 0.0),
                    "accumulations are needed exactly when momentum is not 0");
        auto weights = slim::gather(variables, count);
        auto grads = slim::gather(gradients, count);
        std::vector<at::Tensor> buffers;
        if (accumulations != nullptr) buffers = slim::gather(accumulations, count);
        for (int64_t i = 0; i < count; ++i) {
            slim::check_variable(weights[i], i);
            slim::check_alike(weights[i], grads[i], i, "gradient");
            if (!buffers.empty()) slim::check_alike(weights[i], buffers[i], i, "accumulation");
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
