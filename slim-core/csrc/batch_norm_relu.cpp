// Training-mode batch norm of a channels-last [N, C, H, W] tensor (or of [N, C]), with an optional ReLU after it,
// as one autograd function. libtorch runs them as separate ops (native_batch_norm, relu, and their backward
// ops), each a pass over the activations writing its own tensor, bfloat16 through a slow path (a trace of
// ResNet-32's bf16 step: 23 ms of batch norm and about 5 ms of ReLU in 171); here the input is a run of N·H·W (or
// N) rows of C channels, three passes forward and two backward:
//
//   forward:  mean = Σx/M;  var = Σ(x − mean)²/M  (two passes);
//             y = relu(x·a + b),  a = γ/√(var + ε),  b = β − mean·a  (one pass)
//   backward: g' = g where y is not ≤ 0;  Σg', Σg'·(x − mean)  (one pass);
//             dx = k₁·g' + k₂·x + k₃  (one pass)
//
// with M = N·H·W. A NaN passes the ReLU, forward and backward, as in libtorch. Reductions run over fixed row
// ranges, one per thread, summed in float over blocks of rows and in double across them, so a result does not
// depend on the scheduling. As libtorch's batch_norm, the forward moves the given running mean and variance
// toward the batch's (the variance unbiased) in place. float32 or bfloat16 activations (bfloat16 as autocast
// leaves a convolution's output), float32 parameters and statistics.
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <vector>

#include "bfloat16_bits.h"
#include "error_message.h"
#include "fixed_ranges.h"
#include "vectorize.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Rows summed in float before the block's sums go into the double totals.
constexpr int64_t kBlockRows = 64;

using slim::narrow;
using slim::widen;

/// Per channel over `rows` rows of `x`: sums[c] += Σ (x − shift[c]), or with `Square` Σ (x − shift[c])².
template <typename T, bool Square>
inline void moment_rows(const T* __restrict__ x, int64_t rows, int64_t channels, const float* __restrict__ shift,
                        float* __restrict__ sums) {
    for (int64_t row = 0; row < rows; ++row) {
        const T* line = x + row * channels;
        for (int64_t c = 0; c < channels; ++c) {
            const float centred = widen(line[c]) - shift[c];
            sums[c] += Square ? centred * centred : centred;
        }
    }
}

/// Per channel over `rows` rows: sums[c] += Σ g', dots[c] += Σ g'·(x − mean[c]), g' = g where the mask allows.
template <typename T, bool Relu>
inline void gradient_rows(const T* __restrict__ g, const T* __restrict__ x, const T* __restrict__ y, int64_t rows,
                          int64_t channels, const float* __restrict__ mean, float* __restrict__ sums,
                          float* __restrict__ dots) {
    for (int64_t row = 0; row < rows; ++row) {
        const int64_t at = row * channels;
        for (int64_t c = 0; c < channels; ++c) {
            const float gradient = widen(g[at + c]);  // loaded unconditionally: a conditional load stops vectorizing
            const float passed = Relu ? (widen(y[at + c]) <= 0.0f ? 0.0f : gradient) : gradient;
            sums[c] += passed;
            dots[c] += passed * (widen(x[at + c]) - mean[c]);
        }
    }
}

/// out = x·a + b per channel, then the ReLU where asked.
template <typename T, bool Relu>
inline void normalize_rows(const T* __restrict__ x, T* __restrict__ out, int64_t rows, int64_t channels,
                           const float* __restrict__ a, const float* __restrict__ b) {
    for (int64_t row = 0; row < rows; ++row) {
        const int64_t at = row * channels;
        for (int64_t c = 0; c < channels; ++c) {
            const float value = widen(x[at + c]) * a[c] + b[c];
            out[at + c] = narrow<T>(Relu ? (value <= 0.0f ? 0.0f : value) : value);
        }
    }
}

