// The fully connected product x·Wᵀ through oneDNN convolutions, with a backward pass of slim's choosing.
//
// Forward is the swapped 1×1 convolution that slim-core/src/dense_product.rs describes: the weights [O, I] are
// a one-image batch of O pixels with I channels (channels-last, no copy) and the rows of x [R, I] are R
// filters. ATen's own backward of that convolution computes dx as a weight gradient reduced over the O pixels,
// which oneDNN does about three times slower than a forward convolution of the same size. This function's
// backward computes dx = dy·W as a forward convolution instead (W viewed as an NCHW image of I pixels with O
// channels, dy's rows as filters) and keeps ATen's backward-data convolution for dW.
//
// Calls that record no gradient (inference) take oneDNN's matrix product instead, through ATen's
// `at::native::mkldnn_matmul`.
//
// C interface: catches C++ exceptions and returns the message (free it with slim_free_error), or nullptr on
// success. Tensors cross as `at::Tensor*`, the handle tch uses.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <exception>

#include "dense_shapes.h"
#include "error_message.h"

namespace at::native {
// ATen's oneDNN matrix product (aten/src/ATen/native/mkldnn/Matmul.h, a header libtorch does not ship; ATen's
// Matmul.cpp defines it in builds without oneDNN too, as a stub that throws, and libtorch_cpu exports it):
// result = beta·result + alpha·mat1·mat2.
TORCH_API void mkldnn_matmul(const at::Tensor& mat1, const at::Tensor& mat2, const at::Tensor& result, float beta,
                             float alpha);
}  // namespace at::native

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// The swapped convolution: weights [O, I] as the image, x [R, I] as the filters; returns [R, O].
at::Tensor swapped_convolution(const at::Tensor& x, const at::Tensor& weights) {
    const int64_t rows = x.size(0), inputs = weights.size(1), outputs = weights.size(0);
    auto image = weights.view({1, outputs, 1, inputs}).permute({0, 3, 1, 2});
    auto filters = x.reshape({rows, inputs, 1, 1});
    return at::conv2d(image, filters).view({rows, outputs});
}

/// dx = dy·W [R, I] as a forward convolution: W as an NCHW image [1, O, I, 1], dy's rows as filters [R, O, 1, 1].
at::Tensor input_gradient(const at::Tensor& dy, const at::Tensor& weights) {
    const int64_t rows = dy.size(0), inputs = weights.size(1), outputs = weights.size(0);
    auto image = weights.view({1, outputs, inputs, 1});
    auto filters = dy.contiguous().view({rows, outputs, 1, 1});
    return at::conv2d(image, filters).view({rows, inputs});
}

/// dW = dyᵀ·x [O, I]: the swapped convolution's gradient for its image (oneDNN backward data).
at::Tensor weights_gradient(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& weights) {
    const int64_t rows = x.size(0), inputs = weights.size(1), outputs = weights.size(0);
    auto image = weights.view({1, outputs, 1, inputs}).permute({0, 3, 1, 2});
    auto filters = x.reshape({rows, inputs, 1, 1});
    auto output_gradient = dy.reshape({1, rows, outputs, 1});
    auto grads = at::convolution_backward(output_gradient, image, filters, std::nullopt, {1, 1}, {0, 0}, {1, 1},
                                          false, {0, 0}, 1, {true, false, false});
    return std::get<0>(grads).permute({0, 2, 3, 1}).reshape({outputs, inputs});
}

struct DenseProduct : public torch::autograd::Function<DenseProduct> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weights) {
        ctx->save_for_backward({x, weights});
        return swapped_convolution(x, weights);
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        const auto& x = saved[0];
        const auto& weights = saved[1];
        const auto& dy = grads[0];
        at::Tensor dx, dw;
        if (ctx->needs_input_grad(0)) dx = input_gradient(dy, weights);
        if (ctx->needs_input_grad(1)) dw = weights_gradient(dy, x, weights);
        return {dx, dw};
    }
};

/// x·Wᵀ through oneDNN's matrix product, for calls that record no gradient (it reads Wᵀ as it lies). Inside
/// VGG-16's float32 inference it took ~4% off the step (docs/performance.md, change 22); in training steps the
/// convolutions above were faster.
at::Tensor inference_product(const at::Tensor& x, const at::Tensor& weights) {
    slim::check_dense_shapes(x, weights);
    const bool float32_cpu =
        x.scalar_type() == at::kFloat && weights.scalar_type() == at::kFloat && x.is_cpu() && weights.is_cpu();
    TORCH_CHECK(float32_cpu, "dense product: takes float32 CPU tensors, got ", x.scalar_type(), " inputs on ",
                x.device(), " and ", weights.scalar_type(), " weights on ", weights.device());
    auto product = at::empty({x.size(0), weights.size(0)}, x.options());
    at::native::mkldnn_matmul(x, weights.t(), product, /*beta=*/0.0f, /*alpha=*/1.0f);
    return product;
}

/// Whether autograd records this product: gradient mode on and an operand that requires a gradient.
bool records_gradient(const at::Tensor& x, const at::Tensor& weights) {
    return c10::GradMode::is_enabled() && (x.requires_grad() || weights.requires_grad());
}

}  // namespace

extern "C" {

/// x [R, I] · weightsᵀ [I, O] → *out [R, O]: differentiable when autograd records it, else a plain product.
/// Returns nullptr or an error message.
char* slim_dense_product(const at::Tensor* x, const at::Tensor* weights, at::Tensor** out) {
    try {
        *out = new at::Tensor(records_gradient(*x, *weights) ? DenseProduct::apply(*x, *weights)
                                                             : inference_product(*x, *weights));
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_dense_product");
    }
}

}
