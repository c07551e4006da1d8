// A 2-D convolution with its ReLU applied by oneDNN as a post-op of the convolution (one pass over the output
// instead of two), through the operator libtorch registers for inference graphs, `mkldnn::_convolution_pointwise`.
// It has no gradient: callers use it only where no gradient is recorded.
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/GradMode.h>

#include <exception>
#include <optional>
#include <vector>

#include "error_message.h"

namespace {

/// libtorch's fused convolution operator, when this build registered it with a CPU kernel.
const std::optional<c10::OperatorHandle>& pointwise_convolution() {
    static const std::optional<c10::OperatorHandle> handle = []() -> std::optional<c10::OperatorHandle> {
        auto found = c10::Dispatcher::singleton().findOp({"mkldnn::_convolution_pointwise", ""});
        if (!found.has_value() || !found->hasKernelForDispatchKey(c10::DispatchKey::CPU)) return std::nullopt;
        return found;
    }();
    return handle;
}

std::vector<int64_t> pair(const int64_t* values) { return {values[0], values[1]}; }

}  // namespace

extern "C" {

/// Whether libtorch has the fused convolution operator.
bool slim_fused_convolution_available() { return pointwise_convolution().has_value(); }

/// Whether autograd records operations on the calling thread now.
bool slim_grad_mode_enabled() { return c10::GradMode::is_enabled(); }

/// relu(conv2d(input, weights, biases)) with `geometry` = [stride_h, stride_w, pad_h, pad_w, dilation_h,
/// dilation_w, groups] → *out, in one oneDNN call; `biases` may be null. Not differentiable.
char* slim_convolution_relu(const at::Tensor* input, const at::Tensor* weights, const at::Tensor* biases,
                            const int64_t* geometry, at::Tensor** out) {
    try {
        const auto& op = pointwise_convolution();
        TORCH_CHECK(op.has_value(), "this libtorch has no mkldnn::_convolution_pointwise");
        std::vector<c10::IValue> stack;
        stack.reserve(10);
        stack.emplace_back(*input);
        stack.emplace_back(*weights);
        stack.emplace_back(biases == nullptr ? c10::IValue() : c10::IValue(*biases));
        stack.emplace_back(pair(geometry + 2));  // padding
        stack.emplace_back(pair(geometry));      // stride
        stack.emplace_back(pair(geometry + 4));  // dilation
        stack.emplace_back(geometry[6]);         // groups
        stack.emplace_back(std::string("relu"));
        stack.emplace_back(c10::List<std::optional<at::Scalar>>());
        stack.emplace_back(c10::IValue());  // algorithm
        op->callBoxed(&stack);
        *out = new at::Tensor(stack.at(0).toTensor());
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_convolution_relu");
    }
}
}