/// dx = k1·g' + k2·x + k3 per channel.
template <typename T, bool Relu>
inline void input_gradient_rows(const T* __restrict__ g, const T* __restrict__ x, const T* __restrict__ y,
                                T* __restrict__ dx, int64_t rows, int64_t channels, const float* __restrict__ k1,
                                const float* __restrict__ k2, const float* __restrict__ k3) {
    for (int64_t row = 0; row < rows; ++row) {
        const int64_t at = row * channels;
        for (int64_t c = 0; c < channels; ++c) {
            const float gradient = widen(g[at + c]);  // loaded unconditionally: a conditional load stops vectorizing
            const float passed = Relu ? (widen(y[at + c]) <= 0.0f ? 0.0f : gradient) : gradient;
            dx[at + c] = narrow<T>(k1[c] * passed + k2[c] * widen(x[at + c]) + k3[c]);
        }
    }
}

// The loops compiled for AVX-512, AVX2 and the baseline (vectorize.h), one entry per dtype and variant.
#define SLIM_ROW_KERNELS(T)                                                                                          \
    SLIM_VECTORIZED void sum_rows(const T* x, int64_t rows, int64_t channels, const float* shift, float* sums) {   \
        moment_rows<T, false>(x, rows, channels, shift, sums);                                                        \
    }                                                                                                                 \
    SLIM_VECTORIZED void square_rows(const T* x, int64_t rows, int64_t channels, const float* shift, float* sums) { \
        moment_rows<T, true>(x, rows, channels, shift, sums);                                                         \
    }                                                                                                                 \
    SLIM_VECTORIZED void gradient_sums(const T* g, const T* x, const T* y, int64_t rows, int64_t channels,          \
                                       const float* mean, float* sums, float* dots, bool relu) {                      \
        if (relu) {                                                                                                   \
            gradient_rows<T, true>(g, x, y, rows, channels, mean, sums, dots);                                        \
        } else {                                                                                                      \
            gradient_rows<T, false>(g, x, y, rows, channels, mean, sums, dots);                                       \
        }                                                                                                             \
    }                                                                                                                 \
    SLIM_VECTORIZED void normalize(const T* x, T* out, int64_t rows, int64_t channels, const float* a,             \
                                   const float* b, bool relu) {                                                       \
        if (relu) {                                                                                                   \
            normalize_rows<T, true>(x, out, rows, channels, a, b);                                                    \
        } else {                                                                                                      \
            normalize_rows<T, false>(x, out, rows, channels, a, b);                                                   \
        }                                                                                                             \
    }                                                                                                                 \
    SLIM_VECTORIZED void input_gradient(const T* g, const T* x, const T* y, T* dx, int64_t rows, int64_t channels, \
                                        const float* k1, const float* k2, const float* k3, bool relu) {               \
        if (relu) {                                                                                                   \
            input_gradient_rows<T, true>(g, x, y, dx, rows, channels, k1, k2, k3);                                    \
        } else {                                                                                                      \
            input_gradient_rows<T, false>(g, x, y, dx, rows, channels, k1, k2, k3);                                   \
        }                                                                                                             \
    }

SLIM_ROW_KERNELS(float)
SLIM_ROW_KERNELS(uint16_t)
#undef SLIM_ROW_KERNELS

/// Per-lane totals (`width` floats a row of partials, e.g. sums then dots) of `block(first_row, rows, partial)`
/// over all rows in blocks of kBlockRows: float within a block, double across blocks and ranges.
template <typename Block>
std::vector<double> reduce_rows(int64_t rows, int64_t width, const Block& block) {
    return slim::reduce_in_fixed_ranges<float>(rows, kBlockRows, kBlockRows, width, block);
}

/// Runs `rows_fn(first_row, rows)` over all rows in parallel.
template <typename Rows>
void for_rows(int64_t rows, const Rows& rows_fn) {
    at::parallel_for(0, rows, kBlockRows * 4, [&](int64_t first, int64_t last) { rows_fn(first, last - first); });
}

