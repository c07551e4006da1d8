// Fully connected products below the oneDNN route's size (dense_product.cpp) in training, by slim's
// register-tiled kernels instead of MKL's GEMM.
//
// libtorch sends float32 products to MKL, which on AMD CPUs runs its generic code: on the project's 2-core Zen 4
// a 32×784→128 layer's forward product took 43–54 µs and its weight gradient dW = dyᵀ·x 64–70 µs (about one
// thread's time), where the kernels below take 38–41 and 34–40 (docs/performance.md, change 23). On Intel CPUs
// MKL's own kernels are as fast or faster in isolation, but training steps ran faster with these (change 24). Two
// kernels cover the three products:
//   - the forward product y = x·Wᵀ + b reduces along the rows of x and W, both contiguous: 4×4 tiles of y kept
//     as sixteen 16-float vector sums while the kernel walks the rows, then each summed across its lanes;
//   - the backward products dW = dyᵀ·x and dx = dy·W sum over the rows the operands share (C = Aᵀ·B): tiles of
//     4 rows × 64 columns of C kept in sixteen vectors, one load of B's row segment and 4 broadcasts of A per
//     shared row.
// Tiles are split over libtorch's threads by columns of y (forward) and rows of C (backward); each value is one
// thread's sum in a fixed order, so results do not depend on the thread count. When autograd records the
// backward pass itself (second derivatives), the backward products are ATen's.
//
// C interface: catches C++ exceptions and returns the message (free it with slim_free_error), or nullptr on
// success. Tensors cross as `at::Tensor*`, the handle tch uses.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <utility>

#include "dense_shapes.h"
#include "error_message.h"
#include "vectorize.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Sixteen floats: one AVX-512 register (two AVX2 registers, four SSE registers in the other clones).
typedef float Floats16 __attribute__((vector_size(64)));

/// Rows of C (backward) and rows and columns of y (forward) in one tile.
constexpr int64_t kTileRows = 4;

/// Multiply-adds a thread takes at least, so that small products stay on the calling thread.
constexpr int64_t kMinThreadWork = 1 << 16;

/// A of C = Aᵀ·B, read with strides: A(k, r) = data[k·shared_stride + r·row_stride] (k a shared row, r a row
/// of C), so that A can be dy (dW) or dy read transposed (dx) without a copy.
struct Strided {
    const float* data;
    int64_t shared_stride;
    int64_t row_stride;

    float at(int64_t shared, int64_t row) const { return data[shared * shared_stride + row * row_stride]; }
};

/// y[r, c] = b[c] + Σᵢ x[r, i]·W[c, i] for r < Rows, c < Columns: one register tile of the forward product,
/// x's and W's rows at stride `inputs`, y's at `y_stride`; `biases` null for none.
template <int64_t Rows, int64_t Columns>
[[gnu::always_inline]] inline void forward_tile(int64_t inputs, const float* __restrict__ x,
                                                const float* __restrict__ weights, const float* biases,
                                                float* __restrict__ y, int64_t y_stride) {
    Floats16 sums[Rows][Columns] = {};
    int64_t i = 0;
    for (; i + 16 <= inputs; i += 16) {
        Floats16 rows[Rows], columns[Columns];
        for (int64_t r = 0; r < Rows; ++r) std::memcpy(&rows[r], x + r * inputs + i, sizeof(Floats16));
        for (int64_t c = 0; c < Columns; ++c) std::memcpy(&columns[c], weights + c * inputs + i, sizeof(Floats16));
        for (int64_t r = 0; r < Rows; ++r) {
            for (int64_t c = 0; c < Columns; ++c) sums[r][c] += rows[r] * columns[c];
        }
    }
    for (int64_t r = 0; r < Rows; ++r) {
        for (int64_t c = 0; c < Columns; ++c) {
            float sum = 0.0f;
            for (int64_t lane = 0; lane < 16; ++lane) sum += sums[r][c][lane];
            for (int64_t k = i; k < inputs; ++k) sum += x[r * inputs + k] * weights[c * inputs + k];
            y[r * y_stride + c] = biases == nullptr ? sum : sum + biases[c];
        }
    }
}

