// Checks shared by slim's fused optimizer updates, whose kernels index a variable and the tensors updated with
// it (gradient, slots) as flat arrays: every tensor must put each element at the same offset.

#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace slim {

/// Throws unless `variable` is a dense float32 or float64 CPU tensor that a kernel may index flat.
void check_variable(const at::Tensor& variable, int64_t position);

/// Throws unless `tensor` (`what`: "gradient", "slot") matches `variable` in sizes, in strides along every
/// dimension longer than 1, in dtype and in device.
void check_alike(const at::Tensor& variable, const at::Tensor& tensor, int64_t position, const char* what);

/// Copies of `count` tensor handles (reference counts, not data).
std::vector<at::Tensor> gather(const at::Tensor* const* handles, int64_t count);

}  // namespace slim
