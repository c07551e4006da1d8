// Stacks equal-sized float images held in host buffers into one new tensor, one memcpy each. at::empty leaves
// the memory unfilled, so no ATen loop runs: torch::zeros and a copy (what tch's from_slice does) would start
// the intra-op threads, which then spin against the threads that read and preprocess the next batches.
//
// C interface: returns null on success, else a message for slim_free_error.

#include <ATen/ATen.h>

#include <cstring>
#include <exception>
#include <string>

#include "error_message.h"

extern "C" {

/// A new float tensor of shape `dims` (`ndims` of them) holding `count` images of `image_len` floats each, read
/// from `images[0..count]`; its handle goes to `out`.
char* slim_stack_floats(const float* const* images, size_t count, size_t image_len, const int64_t* dims,
                        size_t ndims, at::Tensor** out) {
    try {
        at::Tensor stacked = at::empty(at::IntArrayRef(dims, ndims), at::kFloat);
        if (static_cast<size_t>(stacked.numel()) != count * image_len) {
            return slim::copy_message(("the shape holds " + std::to_string(stacked.numel()) + " values, not " +
                                       std::to_string(count) + " images of " + std::to_string(image_len))
                                          .c_str());
        }
        float* data = stacked.data_ptr<float>();
        for (size_t i = 0; i < count; ++i) {
            std::memcpy(data + i * image_len, images[i], image_len * sizeof(float));
        }
        *out = new at::Tensor(std::move(stacked));
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_stack_floats");
    }
}
}
