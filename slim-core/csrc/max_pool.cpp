// 2-D max pooling of channels-last [N, C, H, W] activations, as one autograd function. libtorch's CPU max pool
// records an int64 index per output value and its backward fills the whole input gradient with zeros through a
// generic path before scattering into it. Here each output pixel's C channels are one vectorized loop per window
// position; the argmax is kept, only when a gradient will be asked, as the position in the window in an integer
// as wide as the values (so that the selects vectorize); and the backward writes each output gradient to its
// position, one vectorized pass per window position, without zeroing first where the windows tile the input.
// Windows that overlap (stride under the kernel, as ResNet's 3×3 at stride 2) stay with libtorch: their backward
// would add into shared pixels, which libtorch's kernel does as fast.
//
// The window is placed at (oh·sh − pad_top, ow·sw − pad_left); positions outside the input are skipped, which is
// TF's SAME padding (and VALID with no padding). Ties go to the first position in row-major window order; a NaN
// wins over numbers, as in libtorch. float32 or bfloat16.
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <exception>
#include <type_traits>
#include <vector>

#include "bfloat16_bits.h"
#include "error_message.h"
#include "vectorize.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// The window and its placement: kernel and stride per axis, the padding before the first row and column, and
/// the input and output sizes.
struct PoolGeometry {
    int64_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
    int64_t batch, channels, in_h, in_w, out_h, out_w;

    /// Input rows (or columns) [first, last) a window starting at `start` covers inside an axis of `size`.
    static std::pair<int64_t, int64_t> span(int64_t start, int64_t kernel, int64_t size) {
        return {std::max<int64_t>(start, 0), std::min(start + kernel, size)};
    }
};

using slim::narrow;
using slim::widen;

/// The window position of a maximum, as wide as the values (float32: 32 bits, bfloat16: 16), so that the loops
/// select with one mask width and vectorize.
template <typename T>
using Position = std::conditional_t<std::is_same_v<T, float>, uint32_t, uint16_t>;

/// best = in where in is larger or NaN (position = `position` there).
template <typename T>
inline void take_larger(const T* __restrict__ in, T* __restrict__ best, Position<T>* __restrict__ where,
                        int64_t channels, Position<T> position) {
    for (int64_t c = 0; c < channels; ++c) {
        const float value = widen(in[c]), current = widen(best[c]);
        const bool larger = value > current || value != value;
        best[c] = larger ? in[c] : best[c];
        where[c] = larger ? position : where[c];
    }
}

/// best = in where in is larger or NaN, no positions kept.
template <typename T>
inline void take_larger_values(const T* __restrict__ in, T* __restrict__ best, int64_t channels) {
    for (int64_t c = 0; c < channels; ++c) {
        const float value = widen(in[c]), current = widen(best[c]);
        best[c] = value > current || value != value ? in[c] : best[c];
    }
}

/// dx = g where the window position of the maximum is `position`, else 0.
template <typename T>
inline void set_where(const T* __restrict__ g, const Position<T>* __restrict__ where, T* __restrict__ dx,
                      int64_t channels, Position<T> position) {
    for (int64_t c = 0; c < channels; ++c) dx[c] = where[c] == position ? g[c] : T(0);
}

#define SLIM_POOL_KERNELS(T)                                                                                   \
    SLIM_VECTORIZED void larger(const T* in, T* best, Position<T>* where, int64_t channels,                   \
                                Position<T> position) {                                                        \
        take_larger(in, best, where, channels, position);                                                      \
    }                                                                                                          \
    SLIM_VECTORIZED void larger_values(const T* in, T* best, int64_t channels) {                             \
        take_larger_values(in, best, channels);                                                                \
    }                                                                                                          \
    SLIM_VECTORIZED void gradient_to(const T* g, const Position<T>* where, T* dx, int64_t channels,           \
                                     Position<T> position) {                                                   \
        set_where(g, where, dx, channels, position);                                                           \
    }

SLIM_POOL_KERNELS(float)
SLIM_POOL_KERNELS(uint16_t)
#undef SLIM_POOL_KERNELS

