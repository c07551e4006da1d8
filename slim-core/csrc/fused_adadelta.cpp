// TF's Adadelta step (ApplyAdadelta) for a list of variables in one call and one pass over each variable's memory,
// written as slim's step-by-step Adadelta computes it:
//
//   acc = ρ·acc + (1 − ρ)·g²
//   step = √(acc_update + ε) / √(acc + ε) · g
//   acc_update = ρ·acc_update + (1 − ρ)·step²
//   w −= lr·step
//
// As the fused Adam step (fused_adam.cpp): each variable's gradient and slots must share its layout (checked
// first), the elements of all variables are split across libtorch's OpenMP threads in one parallel region with
// the optional gradient scan, the loop vectorizes, and subnormal results are flushed to zero as TF's kernels do
// (both accumulators decay by ρ each step a gradient stays zero).
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <exception>
#include <vector>

#include "error_message.h"
#include "fused_update.h"
#include "vectorize.h"

namespace {

/// The step's constants, in the variables' precision.
template <typename T>
struct AdadeltaStep {
    T rho, rest;  // ρ and 1 − ρ
    T learning_rate, epsilon;
};

/// The loop (the constants copied out of `step` and the arrays declared unaliased, so that it vectorizes).
template <typename T>
inline void adadelta_span(T* __restrict__ w, const T* __restrict__ g, T* __restrict__ acc, T* __restrict__ update,
                          int64_t count, const AdadeltaStep<T>& step) {
    const T rho = step.rho, rest = step.rest, learning_rate = step.learning_rate, epsilon = step.epsilon;
    for (int64_t i = 0; i < count; ++i) {
        const T gradient = g[i];
        const T accumulated = acc[i] * rho + (gradient * gradient) * rest;
        acc[i] = accumulated;
        const T change = std::sqrt(update[i] + epsilon) / std::sqrt(accumulated + epsilon) * gradient;
        update[i] = update[i] * rho + (change * change) * rest;
        w[i] = w[i] - change * learning_rate;
    }
}

// SLIM_VECTORIZED: AVX-512, AVX2 and baseline builds on x86-64 Linux (vectorize.h).
SLIM_VECTORIZED void adadelta_chunk(float* w, const float* g, float* acc, float* update, int64_t count,
                                    const AdadeltaStep<float>& step) {
    adadelta_span(w, g, acc, update, count, step);
}

SLIM_VECTORIZED void adadelta_chunk(double* w, const double* g, double* acc, double* update, int64_t count,
                                    const AdadeltaStep<double>& step) {
    adadelta_span(w, g, acc, update, count, step);
}

/// The step of elements `[begin, end)` of one variable.
template <typename T>
void adadelta_piece(const at::Tensor& w, const at::Tensor& g, const at::Tensor& acc, const at::Tensor& update,
                    int64_t begin, int64_t end, double rho, double learning_rate, double epsilon) {
    const AdadeltaStep<T> step{T(rho), T(1.0 - rho), T(learning_rate), T(epsilon)};
    adadelta_chunk(w.data_ptr<T>() + begin, g.const_data_ptr<T>() + begin, acc.data_ptr<T>() + begin,
                   update.data_ptr<T>() + begin, end - begin, step);
}

}  // namespace

extern "C" {

/// TF's Adadelta step with decay `rho` (in [0, 1)), `learning_rate` and `epsilon` for `count` variables, their
/// gradients, accumulated squared gradients and accumulated squared updates. With `check_finite`, the gradients
/// are scanned first and, if one holds a NaN or an infinity, nothing is updated and *applied is false. Returns
/// nullptr or an error message; nothing is updated on an error.
char* slim_fused_adadelta(const at::Tensor* const* variables, const at::Tensor* const* gradients,
                          const at::Tensor* const* accumulators, const at::Tensor* const* accumulated_updates,
                          int64_t count, double rho, double learning_rate, double epsilon, bool check_finite,
                          bool* applied) {
    try {
        TORCH_CHECK(rho >= 0.0 && rho < 1.0, "the fused Adadelta step needs a decay in [0, 1), got ", rho);
        auto weights = slim::gather(variables, count);
        const auto grads = slim::gather(gradients, count);
        std::vector<slim::SlotList> slots{slim::slot_list(accumulators, count, "accumulator slot"),
                                          slim::slot_list(accumulated_updates, count, "accumulated-update slot")};
        const auto& accs = slots[0].tensors;
        const auto& updates = slots[1].tensors;
        *applied = slim::fused_update(weights, grads, slots, check_finite, [&](size_t i, int64_t begin, int64_t end) {
            if (weights[i].scalar_type() == at::kFloat) {
                adadelta_piece<float>(weights[i], grads[i], accs[i], updates[i], begin, end, rho, learning_rate,
                                      epsilon);
            } else {
                adadelta_piece<double>(weights[i], grads[i], accs[i], updates[i], begin, end, rho, learning_rate,
                                       epsilon);
            }
        });
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_fused_adadelta");
    }
}

}
