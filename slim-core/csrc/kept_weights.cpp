// Weights derived from variables — their reduced-precision casts, a batch norm folded into them — kept between
// inference calls while the variables they come from are unchanged.
//
// Autocast casts float32 inputs on every call and keeps a weight's cast only until the outermost autocast scope
// ends, so each bfloat16 inference call passes over every weight once more (VGG-16: 138 M weights per image); a
// convolution that folds its eval-mode batch norm computes the folded weights on every call too (ResNet-50: 25 M).
// Where no gradient is recorded, these derivations come from this cache instead: one entry per derivation, first
// variable and type, valid while each variable it was derived from lives and keeps the storage and version it had
// then — an in-place write (an optimizer step, a restore, a moving-statistics update) or new storage makes it
// stale, and the next call derives afresh. A miss also drops the entries of variables that died. Where gradients
// are recorded, casts are autocast's own (`at::autocast::cached_cast`) and nothing is kept, so training is exactly
// as before.
//
// C interface: returns nullptr on success or an error message the caller frees with slim_free_error.

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "error_message.h"

namespace {

/// What a kept entry was derived from: one variable (or none, for an absent optional one) as it was then.
struct SourceState {
    c10::weak_intrusive_ptr<c10::TensorImpl> impl;
    const void* data;
    int64_t version;
};

SourceState state_of(const at::Tensor& t) {
    using Weak = c10::weak_intrusive_ptr<c10::TensorImpl>;
    if (!t.defined()) return SourceState{Weak(c10::intrusive_ptr<c10::TensorImpl>()), nullptr, 0};
    return SourceState{Weak(t.getIntrusivePtr()), t.const_data_ptr(), t._version()};
}

/// Whether `state` still describes `t` (both absent, or the same live variable, storage and version).
bool still(const SourceState& state, const at::Tensor& t) {
    if (!t.defined()) return state.data == nullptr && state.impl.expired();
    const auto alive = state.impl.lock();
    return alive.get() == t.unsafeGetTensorImpl() && state.data == t.const_data_ptr() && state.version == t._version();
}

/// How an entry was derived.
enum class Derivation : int { Cast = 0, Fold = 1 };

/// One derivation's values and what they were derived from.
struct KeptEntry {
    std::vector<SourceState> sources;
    std::vector<at::Tensor> values;
};

/// Keyed by the first source, the derivation and the target type.
using KeptKey = std::tuple<const c10::TensorImpl*, int, int>;

/// The process's entries. Never destroyed: at exit libtorch's allocator may be gone before static destructors run.
struct KeptWeights {
    std::mutex mutex;
    std::map<KeptKey, KeptEntry> entries;
};

KeptWeights& kept_weights() {
    static auto* kept = new KeptWeights();
    return *kept;
}

/// Whether a variable's derivations may be kept: a leaf with a version (not a view, not an inference tensor).
bool keepable(const at::Tensor& t) { return !t.defined() || (t.is_leaf() && !t.is_view() && !t.is_inference()); }

/// `derive()` for `sources` (the first defined), from the cache when its entry is current; a miss derives, stores
/// and drops the entries of dead variables.
std::vector<at::Tensor> kept(Derivation derivation, int dtype, const std::vector<at::Tensor>& sources,
                             const std::function<std::vector<at::Tensor>()>& derive) {
    auto& kept = kept_weights();
    std::lock_guard<std::mutex> lock(kept.mutex);
    const KeptKey key{sources.front().unsafeGetTensorImpl(), static_cast<int>(derivation), dtype};
    const auto found = kept.entries.find(key);
    if (found != kept.entries.end() && found->second.sources.size() == sources.size()) {
        bool current = true;
        for (size_t i = 0; i < sources.size() && current; ++i) current = still(found->second.sources[i], sources[i]);
        if (current) return found->second.values;
    }
    for (auto entry = kept.entries.begin(); entry != kept.entries.end();) {
        const auto& states = entry->second.sources;
        const bool dead = std::any_of(states.begin(), states.end(),
                                      [](const SourceState& s) { return s.data != nullptr && s.impl.expired(); });
        entry = dead ? kept.entries.erase(entry) : std::next(entry);
    }
    KeptEntry entry;
    for (const auto& source : sources) entry.sources.push_back(state_of(source));
    entry.values = derive();
    kept.entries.insert_or_assign(key, entry);
    return entry.values;
}

/// Whether `t`'s cast may be kept: no gradient is being recorded, and `t` is a float32 variable (a leaf that
/// requires grad, as trainable variables do; activations do not).
bool keeps_cast(const at::Tensor& t) {
    return !c10::GradMode::is_enabled() && t.defined() && t.scalar_type() == at::kFloat && t.requires_grad() &&
           keepable(t);
}

/// The folded weights and biases of a convolution followed by an eval-mode batch norm:
/// `w·γ/√(σ²+ε)` and `β − μ·γ/√(σ²+ε) + b·γ/√(σ²+ε)` (γ, β, b optional), optionally cast to `dtype`.
std::vector<at::Tensor> fold(const at::Tensor& weights, const at::Tensor& biases, const at::Tensor& gamma,
                             const at::Tensor& beta, const at::Tensor& mean, const at::Tensor& variance, double epsilon,
                             int dtype) {
    const auto inverse_deviation = (variance + epsilon).rsqrt();
    const auto scale = gamma.defined() ? gamma * inverse_deviation : inverse_deviation;
    const auto shift = beta.defined() ? beta - mean * scale : -(mean * scale);
    auto folded_weights = weights * scale.view({-1, 1, 1, 1});
    auto folded_biases = biases.defined() ? shift + biases * scale : shift;
    if (dtype >= 0) {
        const auto type = static_cast<at::ScalarType>(dtype);
        folded_weights = folded_weights.to(type);
        folded_biases = folded_biases.to(type);
    }
    return {folded_weights, folded_biases};
}

at::Tensor or_undefined(const at::Tensor* t) { return t == nullptr ? at::Tensor() : *t; }

}  // namespace

