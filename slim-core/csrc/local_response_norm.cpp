// TF's local response normalization across channels (`tf.nn.lrn`, CifarNet's) as one autograd
// function over [N, C, H, W] float32 or float64 activations, channels-last or contiguous in memory:
//
//   d_c = bias + alpha · Σ_{|j − c| ≤ r} x_j²        y_c = x_c · d_c^(−beta)
//   dx_c = g_c · d_c^(−beta) − 2·alpha·beta · x_c · Σ_{|j − c| ≤ r} g_j · x_j · d_j^(−beta − 1)
//
// libtorch has no such op; written in its ops (a 3-D average pool over the channels, a power, a division) the
// layer and its backward pass took half of CifarNet's training step. Here each pixel's C channels are one pass
// forward and one backward: the window sums are 2r + 1 vectorized adds over the channels, and d^(−beta) is one
// or two square roots for TF's betas 0.5, 0.75 and 1 (a power otherwise). Nothing but the input is kept for
// the backward pass, which recomputes d. Its own backward (second derivatives) is written in ATen's ops. The
// loops run with subnormal floats flushed to zero (flush_denormals.h), as TF's CPU kernels do.
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <vector>

#include "error_message.h"
#include "flush_denormals.h"
#include "vectorize.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// How d^(−beta) is computed: by square roots for the betas TF-Slim's nets use, else by a power.
enum class LrnPower { Half, ThreeQuarters, One, Other };

/// The layer's constants, in the activations' precision.
template <typename T>
struct LrnParameters {
    int64_t channels, radius;
    T bias, alpha, beta, gradient_factor;  // gradient_factor = −2·alpha·beta
    LrnPower power;
};

/// The constants for `channels` channels of the layer's arguments.
template <typename T>
LrnParameters<T> lrn_parameters(int64_t channels, int64_t radius, double bias, double alpha, double beta) {
    const LrnPower power = beta == 0.5    ? LrnPower::Half
                           : beta == 0.75 ? LrnPower::ThreeQuarters
                           : beta == 1.0  ? LrnPower::One
                                          : LrnPower::Other;
    return {channels, radius, T(bias), T(alpha), T(beta), T(-2.0 * alpha * beta), power};
}

/// sums_c = Σ_{|j − c| ≤ r} values_j over the channels that exist, added in channel order.
template <typename T>
[[gnu::always_inline]] inline void lrn_window_sums(const T* __restrict__ values, T* __restrict__ sums,
                                                   int64_t channels, int64_t radius) {
    std::fill(sums, sums + channels, T(0));
    for (int64_t offset = -radius; offset <= radius; ++offset) {
        const int64_t first = std::max<int64_t>(0, -offset), last = std::min(channels, channels - offset);
        for (int64_t c = first; c < last; ++c) sums[c] += values[c + offset];
    }
}

/// scale_c = d_c^(−beta) for d = bias + alpha · sums (d is left in `sums`).
template <typename T, LrnPower Power>
[[gnu::always_inline]] inline void lrn_scales(T* __restrict__ sums, T* __restrict__ scale,
                                              const LrnParameters<T>& p) {
    const T bias = p.bias, alpha = p.alpha, beta = p.beta;  // locals: stores to T arrays could alias p's fields
    for (int64_t c = 0; c < p.channels; ++c) {
        const T d = bias + alpha * sums[c];
        sums[c] = d;
        if constexpr (Power == LrnPower::Half) {
            scale[c] = T(1) / std::sqrt(d);
        } else if constexpr (Power == LrnPower::ThreeQuarters) {
            const T root = std::sqrt(d);
            scale[c] = T(1) / (root * std::sqrt(root));
        } else if constexpr (Power == LrnPower::One) {
            scale[c] = T(1) / d;
        } else {
            scale[c] = std::pow(d, -beta);
        }
    }
}

