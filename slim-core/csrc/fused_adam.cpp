// TF's Adam step (and AdamW's decoupled decay) for a list of variables in one call and one pass over each
// variable's memory. ATen's own fused Adam puts epsilon where PyTorch's Adam does, so slim has its own kernel
// with TF's formula, written as slim's step-by-step Adam computes it:
//
//   w −= wd·w   (AdamW only)
//   m += (1 − β1)(g − m);   v += (1 − β2)(g² − v)   (ATen's lerp, for β1, β2 above one half)
//   w += m / ((√v + ε) · (−1/α))   with α = lr·√(1 − β2^t)/(1 − β1^t)
//
// Each variable's gradient and slots must share its layout (checked first, as for the fused SGD step); all
// variables' elements are split across libtorch's OpenMP threads in one parallel region (tensor_list.h), with the
// optional gradient scan in the same region, and the loop vectorizes (on x86-64 Linux for AVX-512,
// AVX2 or the baseline, chosen at load time). The update runs with subnormal floats flushed to zero
// (flush_denormals.h), as TF's kernels do: moments that decay under zero gradients end at zero instead of in the
// subnormal range, where every vector op on them took a microcode assist.
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
struct AdamStep {
    T first_rate, second_rate;  // 1 − β1 and 1 − β2, both below one half: the lerp weights
    T negative_inverse_alpha;   // −1/α
    T epsilon;
    T decay;                    // AdamW's wd
};

/// The loop, with the decay decided outside it: branch-free, so it vectorizes. ATen's lerp for weights below
/// one half is `from + weight·(to − from)`.
template <typename T, bool Decay>
inline void adam_span(T* w, const T* g, T* m, T* v, int64_t count, const AdamStep<T>& step) {
    for (int64_t i = 0; i < count; ++i) {
        T weight = w[i];
        if constexpr (Decay) weight = weight - weight * step.decay;
        const T gradient = g[i];
        const T first = m[i] + step.first_rate * (gradient - m[i]);
        const T second = v[i] + step.second_rate * (gradient * gradient - v[i]);
        m[i] = first;
        v[i] = second;
        w[i] = weight + first / ((std::sqrt(second) + step.epsilon) * step.negative_inverse_alpha);
    }
}

template <typename T>
inline void adam_any(T* w, const T* g, T* m, T* v, int64_t count, const AdamStep<T>& step) {
    if (step.decay != T(0)) {
        adam_span<T, true>(w, g, m, v, count, step);
    } else {
        adam_span<T, false>(w, g, m, v, count, step);
    }
}

// SLIM_VECTORIZED: AVX-512, AVX2 and baseline builds on x86-64 Linux (vectorize.h).
SLIM_VECTORIZED void adam_chunk(float* w, const float* g, float* m, float* v, int64_t count,
                                const AdamStep<float>& step) {
    adam_any(w, g, m, v, count, step);
}

SLIM_VECTORIZED void adam_chunk(double* w, const double* g, double* m, double* v, int64_t count,
                                const AdamStep<double>& step) {
    adam_any(w, g, m, v, count, step);
}

/// The step of elements `[begin, end)` of one variable.
void adam_piece(const at::Tensor& w, const at::Tensor& g, const at::Tensor& m, const at::Tensor& v, int64_t begin,
                int64_t end, const AdamStep<float>& float_step, const AdamStep<double>& double_step) {
    const int64_t count = end - begin;
    if (w.scalar_type() == at::kFloat) {
        adam_chunk(w.data_ptr<float>() + begin, g.const_data_ptr<float>() + begin, m.data_ptr<float>() + begin,
                   v.data_ptr<float>() + begin, count, float_step);
    } else {
        adam_chunk(w.data_ptr<double>() + begin, g.const_data_ptr<double>() + begin, m.data_ptr<double>() + begin,
                   v.data_ptr<double>() + begin, count, double_step);
    }
}

template <typename T>
AdamStep<T> step_for(double beta1, double beta2, double alpha, double epsilon, double decay) {
    return AdamStep<T>{T(1.0 - beta1), T(1.0 - beta2), T(-1.0 / alpha), T(epsilon), T(decay)};
}

}  // namespace

extern "C" {

/// TF's Adam step (with AdamW's decay `weight_decay`, 0 for none) at step size `alpha` (not 0) for `count`
/// variables, their gradients and their two slots; β1 and β2 above one half (the branch of ATen's lerp this
/// kernel follows). With `check_finite`, the gradients are scanned first and, if one holds a NaN or an infinity,
/// nothing is updated and *applied is false. Returns nullptr or an error message; nothing is updated on an error.
char* slim_fused_adam(const at::Tensor* const* variables, const at::Tensor* const* gradients,
                      const at::Tensor* const* first_moments, const at::Tensor* const* second_moments, int64_t count,
                      double beta1, double beta2, double alpha, double epsilon, double weight_decay,
                      bool check_finite, bool* applied) {
    try {
        TORCH_CHECK(beta1 > 0.5 && beta2 > 0.5 && alpha != 0.0,
                    "the fused Adam step needs β1 and β2 above one half and a non-zero step size");
        auto weights = slim::gather(variables, count);
        const auto grads = slim::gather(gradients, count);
        std::vector<slim::SlotList> slots{slim::slot_list(first_moments, count, "first-moment slot"),
                                          slim::slot_list(second_moments, count, "second-moment slot")};
        const auto& firsts = slots[0].tensors;
        const auto& seconds = slots[1].tensors;
        const auto float_step = step_for<float>(beta1, beta2, alpha, epsilon, weight_decay);
        const auto double_step = step_for<double>(beta1, beta2, alpha, epsilon, weight_decay);
        *applied = slim::fused_update(weights, grads, slots, check_finite, [&](size_t i, int64_t begin, int64_t end) {
            adam_piece(weights[i], grads[i], firsts[i], seconds[i], begin, end, float_step, double_step);
        });
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_fused_adam");
    }
}

}
