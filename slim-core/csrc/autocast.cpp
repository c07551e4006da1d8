// Autocast on the calling thread: libtorch's per-thread switch that runs convolutions and matrix products in a
// lower-precision float type (casting their float32 inputs, caching the casts of leaf weights) and keeps
// precision-sensitive operations in float32. tch's own switch reaches CUDA's autocast only; these reach any
// device type's.
//
// C interface; none of the functions can fail (device types and scalar types come from the Rust side's enums).

#include <ATen/autocast_mode.h>

#include <cstdint>

namespace {

c10::DeviceType device_type_of(int device_type) { return static_cast<c10::DeviceType>(device_type); }

}  // namespace

extern "C" {

/// Whether autocast is on for `device_type` (c10::DeviceType's value) on the calling thread, and its type
/// (c10::ScalarType's value) in `dtype`.
bool slim_autocast_state(int device_type, int* dtype) {
    const auto device = device_type_of(device_type);
    *dtype = static_cast<int>(at::autocast::get_autocast_dtype(device));
    return at::autocast::is_autocast_enabled(device);
}

/// Turns autocast on or off for `device_type` with `dtype` on the calling thread and counts one more nesting
/// level (so the cast cache lives until the outermost scope ends).
void slim_autocast_enter(int device_type, bool enabled, int dtype) {
    const auto device = device_type_of(device_type);
    at::autocast::set_autocast_dtype(device, static_cast<c10::ScalarType>(dtype));
    at::autocast::set_autocast_enabled(device, enabled);
    at::autocast::increment_nesting();
}

/// Ends a scope of slim_autocast_enter: restores the state from before it (`enabled`, `dtype`) and, when the
/// outermost scope ends, drops the cached casts of the weights.
void slim_autocast_exit(int device_type, bool enabled, int dtype) {
    const auto device = device_type_of(device_type);
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(device, enabled);
    at::autocast::set_autocast_dtype(device, static_cast<c10::ScalarType>(dtype));
}
}
