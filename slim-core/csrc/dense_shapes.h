// The shapes of a fully connected product x·Wᵀ, checked alike by its two C++ routes (dense_product.cpp and
// tiled_dense.cpp).

#pragma once

#include <ATen/ATen.h>

namespace slim {

/// Checks that x [rows, in] and weights [out, in] make x·Wᵀ; the error names both shapes.
inline void check_dense_shapes(const at::Tensor& x, const at::Tensor& weights) {
    TORCH_CHECK(x.dim() == 2 && weights.dim() == 2 && x.size(1) == weights.size(1), "dense product: inputs ",
                x.sizes(), " and weights ", weights.sizes(),
                " do not make x·Wᵀ (expected [rows, in] and [out, in])");
}

}  // namespace slim