/// Rows [row, row + Rows) of y for columns [first, last): whole tiles of 4 columns, then single columns.
template <int64_t Rows>
[[gnu::always_inline]] inline void forward_strip(int64_t row, int64_t inputs, int64_t outputs, const float* x,
                                                 const float* weights, const float* biases, float* y, int64_t first,
                                                 int64_t last) {
    int64_t c = first;
    for (; c + kTileRows <= last; c += kTileRows) {
        forward_tile<Rows, kTileRows>(inputs, x + row * inputs, weights + c * inputs,
                                      biases == nullptr ? nullptr : biases + c, y + row * outputs + c, outputs);
    }
    for (; c < last; ++c) {
        forward_tile<Rows, 1>(inputs, x + row * inputs, weights + c * inputs,
                              biases == nullptr ? nullptr : biases + c, y + row * outputs + c, outputs);
    }
}

/// Columns [first, last) of y, all rows: strips of 4 rows, then single rows. The tiles inline here, so they are
/// compiled for each of SLIM_VECTORIZED's targets.
SLIM_VECTORIZED void forward_columns(int64_t rows, int64_t inputs, int64_t outputs, const float* x,
                                     const float* weights, const float* biases, float* y, int64_t first,
                                     int64_t last) {
    int64_t r = 0;
    for (; r + kTileRows <= rows; r += kTileRows) {
        forward_strip<kTileRows>(r, inputs, outputs, x, weights, biases, y, first, last);
    }
    for (; r < rows; ++r) forward_strip<1>(r, inputs, outputs, x, weights, biases, y, first, last);
}

/// y [rows, outputs] = x·Wᵀ (+ b) for contiguous x [rows, inputs] and W [outputs, inputs]; columns of y split
/// over libtorch's threads, so each thread keeps its rows of W in cache while x's rows pass.
at::Tensor tiled_forward(const at::Tensor& x, const at::Tensor& weights, const at::Tensor* biases) {
    const int64_t rows = x.size(0), inputs = x.size(1), outputs = weights.size(0);
    auto y = at::empty({rows, outputs}, x.options());
    const float* b = biases == nullptr ? nullptr : biases->const_data_ptr<float>();
    const int64_t tiles = (outputs + kTileRows - 1) / kTileRows;
    const int64_t grain = std::max<int64_t>(1, kMinThreadWork / std::max<int64_t>(1, kTileRows * rows * inputs));
    at::parallel_for(0, tiles, grain, [&](int64_t first_tile, int64_t last_tile) {
        forward_columns(rows, inputs, outputs, x.const_data_ptr<float>(), weights.const_data_ptr<float>(), b,
                        y.mutable_data_ptr<float>(), first_tile * kTileRows,
                        std::min(outputs, last_tile * kTileRows));
    });
    return y;
}

/// C[r, 16·v + j] = Σₖ A(k, r)·B[k, 16·v + j] for r < Rows, v < Vectors: one register tile, B's rows at stride
/// `b_stride`, C's at `c_stride`, `shared` rows summed in order.
template <int64_t Rows, int64_t Vectors>
[[gnu::always_inline]] inline void product_tile(int64_t shared, Strided a, const float* __restrict__ b,
                                                int64_t b_stride, float* __restrict__ c, int64_t c_stride) {
    Floats16 sums[Rows][Vectors] = {};
    for (int64_t k = 0; k < shared; ++k) {
        Floats16 row[Vectors];
        for (int64_t v = 0; v < Vectors; ++v) std::memcpy(&row[v], b + k * b_stride + 16 * v, sizeof(Floats16));
        for (int64_t r = 0; r < Rows; ++r) {
            const Floats16 scale = a.at(k, r) + Floats16{};
            for (int64_t v = 0; v < Vectors; ++v) sums[r][v] += scale * row[v];
        }
    }
    for (int64_t r = 0; r < Rows; ++r) {
        for (int64_t v = 0; v < Vectors; ++v) std::memcpy(c + r * c_stride + 16 * v, &sums[r][v], sizeof(Floats16));
    }
}

