// TF's l2_loss, Σw²/2, as one autograd function for the L2 regularizer: one read of the weights forward (summed
// in the weights' type over blocks and in double across them) and one product backward (dw = w·g). Composed of
// libtorch's ops it made two passes over each weight forward (square, sum) and three backward (PowBackward's
// pow, ×2, ×g), the square and the backward's three writing a tensor each; LeNet's 3.2 M-weight fc3 under
// TF-Slim's default weight decay spent about 2 ms a step there. The backward is made of libtorch's ops, so second derivatives work.
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <exception>

#include "error_message.h"
#include "fixed_ranges.h"
#include "vectorize.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Values summed in the weights' type before a block's sum goes into the double total.
constexpr int64_t kBlock = 1024;

/// Lanes of partial sums: a reduction into one accumulator would stay scalar (float addition does not
/// reassociate), while lane-wise sums vectorize as independent columns.
constexpr int64_t kLanes = 32;

template <typename T>
inline T squares_of(const T* __restrict__ w, int64_t count) {
    T lanes[kLanes] = {};
    const int64_t whole = count - count % kLanes;
    for (int64_t i = 0; i < whole; i += kLanes) {
        for (int64_t lane = 0; lane < kLanes; ++lane) lanes[lane] += w[i + lane] * w[i + lane];
    }
    T sum = 0;
    for (int64_t lane = 0; lane < kLanes; ++lane) sum += lanes[lane];
    for (int64_t i = whole; i < count; ++i) sum += w[i] * w[i];
    return sum;
}

SLIM_VECTORIZED float block_squares(const float* w, int64_t count) { return squares_of(w, count); }
SLIM_VECTORIZED double block_squares(const double* w, int64_t count) { return squares_of(w, count); }

/// Σw² over `count` values, in fixed ranges of at least 16 blocks (fixed_ranges.h).
template <typename T>
double sum_of_squares(const T* w, int64_t count) {
    return slim::reduce_in_fixed_ranges<T>(count, kBlock, 16 * kBlock, 1, [&](int64_t first, int64_t n, T* sum) {
        *sum += block_squares(w + first, n);
    })[0];
}

struct HalfSquaredNorm : public torch::autograd::Function<HalfSquaredNorm> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& weights) {
        ctx->save_for_backward({weights});
        const auto dense = weights.is_non_overlapping_and_dense() ? weights : weights.contiguous();
        const double sum = weights.scalar_type() == at::kFloat
                               ? sum_of_squares(dense.const_data_ptr<float>(), dense.numel())
                               : sum_of_squares(dense.const_data_ptr<double>(), dense.numel());
        return at::scalar_tensor(sum / 2.0, weights.options());
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto weights = ctx->get_saved_variables()[0];
        return {weights * grads[0]};
    }
};

}  // namespace

extern "C" {

/// Σw²/2 of *weights (a float32 or float64 CPU tensor) → *out, a differentiable scalar of its dtype. Returns
/// nullptr or an error message.
char* slim_half_squared_norm(const at::Tensor* weights, at::Tensor** out) {
    try {
        TORCH_CHECK(weights->device().is_cpu() &&
                        (weights->scalar_type() == at::kFloat || weights->scalar_type() == at::kDouble),
                    "l2_loss takes float32 or float64 CPU weights, not ", weights->toString());
        *out = new at::Tensor(HalfSquaredNorm::apply(*weights));
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_half_squared_norm");
    }
}

}