/// lrn_scales for p's beta.
template <typename T>
[[gnu::always_inline]] inline void lrn_any_scales(T* sums, T* scale, const LrnParameters<T>& p) {
    switch (p.power) {
        case LrnPower::Half: return lrn_scales<T, LrnPower::Half>(sums, scale, p);
        case LrnPower::ThreeQuarters: return lrn_scales<T, LrnPower::ThreeQuarters>(sums, scale, p);
        case LrnPower::One: return lrn_scales<T, LrnPower::One>(sums, scale, p);
        case LrnPower::Other: return lrn_scales<T, LrnPower::Other>(sums, scale, p);
    }
}

/// One pixel forward: y = x · d^(−beta); `work` holds 3·C values.
template <typename T>
[[gnu::always_inline]] inline void lrn_pixel_forward(const T* __restrict__ x, T* __restrict__ y, T* work,
                                                     const LrnParameters<T>& p) {
    T* squares = work;
    T* sums = work + p.channels;
    T* scale = work + 2 * p.channels;
    for (int64_t c = 0; c < p.channels; ++c) squares[c] = x[c] * x[c];
    lrn_window_sums(squares, sums, p.channels, p.radius);
    lrn_any_scales(sums, scale, p);
    for (int64_t c = 0; c < p.channels; ++c) y[c] = x[c] * scale[c];
}

/// One pixel backward: dx for the upstream gradient g; `work` holds 3·C values.
template <typename T>
[[gnu::always_inline]] inline void lrn_pixel_backward(const T* __restrict__ x, const T* __restrict__ g,
                                                      T* __restrict__ dx, T* work, const LrnParameters<T>& p) {
    const T gradient_factor = p.gradient_factor;
    T* terms = work;
    T* sums = work + p.channels;
    T* scale = work + 2 * p.channels;
    for (int64_t c = 0; c < p.channels; ++c) terms[c] = x[c] * x[c];
    lrn_window_sums(terms, sums, p.channels, p.radius);
    lrn_any_scales(sums, scale, p);  // sums now holds d
    for (int64_t c = 0; c < p.channels; ++c) terms[c] = g[c] * x[c] * scale[c] / sums[c];
    lrn_window_sums(terms, sums, p.channels, p.radius);
    for (int64_t c = 0; c < p.channels; ++c) dx[c] = g[c] * scale[c] + gradient_factor * x[c] * sums[c];
}

// SLIM_VECTORIZED: AVX-512, AVX2 and baseline builds on x86-64 Linux (vectorize.h).
#define SLIM_LRN_KERNELS(T)                                                                                     \
    SLIM_VECTORIZED void lrn_forward_of(const T* x, T* y, T* work, const LrnParameters<T>& p) {               \
        lrn_pixel_forward(x, y, work, p);                                                                       \
    }                                                                                                           \
    SLIM_VECTORIZED void lrn_backward_of(const T* x, const T* g, T* dx, T* work, const LrnParameters<T>& p) { \
        lrn_pixel_backward(x, g, dx, work, p);                                                                  \
    }
SLIM_LRN_KERNELS(float)
SLIM_LRN_KERNELS(double)
#undef SLIM_LRN_KERNELS

/// Where pixel `pixel`'s channels are: its first channel's offset and the distance between channels, for a
/// channels-last (stride 1) or contiguous [N, C, H, W] tensor.
struct LrnLayout {
    bool channels_last;
    int64_t channels, plane;  // plane = H·W

    std::pair<int64_t, int64_t> pixel(int64_t index) const {
        if (channels_last) return {index * channels, 1};
        return {(index / plane) * channels * plane + index % plane, plane};
    }
};

LrnLayout lrn_layout(const at::Tensor& x) {
    return {x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous(), x.size(1),
            x.size(2) * x.size(3)};
}