/// The max pool of x into y, and the window position of each maximum into `where` (null: not kept).
template <typename T>
void pool_forward(const T* x, T* y, Position<T>* where, const PoolGeometry& geometry) {
    const int64_t channels = geometry.channels;
    at::parallel_for(0, geometry.batch * geometry.out_h, 1, [&](int64_t first, int64_t last) {
        for (int64_t row = first; row < last; ++row) {
            const int64_t n = row / geometry.out_h, oh = row % geometry.out_h;
            const auto [h0, h1] = PoolGeometry::span(oh * geometry.stride_h - geometry.pad_top, geometry.kernel_h,
                                                     geometry.in_h);
            for (int64_t ow = 0; ow < geometry.out_w; ++ow) {
                const int64_t out = (row * geometry.out_w + ow) * channels;
                const int64_t w_start = ow * geometry.stride_w - geometry.pad_left;
                const auto [w0, w1] = PoolGeometry::span(w_start, geometry.kernel_w, geometry.in_w);
                bool first_position = true;
                for (int64_t h = h0; h < h1; ++h) {
                    for (int64_t w = w0; w < w1; ++w) {
                        const T* in = x + ((n * geometry.in_h + h) * geometry.in_w + w) * channels;
                        const auto position = static_cast<Position<T>>(
                            (h - (oh * geometry.stride_h - geometry.pad_top)) * geometry.kernel_w + (w - w_start));
                        if (first_position) {
                            std::memcpy(y + out, in, channels * sizeof(T));
                            if (where != nullptr) std::fill(where + out, where + out + channels, position);
                            first_position = false;
                        } else if (where != nullptr) {
                            larger(in, y + out, where + out, channels, position);
                        } else {
                            larger_values(in, y + out, channels);
                        }
                    }
                }
            }
        }
    });
}

/// Whether the windows tile the input exactly: stride = kernel, no padding, no rows or columns left over.
bool tiles_input(const PoolGeometry& g) {
    return g.stride_h == g.kernel_h && g.stride_w == g.kernel_w && g.pad_top == 0 && g.pad_left == 0 &&
           g.out_h * g.kernel_h == g.in_h && g.out_w * g.kernel_w == g.in_w;
}

/// The input gradient: each output gradient written where its window's maximum was, the other positions of the
/// window zero (the windows do not overlap); pixels no window covers are zeroed first.
template <typename T>
void pool_backward(const T* g, const Position<T>* where, T* dx, const PoolGeometry& geometry) {
    const int64_t channels = geometry.channels;
    if (!tiles_input(geometry)) {
        std::memset(dx, 0, geometry.batch * geometry.in_h * geometry.in_w * channels * sizeof(T));
    }
    at::parallel_for(0, geometry.batch * geometry.out_h, 1, [&](int64_t first, int64_t last) {
        for (int64_t row = first; row < last; ++row) {
            const int64_t n = row / geometry.out_h, oh = row % geometry.out_h;
            const int64_t h_start = oh * geometry.stride_h - geometry.pad_top;
            const auto [h0, h1] = PoolGeometry::span(h_start, geometry.kernel_h, geometry.in_h);
            for (int64_t ow = 0; ow < geometry.out_w; ++ow) {
                const int64_t out = (row * geometry.out_w + ow) * channels;
                const int64_t w_start = ow * geometry.stride_w - geometry.pad_left;
                const auto [w0, w1] = PoolGeometry::span(w_start, geometry.kernel_w, geometry.in_w);
                for (int64_t h = h0; h < h1; ++h) {
                    for (int64_t w = w0; w < w1; ++w) {
                        T* target = dx + ((n * geometry.in_h + h) * geometry.in_w + w) * channels;
                        const auto position =
                            static_cast<Position<T>>((h - h_start) * geometry.kernel_w + (w - w_start));
                        gradient_to(g + out, where + out, target, channels, position);
                    }
                }
            }
        }
    });
}

PoolGeometry geometry_of(const at::Tensor& x, const std::vector<int64_t>& window) {
    return {window[0], window[1], window[2], window[3], window[4], window[5],
            x.size(0), x.size(1), x.size(2), x.size(3), window[6], window[7]};
}

/// The pooled output of x, and the window positions of its maxima where `where` is defined.
at::Tensor pooled(const at::Tensor& x, const PoolGeometry& geometry, const at::Tensor& where) {
    RECORD_FUNCTION("slim::max_pool2d", std::vector<c10::IValue>({x}));
    auto y = at::empty({geometry.batch, geometry.channels, geometry.out_h, geometry.out_w}, x.options(),
                       at::MemoryFormat::ChannelsLast);
    void* positions = where.defined() ? where.data_ptr() : nullptr;
    if (x.scalar_type() == at::kFloat) {
        pool_forward(slim::elements<float>(x), slim::mutable_elements<float>(y),
                     static_cast<Position<float>*>(positions), geometry);
    } else {
        pool_forward(slim::elements<uint16_t>(x), slim::mutable_elements<uint16_t>(y),
                     static_cast<Position<uint16_t>*>(positions), geometry);
    }
    return y;
}

