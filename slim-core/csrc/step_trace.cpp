// A Chrome trace of one training step (TF-Slim's trace_every_n_steps): libtorch's Kineto profiler, CPU
// activities, input shapes recorded, started before the step and saved after it as the JSON that
// chrome://tracing and Perfetto open (torch.profiler's export_chrome_trace writes the same).
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <torch/csrc/autograd/profiler_kineto.h>

#include <exception>
#include <set>
#include <string>

#include "error_message.h"

namespace {

using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

ProfilerConfig step_trace_config() {
    return ProfilerConfig(ProfilerState::KINETO, /*report_input_shapes=*/true);
}

}  // namespace

extern "C" {

/// Starts profiling this thread's operations. Returns nullptr or an error message.
char* slim_step_trace_start() {
    try {
        const std::set<ActivityType> activities{ActivityType::CPU};
        torch::autograd::profiler::prepareProfiler(step_trace_config(), activities);
        torch::autograd::profiler::enableProfiler(step_trace_config(), activities);
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_step_trace_start");
    }
}

/// Stops profiling and writes the trace to `path` (nullptr: discards it). Returns nullptr or an error message.
char* slim_step_trace_stop(const char* path) {
    try {
        auto result = torch::autograd::profiler::disableProfiler();
        if (path != nullptr && result) {
            result->save(std::string(path));
        }
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_step_trace_stop");
    }
}

}  // extern "C"
