// TF's RMSProp step (ApplyRMSProp, and ApplyCenteredRMSProp with a mean-gradient slot) for a list of variables
// in one call and one pass over each variable's memory, written as slim's step-by-step RMSProp computes it:
//
//   ms = lerp(ms, g², 1 − ρ)                    (ATen's lerp: both of its branches)
//   mg = lerp(mg, g, 1 − ρ)                     (centered only)
//   mom = μ·mom + (lr·g) / √(ms [− mg²] + ε)
//   w −= mom
//
// As the fused Adam step (fused_adam.cpp): each variable's gradient and slots must share its layout (checked
// first), the elements of all variables are split across libtorch's OpenMP threads in one parallel region with
// the optional gradient scan, the loop vectorizes, and subnormal results are flushed to zero as TF's kernels do
// (a mean square decays by ρ each step a gradient stays zero).
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
struct RmsPropStep {
    T rate;          // 1 − ρ: lerp's weight
    T momentum;      // μ
    T learning_rate;
    T epsilon;
};

/// ATen's lerp of `from` toward `to` by `weight`: `from + w·(to − from)` below one half, else
/// `to − (to − from)·(1 − w)`.
template <typename T, bool SmallWeight>
inline T rmsprop_lerp(T from, T to, T weight) {
    if constexpr (SmallWeight) {
        return from + weight * (to - from);
    } else {
        return to - (to - from) * (T(1) - weight);
    }
}

/// The loop, with the lerp's branch and centering decided outside it (branch-free, so it vectorizes: the
/// constants are copied out of `step` and the arrays declared unaliased, else GCC reloads them from memory each
/// element and the loop stays scalar); `mg` is null unless centered.
template <typename T, bool SmallWeight, bool Centered>
inline void rmsprop_span(T* __restrict__ w, const T* __restrict__ g, T* __restrict__ ms, T* __restrict__ mg,
                         T* __restrict__ mom, int64_t count, const RmsPropStep<T>& step) {
    const T rate = step.rate, momentum = step.momentum, learning_rate = step.learning_rate, epsilon = step.epsilon;
    for (int64_t i = 0; i < count; ++i) {
        const T gradient = g[i];
        const T mean_square = rmsprop_lerp<T, SmallWeight>(ms[i], gradient * gradient, rate);
        ms[i] = mean_square;
        T denominator = mean_square;
        if constexpr (Centered) {
            const T mean_gradient = rmsprop_lerp<T, SmallWeight>(mg[i], gradient, rate);
            mg[i] = mean_gradient;
            denominator = mean_square - mean_gradient * mean_gradient;
        }
        const T velocity = mom[i] * momentum + (gradient * learning_rate) / std::sqrt(denominator + epsilon);
        mom[i] = velocity;
        w[i] = w[i] - velocity;
    }
}

template <typename T>
inline void rmsprop_any(T* w, const T* g, T* ms, T* mg, T* mom, int64_t count, const RmsPropStep<T>& step) {
    const bool small = step.rate < T(0.5);
    if (mg != nullptr) {
        small ? rmsprop_span<T, true, true>(w, g, ms, mg, mom, count, step)
              : rmsprop_span<T, false, true>(w, g, ms, mg, mom, count, step);
    } else {
        small ? rmsprop_span<T, true, false>(w, g, ms, mg, mom, count, step)
              : rmsprop_span<T, false, false>(w, g, ms, mg, mom, count, step);
    }
}

// SLIM_VECTORIZED: AVX-512, AVX2 and baseline builds on x86-64 Linux (vectorize.h).
SLIM_VECTORIZED void rmsprop_chunk(float* w, const float* g, float* ms, float* mg, float* mom, int64_t count,
                                   const RmsPropStep<float>& step) {
    rmsprop_any(w, g, ms, mg, mom, count, step);
}

SLIM_VECTORIZED void rmsprop_chunk(double* w, const double* g, double* ms, double* mg, double* mom, int64_t count,
                                   const RmsPropStep<double>& step) {
    rmsprop_any(w, g, ms, mg, mom, count, step);
}

/// `t`'s elements from `begin` as T, or null for an undefined tensor.
template <typename T>
T* rmsprop_elements(const at::Tensor& t, int64_t begin) {
    return t.defined() ? t.data_ptr<T>() + begin : nullptr;
}

/// The step of elements `[begin, end)` of one variable (`mg` undefined unless centered).
void rmsprop_piece(const at::Tensor& w, const at::Tensor& g, const at::Tensor& ms, const at::Tensor& mg,
                   const at::Tensor& mom, int64_t begin, int64_t end, const RmsPropStep<float>& float_step,
                   const RmsPropStep<double>& double_step) {
    const int64_t count = end - begin;
    if (w.scalar_type() == at::kFloat) {
        rmsprop_chunk(w.data_ptr<float>() + begin, g.const_data_ptr<float>() + begin, ms.data_ptr<float>() + begin,
                      rmsprop_elements<float>(mg, begin), mom.data_ptr<float>() + begin, count, float_step);
    } else {
        rmsprop_chunk(w.data_ptr<double>() + begin, g.const_data_ptr<double>() + begin,
                      ms.data_ptr<double>() + begin, rmsprop_elements<double>(mg, begin),
                      mom.data_ptr<double>() + begin, count, double_step);
    }
}

template <typename T>
RmsPropStep<T> rmsprop_step_for(double decay, double momentum, double learning_rate, double epsilon) {
    return RmsPropStep<T>{T(1.0 - decay), T(momentum), T(learning_rate), T(epsilon)};
}

}  // namespace

extern "C" {

/// TF's RMSProp step with decay `decay` (ρ in [0, 1)), momentum `momentum`, `learning_rate` and `epsilon` for
/// `count` variables, their gradients and slots: mean squares, momenta and, where `mean_gradients` is not null
/// (centered RMSProp), mean gradients. With `check_finite`, the gradients are scanned first and, if one holds a
/// NaN or an infinity, nothing is updated and *applied is false. Returns nullptr or an error message; nothing is
/// updated on an error.
char* slim_fused_rmsprop(const at::Tensor* const* variables, const at::Tensor* const* gradients,
                         const at::Tensor* const* mean_squares, const at::Tensor* const* mean_gradients,
                         const at::Tensor* const* momenta, int64_t count, double decay, double momentum,
                         double learning_rate, double epsilon, bool check_finite, bool* applied) {
    try {
        TORCH_CHECK(decay >= 0.0 && decay < 1.0, "the fused RMSProp step needs a decay in [0, 1), got ", decay);
        auto weights = slim::gather(variables, count);
        const auto grads = slim::gather(gradients, count);
        std::vector<slim::SlotList> slots{slim::slot_list(mean_squares, count, "mean-square slot"),
                                          slim::slot_list(momenta, count, "momentum slot"),
                                          slim::slot_list(mean_gradients, count, "mean-gradient slot")};
        const auto& squares = slots[0].tensors;
        const auto& moms = slots[1].tensors;
        const auto& means = slots[2].tensors;  // empty unless centered
        const auto float_step = rmsprop_step_for<float>(decay, momentum, learning_rate, epsilon);
        const auto double_step = rmsprop_step_for<double>(decay, momentum, learning_rate, epsilon);
        *applied = slim::fused_update(weights, grads, slots, check_finite, [&](size_t i, int64_t begin, int64_t end) {
            const at::Tensor none;
            rmsprop_piece(weights[i], grads[i], squares[i], means.empty() ? none : means[i], moms[i], begin, end,
                          float_step, double_step);
        });
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_fused_rmsprop");
    }
}

}