extern "C" {

/// `*t` as autocast hands it to a convolution or product on `device_type` (c10::DeviceType's value) in `dtype`
/// (c10::ScalarType's value) → *out: with `keep`, a variable's kept cast where no gradient is recorded; else
/// autocast's cast.
char* slim_autocast_cast(const at::Tensor* t, int device_type, int dtype, bool keep, at::Tensor** out) {
    try {
        const auto type = static_cast<at::ScalarType>(dtype);
        const auto device = static_cast<c10::DeviceType>(device_type);
        const auto derive = [&] { return std::vector<at::Tensor>{t->to(type)}; };
        *out = new at::Tensor(keep && keeps_cast(*t) ? kept(Derivation::Cast, dtype, {*t}, derive).front()
                                                     : at::autocast::cached_cast(type, *t, device));
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_autocast_cast");
    }
}

/// A convolution's weights [O, I, kh, kw] and biases (nullable) with an eval-mode batch norm folded in (γ and β
/// nullable), cast to `dtype` unless it is negative → *out_weights, *out_biases. With `keep`, where no gradient is
/// recorded and every tensor is a variable, the result is kept until one of them changes.
char* slim_kept_fold(const at::Tensor* weights, const at::Tensor* biases, const at::Tensor* gamma,
                     const at::Tensor* beta, const at::Tensor* mean, const at::Tensor* variance, double epsilon,
                     int dtype, bool keep, at::Tensor** out_weights, at::Tensor** out_biases) {
    try {
        const std::vector<at::Tensor> sources{*weights, or_undefined(biases), or_undefined(gamma),
                                              or_undefined(beta), *mean, *variance};
        const auto derive = [&] {
            return fold(sources[0], sources[1], sources[2], sources[3], sources[4], sources[5], epsilon, dtype);
        };
        const bool keeps = keep && !c10::GradMode::is_enabled() &&
                           std::all_of(sources.begin(), sources.end(), [](const at::Tensor& t) { return keepable(t); });
        const auto folded = keeps ? kept(Derivation::Fold, dtype, sources, derive) : derive();
        *out_weights = new at::Tensor(folded[0]);
        *out_biases = new at::Tensor(folded[1]);
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_kept_fold");
    }
}

/// Drops every kept entry.
void slim_clear_kept_weights() {
    auto& kept = kept_weights();
    std::lock_guard<std::mutex> lock(kept.mutex);
    kept.entries.clear();
}

/// How many entries derived as `derivation` (0 cast, 1 fold) in `dtype` (c10::ScalarType's value, or -1) are
/// kept (for tests).
int64_t slim_kept_weight_count(int derivation, int dtype) {
    auto& kept = kept_weights();
    std::lock_guard<std::mutex> lock(kept.mutex);
    int64_t count = 0;
    for (const auto& entry : kept.entries) {
        count += std::get<1>(entry.first) == derivation && std::get<2>(entry.first) == dtype;
    }
    return count;
}
}