/// The columns past the last whole 16: one sum per value, rows [0, rows).
[[gnu::always_inline]] inline void product_tail(int64_t shared, Strided a, int64_t rows, const float* __restrict__ b,
                                                int64_t b_stride, int64_t columns, float* __restrict__ c,
                                                int64_t c_stride) {
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = 0; j < columns; ++j) {
            float sum = 0.0f;
            for (int64_t k = 0; k < shared; ++k) sum += a.at(k, r) * b[k * b_stride + j];
            c[r * c_stride + j] = sum;
        }
    }
}

/// Rows [first, last) of C for columns [column, column + 16·Vectors): whole tiles, then single rows.
template <int64_t Vectors>
[[gnu::always_inline]] inline void product_strip(int64_t shared, Strided a, const float* b, int64_t b_stride,
                                                 float* c, int64_t c_stride, int64_t column, int64_t first,
                                                 int64_t last) {
    int64_t r = first;
    for (; r + kTileRows <= last; r += kTileRows) {
        product_tile<kTileRows, Vectors>(shared, {a.data + r * a.row_stride, a.shared_stride, a.row_stride},
                                         b + column, b_stride, c + r * c_stride + column, c_stride);
    }
    for (; r < last; ++r) {
        product_tile<1, Vectors>(shared, {a.data + r * a.row_stride, a.shared_stride, a.row_stride}, b + column,
                                 b_stride, c + r * c_stride + column, c_stride);
    }
}

/// Rows [first, last) of C = Aᵀ·B, all columns: strips of 64 columns, then of 16, then the rest. The tiles
/// inline here, so they are compiled for each of SLIM_VECTORIZED's targets.
SLIM_VECTORIZED void product_rows(int64_t shared, Strided a, const float* b, float* c, int64_t columns,
                                  int64_t first, int64_t last) {
    int64_t column = 0;
    // Column strips outermost, so a strip of B stays in cache while the rows pass over it.
    for (; column + 64 <= columns; column += 64) {
        product_strip<4>(shared, a, b, columns, c, columns, column, first, last);
    }
    for (; column + 16 <= columns; column += 16) {
        product_strip<1>(shared, a, b, columns, c, columns, column, first, last);
    }
    if (column < columns) {
        product_tail(shared, {a.data + first * a.row_stride, a.shared_stride, a.row_stride}, last - first,
                     b + column, columns, columns - column, c + first * columns + column, columns);
    }
}

/// C [rows, columns] = Aᵀ·B over `shared` rows, B and C contiguous; rows of C split over libtorch's threads.
void shared_rows_product(int64_t shared, Strided a, const float* b, float* c, int64_t rows, int64_t columns) {
    const int64_t tiles = (rows + kTileRows - 1) / kTileRows;
    const int64_t tile_work = std::max<int64_t>(1, kTileRows * columns * shared);
    const int64_t grain = std::max<int64_t>(1, kMinThreadWork / tile_work);
    at::parallel_for(0, tiles, grain, [&](int64_t first_tile, int64_t last_tile) {
        product_rows(shared, a, b, c, columns, first_tile * kTileRows, std::min(rows, last_tile * kTileRows));
    });
}

/// dW [O, I] = dyᵀ·x for dy [R, O] and x [R, I].
at::Tensor tiled_weights_gradient(const at::Tensor& dy, const at::Tensor& x) {
    const int64_t rows = x.size(0), inputs = x.size(1), outputs = dy.size(1);
    auto dw = at::empty({outputs, inputs}, x.options());
    shared_rows_product(rows, {dy.const_data_ptr<float>(), outputs, 1}, x.const_data_ptr<float>(),
                        dw.mutable_data_ptr<float>(), outputs, inputs);
    return dw;
}

