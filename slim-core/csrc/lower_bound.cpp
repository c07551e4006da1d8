// GDN's lower bound (TF's `GDNLowerBound`): max(inputs, bound) forward, and a backward pass that lets the gradient
// through where the input is at or above the bound, or where it pushes the input up (a negative gradient), so a
// parameter that sank below its bound can climb back. torch's maximum would stop every gradient below the bound.
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <exception>

#include "error_message.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct LowerBound : public torch::autograd::Function<LowerBound> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& inputs, double bound) {
        ctx->save_for_backward({inputs});
        ctx->saved_data["bound"] = bound;
        return inputs.clamp_min(bound);
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto inputs = ctx->get_saved_variables()[0];
        const double bound = ctx->saved_data["bound"].toDouble();
        const auto& grad = grads[0];
        const auto passes = inputs.ge(bound).logical_or(grad.lt(0));
        return {grad * passes.to(grad.scalar_type()), at::Tensor()};
    }
};

}  // namespace

extern "C" {

/// max(*inputs, bound) → *out, with TF's GDNLowerBound gradient. Returns nullptr or an error message.
char* slim_lower_bound(const at::Tensor* inputs, double bound, at::Tensor** out) {
    try {
        TORCH_CHECK(inputs->is_floating_point(), "the lower bound takes a float tensor, not ", inputs->toString());
        *out = new at::Tensor(LowerBound::apply(*inputs, bound));
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_lower_bound");
    }
}

}