/// The memory layout that makes `x` rows of channels: channels-last for [N, C, H, W], plain for [N, C].
at::MemoryFormat rows_layout(const at::Tensor& x) {
    return x.dim() == 4 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

/// A parameter's values as a contiguous float32 tensor outside autograd.
at::Tensor channel_values(const at::Tensor& parameter) { return parameter.detach().to(at::kFloat).contiguous(); }

/// How the kernels walk the activations: as rows of `width` values. The width is C, or 64 where C divides 64
/// and the values fill whole rows of 64: then a row holds several pixels' channels and the inner loops span whole
/// vectors (C = 16 would be one AVX-512 vector a row otherwise). Per-channel constants repeat across a row's
/// lanes; per-lane sums fold back into channels.
struct Lanes {
    int64_t channels;
    int64_t pixels;  // M = N·H·W, the values each channel's statistics cover
    int64_t width;
    int64_t rows;

    Lanes(int64_t channel_count, int64_t values) : channels(channel_count), pixels(values / channel_count) {
        constexpr int64_t kWide = 64;
        width = channels < kWide && kWide % channels == 0 && values % kWide == 0 ? kWide : channels;
        rows = values / width;
    }

    /// `per_channel` (C values) repeated across a row's lanes.
    std::vector<float> repeat(const std::vector<float>& per_channel) const {
        std::vector<float> lanes(width);
        for (int64_t lane = 0; lane < width; ++lane) lanes[lane] = per_channel[lane % channels];
        return lanes;
    }

    /// `groups` runs of per-lane totals folded into runs of per-channel totals.
    std::vector<double> fold(const std::vector<double>& lanes, int64_t groups) const {
        std::vector<double> totals(groups * channels, 0.0);
        for (int64_t group = 0; group < groups; ++group)
            for (int64_t lane = 0; lane < width; ++lane)
                totals[group * channels + lane % channels] += lanes[group * width + lane];
        return totals;
    }
};

/// A float tensor's values as a vector.
std::vector<float> values_of(const at::Tensor& t) {
    const float* data = t.const_data_ptr<float>();
    return std::vector<float>(data, data + t.numel());
}

struct Statistics {
    at::Tensor mean;
    at::Tensor invstd;
};

/// The batch's mean and 1/√(variance + ε) per channel (two passes), moving the running statistics toward the
/// mean and the unbiased variance.
template <typename T>
Statistics batch_statistics(const T* x, const Lanes& lanes, double epsilon, at::Tensor& running_mean,
                            at::Tensor& running_variance, double momentum) {
    const int64_t channels = lanes.channels, width = lanes.width;
    const std::vector<float> zero(width, 0.0f);
    const auto sums = lanes.fold(reduce_rows(lanes.rows, width, [&](int64_t first, int64_t count, float* partial) {
        sum_rows(x + first * width, count, width, zero.data(), partial);
    }), 1);
    std::vector<float> mean(channels);
    for (int64_t c = 0; c < channels; ++c) mean[c] = static_cast<float>(sums[c] / lanes.pixels);
    const auto shift = lanes.repeat(mean);
    const auto squares = lanes.fold(reduce_rows(lanes.rows, width, [&](int64_t first, int64_t count, float* partial) {
        square_rows(x + first * width, count, width, shift.data(), partial);
    }), 1);
    auto mean_out = at::from_blob(mean.data(), {channels}, at::kFloat).clone();
    auto invstd_out = at::empty({channels}, at::kFloat), unbiased = at::empty({channels}, at::kFloat);
    for (int64_t c = 0; c < channels; ++c) {
        invstd_out.data_ptr<float>()[c] = static_cast<float>(1.0 / std::sqrt(squares[c] / lanes.pixels + epsilon));
        unbiased.data_ptr<float>()[c] = static_cast<float>(squares[c] / (lanes.pixels - 1));
    }
    at::NoGradGuard no_grad;
    running_mean.mul_(1.0 - momentum).add_(mean_out, momentum);
    running_variance.mul_(1.0 - momentum).add_(unbiased, momentum);
    return {mean_out, invstd_out};
}

/// y = x·a + b (a = γ·invstd, b = β − mean·a), then the ReLU where asked.
template <typename T>
at::Tensor forward_as(const at::Tensor& x, const Lanes& lanes, const at::Tensor& scale, const at::Tensor& shift,
                      bool relu, const Statistics& stats) {
    const auto gamma = values_of(scale), beta = values_of(shift);
    const auto mean = values_of(stats.mean), invstd = values_of(stats.invstd);
    std::vector<float> a(lanes.channels), b(lanes.channels);
    for (int64_t c = 0; c < lanes.channels; ++c) {
        a[c] = gamma[c] * invstd[c];
        b[c] = beta[c] - mean[c] * a[c];
    }
    const auto a_lanes = lanes.repeat(a), b_lanes = lanes.repeat(b);
    auto out = at::empty_like(x, rows_layout(x));
    const T* in = slim::elements<T>(x);
    T* values = slim::mutable_elements<T>(out);
    const int64_t width = lanes.width;
    for_rows(lanes.rows, [&](int64_t first, int64_t count) {
        normalize(in + first * width, values + first * width, count, width, a_lanes.data(), b_lanes.data(), relu);
    });
    return out;
}

struct Gradients {
    at::Tensor input;
    at::Tensor gamma;
    at::Tensor beta;
};

/// The gradients for x, γ and β from the output's gradient (masked by the saved output y where a ReLU ran).
template <typename T>
Gradients backward_as(const at::Tensor& grad, const at::Tensor& x, const at::Tensor& y, const Lanes& lanes,
                      const at::Tensor& scale, const Statistics& stats, bool relu) {
    const int64_t channels = lanes.channels, width = lanes.width;
    const T* g = slim::elements<T>(grad);
    const T* in = slim::elements<T>(x);
    const T* out = relu ? slim::elements<T>(y) : nullptr;
    const auto mean = values_of(stats.mean), invstd = values_of(stats.invstd), gamma = values_of(scale);
    const auto mean_lanes = lanes.repeat(mean);
    const auto totals =
        lanes.fold(reduce_rows(lanes.rows, 2 * width, [&](int64_t first, int64_t count, float* partial) {
            const int64_t at = first * width;
            gradient_sums(g + at, in + at, relu ? out + at : nullptr, count, width, mean_lanes.data(), partial,
                          partial + width, relu);
        }), 2);
    std::vector<float> k1(channels), k2(channels), k3(channels);
    auto gamma_grad = at::empty({channels}, at::kFloat), beta_grad = at::empty({channels}, at::kFloat);
    const double pixels = static_cast<double>(lanes.pixels);
    for (int64_t c = 0; c < channels; ++c) {
        const double sum = totals[c], dot = totals[channels + c], inv = invstd[c];
        k1[c] = static_cast<float>(gamma[c] * inv);
        k2[c] = static_cast<float>(-gamma[c] * inv * inv * inv * dot / pixels);
        k3[c] = static_cast<float>(-gamma[c] * inv * sum / pixels - k2[c] * static_cast<double>(mean[c]));
        gamma_grad.data_ptr<float>()[c] = static_cast<float>(dot * inv);
        beta_grad.data_ptr<float>()[c] = static_cast<float>(sum);
    }
    const auto k1_lanes = lanes.repeat(k1), k2_lanes = lanes.repeat(k2), k3_lanes = lanes.repeat(k3);
    auto dx = at::empty_like(x, rows_layout(x));
    T* values = slim::mutable_elements<T>(dx);
    for_rows(lanes.rows, [&](int64_t first, int64_t count) {
        const int64_t at = first * width;
        input_gradient(g + at, in + at, relu ? out + at : nullptr, values + at, count, width, k1_lanes.data(),
                       k2_lanes.data(), k3_lanes.data(), relu);
    });
    return {dx, gamma_grad, beta_grad};
}

struct BatchNormRelu : public torch::autograd::Function<BatchNormRelu> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& gamma,
                              const at::Tensor& beta, at::Tensor running_mean, at::Tensor running_variance,
                              double momentum, double epsilon, bool relu) {
        RECORD_FUNCTION(relu ? "slim::batch_norm_relu" : "slim::batch_norm", std::vector<c10::IValue>({x}));
        const Lanes lanes(x.size(1), x.numel());
        TORCH_CHECK(lanes.pixels > 1, "batch norm in training needs more than 1 value per channel, got input of shape ",
                    x.sizes());
        const auto scale = channel_values(gamma), shift = channel_values(beta);
        Statistics stats;
        at::Tensor y;
        if (x.scalar_type() == at::kFloat) {
            stats = batch_statistics(slim::elements<float>(x), lanes, epsilon, running_mean, running_variance,
                                     momentum);
            y = forward_as<float>(x, lanes, scale, shift, relu, stats);
        } else {
            stats = batch_statistics(slim::elements<uint16_t>(x), lanes, epsilon, running_mean,
                                     running_variance, momentum);
            y = forward_as<uint16_t>(x, lanes, scale, shift, relu, stats);
        }
        ctx->save_for_backward({x, relu ? y : at::Tensor(), scale, stats.mean, stats.invstd});
        ctx->saved_data["relu"] = relu;
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        TORCH_CHECK(!c10::GradMode::is_enabled(),
                    "slim's fused batch norm has no second derivative; for gradients of gradients turn "
                    "Config::fused_batch_norm off (SLIM_FUSED_BATCH_NORM=0)");
        const auto saved = ctx->get_saved_variables();
        const bool relu = ctx->saved_data["relu"].toBool();
        const auto& x = saved[0];
        const auto grad = grads[0].to(x.scalar_type()).contiguous(rows_layout(x));
        const Statistics stats{saved[3], saved[4]};
        const Lanes lanes(x.size(1), x.numel());
        const Gradients result = x.scalar_type() == at::kFloat
                                     ? backward_as<float>(grad, x, saved[1], lanes, saved[2], stats, relu)
                                     : backward_as<uint16_t>(grad, x, saved[1], lanes, saved[2], stats, relu);
        const auto gamma_grad = ctx->needs_input_grad(1) ? result.gamma : at::Tensor();
        const auto beta_grad = ctx->needs_input_grad(2) ? result.beta : at::Tensor();
        return {result.input, gamma_grad, beta_grad, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
                at::Tensor()};
    }
};

