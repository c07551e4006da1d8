// Autocast's cast of a convolution's or product's input, with the casts of weights kept between inference calls.
//
// Autocast casts float32 inputs on every call and keeps a weight's cast only until the outermost autocast scope
// ends, so each bfloat16 inference call passes over every weight once more (VGG-16: 138 M weights per image).
// Where no gradient is recorded, the cast of a weight (a float32 leaf that requires grad, as every variable
// does) comes from this cache instead: one copy per weight and type, valid while the weight lives and keeps the
// storage and version it was cast from — an in-place write (an optimizer step, a restore) or new storage makes it
// stale, and the next call casts afresh. A miss also drops the copies of weights that died. Where gradients are
// recorded the cast is autocast's own (`at::autocast::cached_cast`), so training is exactly as before.
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/GradMode.h>

#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <utility>

#include "error_message.h"

namespace {

/// One weight's reduced-precision copy and what it was made from.
struct WeightCast {
    c10::weak_intrusive_ptr<c10::TensorImpl> source;
    const void* data;
    int64_t version;
    at::Tensor copy;
};

using WeightCastKey = std::pair<const c10::TensorImpl*, at::ScalarType>;

/// The process's copies. Never destroyed: at exit libtorch's allocator may be gone before static destructors run.
struct WeightCasts {
    std::mutex mutex;
    std::map<WeightCastKey, WeightCast> entries;
};

WeightCasts& weight_casts() {
    static auto* casts = new WeightCasts();
    return *casts;
}

/// Whether `t` is a weight whose cast may be kept: no gradient is being recorded, and `t` is a float32 leaf
/// variable (not a view, not an inference tensor, which has no version).
bool keeps_cast(const at::Tensor& t) {
    return !c10::GradMode::is_enabled() && t.defined() && t.scalar_type() == at::kFloat && t.requires_grad() &&
           t.is_leaf() && !t.is_view() && !t.is_inference();
}

/// Whether `entry` is still the cast of `t` as it is now.
bool is_current(const WeightCast& entry, const at::Tensor& t) {
    const auto alive = entry.source.lock();
    return alive.get() == t.unsafeGetTensorImpl() && entry.data == t.const_data_ptr() &&
           entry.version == t._version();
}

/// `t` in `type`, from the cache when its copy is current; a miss casts, stores and drops dead weights' copies.
at::Tensor kept_cast(const at::Tensor& t, at::ScalarType type) {
    auto& casts = weight_casts();
    std::lock_guard<std::mutex> lock(casts.mutex);
    const WeightCastKey key{t.unsafeGetTensorImpl(), type};
    const auto found = casts.entries.find(key);
    if (found != casts.entries.end() && is_current(found->second, t)) return found->second.copy;
    for (auto entry = casts.entries.begin(); entry != casts.entries.end();) {
        entry = entry->second.source.expired() ? casts.entries.erase(entry) : std::next(entry);
    }
    auto copy = t.to(type);
    casts.entries.insert_or_assign(
        key, WeightCast{c10::weak_intrusive_ptr<c10::TensorImpl>(t.getIntrusivePtr()), t.const_data_ptr(),
                        t._version(), copy});
    return copy;
}

}  // namespace

extern "C" {

/// `*t` as autocast hands it to a convolution or product on `device_type` (c10::DeviceType's value) in `dtype`
/// (c10::ScalarType's value) → *out: with `keep`, a weight's kept copy where no gradient is recorded; else
/// autocast's cast.
char* slim_autocast_cast(const at::Tensor* t, int device_type, int dtype, bool keep, at::Tensor** out) {
    try {
        const auto type = static_cast<at::ScalarType>(dtype);
        *out = new at::Tensor(keep && keeps_cast(*t) ? kept_cast(*t, type)
                                             : at::autocast::cached_cast(type, *t, static_cast<c10::DeviceType>(device_type)));
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_autocast_cast");
    }
}

/// Drops every kept copy.
void slim_clear_weight_casts() {
    auto& casts = weight_casts();
    std::lock_guard<std::mutex> lock(casts.mutex);
    casts.entries.clear();
}

/// How many copies in `dtype` (c10::ScalarType's value) are kept (for tests).
int64_t slim_weight_cast_count(int dtype) {
    auto& casts = weight_casts();
    std::lock_guard<std::mutex> lock(casts.mutex);
    int64_t count = 0;
    for (const auto& entry : casts.entries) count += entry.first.second == static_cast<at::ScalarType>(dtype);
    return count;
}
}
