// The state of libtorch's default CPU generator, read and written back: gradient accumulation starts every
// micro-batch's forward pass from the same state, as every rank of a data-parallel run starts its own.
//
// C interface: each function returns nullptr on success or an error message the caller frees with
// slim_free_error.

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <exception>
#include <mutex>

#include "error_message.h"

extern "C" {

/// A copy of the default CPU generator's state → *out.
char* slim_cpu_generator_state(at::Tensor** out) {
    try {
        auto generator = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(generator.mutex());
        *out = new at::Tensor(generator.get_state());
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_cpu_generator_state");
    }
}

/// Puts the default CPU generator back in `state` (from slim_cpu_generator_state).
char* slim_set_cpu_generator_state(const at::Tensor* state) {
    try {
        auto generator = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(generator.mutex());
        generator.set_state(*state);
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_set_cpu_generator_state");
    }
}

}  // extern "C"