/// The differentiable pool: keeps the window positions of the maxima for its backward pass.
struct MaxPool : public torch::autograd::Function<MaxPool> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, std::vector<int64_t> window) {
        const auto geometry = geometry_of(x, window);
        const auto position_type = x.scalar_type() == at::kFloat ? at::kInt : at::kShort;
        auto where = at::empty({geometry.batch, geometry.channels, geometry.out_h, geometry.out_w},
                               x.options().dtype(position_type), at::MemoryFormat::ChannelsLast);
        auto y = pooled(x, geometry, where);
        ctx->save_for_backward({where});
        ctx->saved_data["window"] = window;
        ctx->saved_data["input_size"] = x.sizes().vec();
        ctx->saved_data["dtype"] = static_cast<int64_t>(x.scalar_type());
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        TORCH_CHECK(!c10::GradMode::is_enabled(),
                    "slim's max pool kernel has no second derivative; for gradients of gradients turn "
                    "Config::max_pool_kernel off (SLIM_MAX_POOL_KERNEL=0)");
        const auto where = ctx->get_saved_variables()[0];
        const auto window = ctx->saved_data["window"].toIntVector();
        const auto input_size = ctx->saved_data["input_size"].toIntVector();
        const auto dtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
        const auto grad = grads[0].to(dtype).contiguous(at::MemoryFormat::ChannelsLast);
        auto dx = at::empty(input_size, grad.options(), at::MemoryFormat::ChannelsLast);
        const auto geometry = geometry_of(dx, window);
        const void* positions = where.const_data_ptr();
        if (dtype == at::kFloat) {
            pool_backward(slim::elements<float>(grad), static_cast<const Position<float>*>(positions),
                          slim::mutable_elements<float>(dx), geometry);
        } else {
            pool_backward(slim::elements<uint16_t>(grad), static_cast<const Position<uint16_t>*>(positions),
                          slim::mutable_elements<uint16_t>(dx), geometry);
        }
        return {dx, at::Tensor()};
    }
};

}  // namespace

extern "C" {

/// The max pool of *x ([N, C, H, W], channels-last in memory, float32 or bfloat16, on the CPU) over a
/// kernel_h×kernel_w window moved by stride_h, stride_w (at least the kernel: windows that do not overlap) from
/// (−pad_top, −pad_left), out_h×out_w outputs (each window must hold an input pixel); `window` holds those eight
/// values in that order. Writes the output to *out, or null to *out where the kernel does not take this input.
/// Returns nullptr or an error message.
char* slim_max_pool2d(const at::Tensor* x, const int64_t* window, at::Tensor** out) {
    try {
        *out = nullptr;
        const bool takes = x->device().is_cpu() && x->dim() == 4 && x->numel() > 0 &&
                           (x->scalar_type() == at::kFloat || x->scalar_type() == at::kBFloat16) &&
                           x->is_contiguous(at::MemoryFormat::ChannelsLast) && window[0] * window[1] <= 256 &&
                           window[2] >= window[0] && window[3] >= window[1];
        if (!takes) return nullptr;
        const std::vector<int64_t> geometry(window, window + 8);
        TORCH_CHECK(geometry[6] > 0 && geometry[7] > 0 && geometry[2] > 0 && geometry[3] > 0 &&
                        geometry[4] >= 0 && geometry[5] >= 0 && geometry[4] < geometry[0] &&
                        geometry[5] < geometry[1] && (geometry[6] - 1) * geometry[2] - geometry[4] < x->size(2) &&
                        (geometry[7] - 1) * geometry[3] - geometry[5] < x->size(3),
                    "max pool window ", c10::IntArrayRef(geometry), " does not fit an input of ", x->sizes());
        const bool differentiable = c10::GradMode::is_enabled() && x->requires_grad();
        *out = new at::Tensor(differentiable ? MaxPool::apply(*x, geometry)
                                             : pooled(*x, geometry_of(*x, geometry), at::Tensor()));
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_max_pool2d");
    }
}

}