/// Whether the fused kernel takes this input: a CPU float32/bfloat16 tensor of rows of channels (4-D
/// channels-last, or 2-D contiguous) with float32 parameters and running statistics.
bool applies(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta, const at::Tensor& running_mean,
             const at::Tensor& running_variance) {
    const auto float_vector = [&](const at::Tensor& t) {
        return !t.defined() || (t.device().is_cpu() && t.scalar_type() == at::kFloat && t.dim() == 1 &&
                                t.size(0) == x.size(1));
    };
    return x.device().is_cpu() && (x.dim() == 4 || x.dim() == 2) && x.numel() > 0 &&
           (x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16) &&
           x.is_contiguous(rows_layout(x)) && float_vector(gamma) && float_vector(beta) &&
           running_mean.defined() && running_variance.defined() && float_vector(running_mean) &&
           float_vector(running_variance) && running_mean.is_contiguous() && running_variance.is_contiguous();
}

}  // namespace

extern "C" {

/// Training-mode batch norm of *x with the batch's statistics (gamma and beta may be null), then a ReLU when
/// `relu`; the running statistics move toward the batch's by `momentum` in place. Writes the output to *out, or
/// null to *out where the kernel does not take this input (see `applies`). Returns nullptr or an error message.
char* slim_batch_norm_relu(const at::Tensor* x, const at::Tensor* gamma, const at::Tensor* beta,
                           const at::Tensor* running_mean, const at::Tensor* running_variance, double momentum,
                           double epsilon, bool relu, at::Tensor** out) {
    try {
        *out = nullptr;
        const auto defined = [](const at::Tensor* t) { return t == nullptr ? at::Tensor() : *t; };
        const auto g = defined(gamma), b = defined(beta);
        if (!applies(*x, g, b, *running_mean, *running_variance)) return nullptr;
        // Autograd functions take defined tensors only: an absent γ is ones, an absent β zeros (no gradient).
        const auto or_full = [&](const at::Tensor& t, double fill) {
            return t.defined() ? t : at::full({x->size(1)}, fill, at::kFloat);
        };
        *out = new at::Tensor(BatchNormRelu::apply(*x, or_full(g, 1.0), or_full(b, 0.0), *running_mean,
                                                   *running_variance, momentum, epsilon, relu));
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_batch_norm_relu");
    }
}

}