/// The memory format of `layout`.
at::MemoryFormat lrn_memory_format(const LrnLayout& layout) {
    return layout.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

/// Runs `per_pixel(inputs…, output, work)` on every pixel, gathering strided channels into buffers (and
/// scattering the output back) where the layout is not channels-last.
template <typename T, typename PerPixel>
void lrn_each_pixel(const LrnLayout& layout, int64_t pixels, std::vector<const T*> inputs, T* output,
                    const PerPixel& per_pixel) {
    const int64_t channels = layout.channels;
    const int64_t grain = std::max<int64_t>(1, 4096 / channels);
    at::parallel_for(0, pixels, grain, [&](int64_t first, int64_t last) {
        const slim::FlushDenormals flush;  // as TF's CPU kernels: squares of tiny activations would be subnormal
        std::vector<T> work(3 * channels), gathered(inputs.size() * channels), result(channels);
        std::vector<const T*> pointers(inputs.size());
        for (int64_t index = first; index < last; ++index) {
            const auto [offset, stride] = layout.pixel(index);
            T* out = stride == 1 ? output + offset : result.data();
            for (size_t i = 0; i < inputs.size(); ++i) {
                if (stride == 1) {
                    pointers[i] = inputs[i] + offset;
                    continue;
                }
                T* buffer = gathered.data() + i * channels;
                for (int64_t c = 0; c < channels; ++c) buffer[c] = inputs[i][offset + c * stride];
                pointers[i] = buffer;
            }
            per_pixel(pointers, out, work.data());
            if (stride != 1) {
                for (int64_t c = 0; c < channels; ++c) output[offset + c * stride] = result[c];
            }
        }
    });
}

/// The layer's output, in x's dtype and layout.
template <typename T>
void lrn_forward(const at::Tensor& x, const LrnLayout& layout, at::Tensor& y, const LrnParameters<T>& p) {
    lrn_each_pixel<T>(layout, x.numel() / p.channels, {x.const_data_ptr<T>()}, y.data_ptr<T>(),
                      [&](const std::vector<const T*>& in, T* out, T* work) { lrn_forward_of(in[0], out, work, p); });
}

/// The input gradient for upstream `g` (x's layout).
template <typename T>
void lrn_backward(const at::Tensor& x, const at::Tensor& g, const LrnLayout& layout, at::Tensor& dx,
                  const LrnParameters<T>& p) {
    lrn_each_pixel<T>(layout, x.numel() / p.channels, {x.const_data_ptr<T>(), g.const_data_ptr<T>()},
                      dx.data_ptr<T>(), [&](const std::vector<const T*>& in, T* out, T* work) {
                          lrn_backward_of(in[0], in[1], out, work, p);
                      });
}

/// Σ_{|j − c| ≤ r} t_j along dimension 1, in ATen's differentiable ops (second derivatives only).
at::Tensor lrn_aten_window_sums(const at::Tensor& t, int64_t radius) {
    const int64_t channels = t.size(1);
    const auto padded = at::constant_pad_nd(t, {0, 0, 0, 0, radius, radius});
    at::Tensor sums = padded.narrow(1, 0, channels);
    for (int64_t k = 1; k <= 2 * radius; ++k) sums = sums + padded.narrow(1, k, channels);
    return sums;
}

/// The layer's arguments, as the caller gave them.
struct LrnSettings {
    int64_t radius;
    double bias, alpha, beta;
};

/// The input gradient in ATen's ops, so that autograd records it (a backward pass with create_graph).
at::Tensor lrn_recorded_backward(const at::Tensor& x, const at::Tensor& g, const LrnSettings& s) {
    const auto d = lrn_aten_window_sums(x * x, s.radius) * s.alpha + s.bias;
    const auto scale = d.pow(-s.beta);
    return g * scale - (2.0 * s.alpha * s.beta) * x * lrn_aten_window_sums(g * x * scale / d, s.radius);
}

/// The layer's output in x's dtype and layout.
at::Tensor lrn_output(const at::Tensor& x, const LrnSettings& s) {
    RECORD_FUNCTION("slim::local_response_norm", std::vector<c10::IValue>({x}));
    const auto layout = lrn_layout(x);
    auto y = at::empty(x.sizes(), x.options(), lrn_memory_format(layout));
    if (x.scalar_type() == at::kFloat) {
        lrn_forward(x, layout, y, lrn_parameters<float>(x.size(1), s.radius, s.bias, s.alpha, s.beta));
    } else {
        lrn_forward(x, layout, y, lrn_parameters<double>(x.size(1), s.radius, s.bias, s.alpha, s.beta));
    }
    return y;
}

/// The input gradient by slim's kernel, in x's dtype and layout.
at::Tensor lrn_input_gradient(const at::Tensor& x, const at::Tensor& upstream, const LrnSettings& s) {
    RECORD_FUNCTION("slim::local_response_norm_backward", std::vector<c10::IValue>({x, upstream}));
    const auto layout = lrn_layout(x);
    auto dx = at::empty(x.sizes(), x.options(), lrn_memory_format(layout));
    const auto g = upstream.to(x.scalar_type()).contiguous(lrn_memory_format(layout));
    if (x.scalar_type() == at::kFloat) {
        lrn_backward(x, g, layout, dx, lrn_parameters<float>(x.size(1), s.radius, s.bias, s.alpha, s.beta));
    } else {
        lrn_backward(x, g, layout, dx, lrn_parameters<double>(x.size(1), s.radius, s.bias, s.alpha, s.beta));
    }
    return dx;
}

/// The differentiable layer: keeps its input for the backward pass.
struct LocalResponseNorm : public torch::autograd::Function<LocalResponseNorm> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, int64_t radius, double bias, double alpha,
                              double beta) {
        ctx->save_for_backward({x});
        ctx->saved_data["radius"] = radius;
        ctx->saved_data["bias"] = bias;
        ctx->saved_data["alpha"] = alpha;
        ctx->saved_data["beta"] = beta;
        return lrn_output(x, {radius, bias, alpha, beta});
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto x = ctx->get_saved_variables()[0];
        const LrnSettings s{ctx->saved_data["radius"].toInt(), ctx->saved_data["bias"].toDouble(),
                            ctx->saved_data["alpha"].toDouble(), ctx->saved_data["beta"].toDouble()};
        const auto dx = c10::GradMode::is_enabled() ? lrn_recorded_backward(x, grads[0], s)
                                                    : lrn_input_gradient(x, grads[0], s);
        return {dx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

}  // namespace

extern "C" {

/// TF's `tf.nn.lrn(x, depth_radius, bias, alpha, beta)` of *x ([N, C, H, W], float32 or float64, on the CPU,
/// channels-last or contiguous in memory, not empty), differentiable. Writes the output (x's dtype and layout)
/// to *out, or null to *out where the kernel does not take this input. Returns nullptr or an error message.
char* slim_local_response_norm(const at::Tensor* x, int64_t depth_radius, double bias, double alpha, double beta,
                               at::Tensor** out) {
    try {
        *out = nullptr;
        const bool takes = x->device().is_cpu() && x->dim() == 4 && x->numel() > 0 &&
                           (x->scalar_type() == at::kFloat || x->scalar_type() == at::kDouble) &&
                           (x->is_contiguous() || x->is_contiguous(at::MemoryFormat::ChannelsLast));
        if (!takes) return nullptr;
        TORCH_CHECK(depth_radius >= 0, "local response normalization needs depth_radius ≥ 0, got ", depth_radius);
        const bool differentiable = c10::GradMode::is_enabled() && x->requires_grad();
        *out = new at::Tensor(differentiable ? LocalResponseNorm::apply(*x, depth_radius, bias, alpha, beta)
                                             : lrn_output(*x, {depth_radius, bias, alpha, beta}));
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_local_response_norm");
    }
}

}
