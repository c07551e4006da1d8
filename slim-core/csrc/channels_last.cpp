// A 4-D tensor copied into channels-last (NHWC) memory: empty_like with a memory format (which tch does not
// expose) and copy_. The copy has the exact channels-last strides even for one channel (where
// contiguous(ChannelsLast) would keep NCHW strides, which count as both layouts), is differentiable, and is
// recorded by TorchScript's tracer relative to the input, so a trace holds for any batch size (an
// empty_strided + copy_ made in Rust would fix the example's sizes).
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>

#include <exception>

#include "error_message.h"

extern "C" {

/// A channels-last copy of input → *out. Returns nullptr or an error message.
char* slim_channels_last(const at::Tensor* input, at::Tensor** out) {
    try {
        *out = new at::Tensor(at::empty_like(*input, at::MemoryFormat::ChannelsLast).copy_(*input));
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_channels_last");
    }
}

}  // extern "C"
