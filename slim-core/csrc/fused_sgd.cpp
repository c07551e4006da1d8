// Momentum and plain gradient descent for a list of variables in one call: one parallel region over the run of
// all their elements (tensor_list.h), each element read and written once. Optionally the gradients are first
// scanned for NaNs and infinities in the same chunks, so that each thread updates memory it has just read.
//
//   a = momentum·a + g;   w −= lr·a   (Nesterov: w −= lr·(g + momentum·a))   or, without accumulations, w −= lr·g
//
// The kernel indexes each variable, its gradient and its accumulation as flat arrays, so every triple is checked
// first: same sizes and strides (except along dimensions of size 1), dtype and device; float32 or float64 on the
// CPU; dense and non-overlapping. A failed check is an error naming the position in the list; nothing is updated
// then. The update runs with subnormal floats flushed to zero (flush_denormals.h), as TF's kernels do: an
// accumulation that decays under zero gradients ends at zero instead of in the slow subnormal range.
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <exception>
#include <vector>

#include "error_message.h"
#include "fused_update.h"
#include "vectorize.h"

namespace {

/// One step's constants, in the variables' precision.
template <typename T>
struct SgdStep {
    T momentum;
    T learning_rate;
};

/// The loop, with the rule decided outside it: branch-free, so it vectorizes.
template <typename T, bool Accumulate, bool Nesterov>
inline void sgd_span(T* w, const T* g, T* a, int64_t count, const SgdStep<T>& step) {
    for (int64_t i = 0; i < count; ++i) {
        T direction = g[i];
        if constexpr (Accumulate) {
            const T accumulation = step.momentum * a[i] + g[i];
            a[i] = accumulation;
            direction = Nesterov ? g[i] + step.momentum * accumulation : accumulation;
        }
        w[i] = w[i] - step.learning_rate * direction;
    }
}

template <typename T>
inline void sgd_any(T* w, const T* g, T* a, int64_t count, const SgdStep<T>& step, bool nesterov) {
    if (a == nullptr) {
        sgd_span<T, false, false>(w, g, a, count, step);
    } else if (nesterov) {
        sgd_span<T, true, true>(w, g, a, count, step);
    } else {
        sgd_span<T, true, false>(w, g, a, count, step);
    }
}

// SLIM_VECTORIZED: AVX-512, AVX2 and baseline builds on x86-64 Linux (vectorize.h).
SLIM_VECTORIZED void sgd_chunk(float* w, const float* g, float* a, int64_t count, const SgdStep<float>& step,
                               bool nesterov) {
    sgd_any(w, g, a, count, step, nesterov);
}

SLIM_VECTORIZED void sgd_chunk(double* w, const double* g, double* a, int64_t count, const SgdStep<double>& step,
                               bool nesterov) {
    sgd_any(w, g, a, count, step, nesterov);
}

/// The update of elements `[begin, end)` of one variable (its accumulation undefined for plain descent).
void update_piece(const at::Tensor& w, const at::Tensor& g, const at::Tensor* a, int64_t begin, int64_t end,
                  double momentum, double learning_rate, bool nesterov) {
    const int64_t count = end - begin;
    if (w.scalar_type() == at::kFloat) {
        float* slot = a == nullptr ? nullptr : a->data_ptr<float>() + begin;
        sgd_chunk(w.data_ptr<float>() + begin, g.const_data_ptr<float>() + begin, slot, count,
                  SgdStep<float>{float(momentum), float(learning_rate)}, nesterov);
    } else {
        double* slot = a == nullptr ? nullptr : a->data_ptr<double>() + begin;
        sgd_chunk(w.data_ptr<double>() + begin, g.const_data_ptr<double>() + begin, slot, count,
                  SgdStep<double>{momentum, learning_rate}, nesterov);
    }
}

}  // namespace

extern "C" {

/// The step above for `count` triples (`accumulations` null for plain descent, then `momentum` must be 0). With
/// `check_finite`, the gradients are scanned first and, if one holds a NaN or an infinity, nothing is updated
/// and *applied is false. Returns nullptr or an error message (then nothing is updated either).
char* slim_fused_sgd(const at::Tensor* const* variables, const at::Tensor* const* gradients,
                     const at::Tensor* const* accumulations, int64_t count, double momentum, double learning_rate,
                     bool nesterov, bool check_finite, bool* applied) {
    try {
        TORCH_CHECK((accumulations == nullptr) == (momentum == 0.0),
                    "accumulations are needed exactly when momentum is not 0");
        auto weights = slim::gather(variables, count);
        const auto grads = slim::gather(gradients, count);
        std::vector<slim::SlotList> slots{slim::slot_list(accumulations, count, "accumulation")};
        const auto& buffers = slots[0].tensors;  // empty for plain descent
        *applied = slim::fused_update(weights, grads, slots, check_finite, [&](size_t i, int64_t begin, int64_t end) {
            update_piece(weights[i], grads[i], buffers.empty() ? nullptr : &buffers[i], begin, end, momentum,
                         learning_rate, nesterov);
        });
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_fused_sgd");
    }
}

}