/// dx [R, I] = dy·W for dy [R, O] and W [O, I]: A is dy read transposed.
at::Tensor tiled_input_gradient(const at::Tensor& dy, const at::Tensor& weights) {
    const int64_t rows = dy.size(0), outputs = weights.size(0), inputs = weights.size(1);
    auto dx = at::empty({rows, inputs}, weights.options());
    shared_rows_product(outputs, {dy.const_data_ptr<float>(), 1, outputs}, weights.const_data_ptr<float>(),
                        dx.mutable_data_ptr<float>(), rows, inputs);
    return dx;
}

/// dx and dW for the upstream gradient dy, each when asked for; recorded backward passes (second derivatives)
/// take ATen's differentiable products.
std::pair<at::Tensor, at::Tensor> product_gradients(AutogradContext* ctx, const at::Tensor& dy) {
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weights = saved[1];
    const bool recorded = c10::GradMode::is_enabled();
    at::Tensor dx, dw;
    if (ctx->needs_input_grad(0)) dx = recorded ? at::mm(dy, weights) : tiled_input_gradient(dy, weights);
    if (ctx->needs_input_grad(1)) dw = recorded ? at::mm(dy.t(), x) : tiled_weights_gradient(dy, x);
    return {dx, dw};
}

/// x·Wᵀ. (autograd functions take defined tensors only, hence one function with biases and one without.)
struct TiledDense : public torch::autograd::Function<TiledDense> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weights) {
        ctx->save_for_backward({x, weights});
        return tiled_forward(x, weights, nullptr);
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto [dx, dw] = product_gradients(ctx, grads[0].contiguous());
        return {dx, dw};
    }
};

/// x·Wᵀ + b.
struct BiasedTiledDense : public torch::autograd::Function<BiasedTiledDense> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weights,
                              const at::Tensor& biases) {
        ctx->save_for_backward({x, weights});
        return tiled_forward(x, weights, &biases);
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto dy = grads[0].contiguous();
        auto [dx, dw] = product_gradients(ctx, dy);
        return {dx, dw, ctx->needs_input_grad(2) ? dy.sum(0) : at::Tensor()};
    }
};

/// Checks what the kernel reads: contiguous float32 CPU x [R, I], weights [O, I] and biases [O] (if any).
void check_operands(const at::Tensor& x, const at::Tensor& weights, const at::Tensor* biases) {
    slim::check_dense_shapes(x, weights);
    if (biases != nullptr) {
        TORCH_CHECK(biases->dim() == 1 && biases->size(0) == weights.size(0), "dense product: biases ",
                    biases->sizes(), " for weights ", weights.sizes(), " (expected [out])");
    }
    for (const at::Tensor* operand : {&x, &weights, biases}) {
        if (operand == nullptr) continue;
        TORCH_CHECK(operand->scalar_type() == at::kFloat && operand->is_cpu() && operand->is_contiguous(),
                    "dense product: takes contiguous float32 CPU tensors, got ", operand->scalar_type(), " on ",
                    operand->device(), operand->is_contiguous() ? "" : " (not contiguous)");
    }
}

}  // namespace

extern "C" {

/// x [R, I] · weightsᵀ [I, O] (+ biases [O] when not null) → *out [R, O] by slim's kernels, differentiable.
/// Returns nullptr or an error message.
char* slim_tiled_dense_product(const at::Tensor* x, const at::Tensor* weights, const at::Tensor* biases,
                                  at::Tensor** out) {
    try {
        check_operands(*x, *weights, biases);
        *out = new at::Tensor(biases ? BiasedTiledDense::apply(*x, *weights, *biases)
                                     : TiledDense::apply(*x, *weights));
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_tiled_dense_product");
    }
}

}
