// Whether every element of a list of tensors is finite, answered in one call: the train op's check that no
// gradient holds a NaN or an infinity before the optimizer applies them.
//
// Dense float32 and float64 CPU tensors are scanned in place, in parallel chunks, with a loop the compiler
// vectorizes (an integer maximum of the values' magnitude bits); there is no reduction tensor, no summation
// that could overflow, and one answer for the whole list. Other tensors (another device or dtype, gaps in
// memory) go through ATen's isfinite, with one read-back for all of them.
//
// C interface: returns nullptr on success (the answer in *all_finite) or an error message the caller frees with
// slim_free_error.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <vector>

#include "error_message.h"
#include "vectorize.h"

namespace {

/// Elements per parallel task: large enough that small tensors stay on one thread.
constexpr int64_t kGrain = 1 << 16;

/// Whether `count` values from `values` are all finite. The values' bits without the sign, read as unsigned
/// integers, are at least `Infinity` exactly for infinities and NaNs, so one integer maximum decides; the loop
/// has no branch and vectorizes.
template <typename T, typename Bits, Bits Infinity>
inline bool span_is_finite(const T* values, int64_t count) {
    static_assert(sizeof(T) == sizeof(Bits));
    constexpr Bits magnitude = ~(Bits{1} << (8 * sizeof(Bits) - 1));
    Bits largest = 0;
    for (int64_t i = 0; i < count; ++i) {
        Bits bits;
        std::memcpy(&bits, values + i, sizeof(bits));
        bits &= magnitude;
        largest = bits > largest ? bits : largest;
    }
    return largest < Infinity;
}

// SLIM_VECTORIZED: AVX-512, AVX2 and baseline builds on x86-64 Linux (vectorize.h).
SLIM_VECTORIZED bool is_finite(const float* values, int64_t count) {
    return span_is_finite<float, uint32_t, 0x7f800000u>(values, count);
}

SLIM_VECTORIZED bool is_finite(const double* values, int64_t count) {
    return span_is_finite<double, uint64_t, 0x7ff0000000000000ull>(values, count);
}

/// Whether the dense float CPU `tensor` is all finite, scanned in parallel chunks.
template <typename T>
bool dense_is_finite(const at::Tensor& tensor) {
    const T* values = tensor.const_data_ptr<T>();
    std::atomic<bool> finite{true};
    at::parallel_for(0, tensor.numel(), kGrain, [&](int64_t begin, int64_t end) {
        if (!is_finite(values + begin, end - begin)) finite.store(false, std::memory_order_relaxed);
    });
    return finite.load();
}

/// Whether this file's own scan covers `tensor` (else ATen's isfinite does).
bool scanned_in_place(const at::Tensor& tensor) {
    const auto kind = tensor.scalar_type();
    return tensor.device().is_cpu() && (kind == at::kFloat || kind == at::kDouble) &&
           tensor.is_non_overlapping_and_dense();
}

bool all_finite(const at::Tensor* const* tensors, int64_t count) {
    std::vector<at::Tensor> others;
    for (int64_t i = 0; i < count; ++i) {
        const at::Tensor& tensor = *tensors[i];
        TORCH_CHECK(tensor.defined(), "position ", i, ": the tensor is undefined");
        if (!scanned_in_place(tensor)) {
            others.push_back(at::isfinite(tensor).all());
            continue;
        }
        // Dense, so its storage holds exactly its elements (in some order) from the data pointer on.
        const bool finite = tensor.scalar_type() == at::kFloat ? dense_is_finite<float>(tensor)
                                                               : dense_is_finite<double>(tensor);
        if (!finite) return false;
    }
    return others.empty() || at::stack(others).all().item<bool>();
}

}  // namespace

extern "C" {

/// Sets *result to whether every element of the `count` tensors is finite. Returns nullptr or an error message.
char* slim_all_finite(const at::Tensor* const* tensors, int64_t count, bool* result) {
    try {
        c10::NoGradGuard no_grad;
        *result = all_finite(tensors, count);
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_all_finite");
    }
}

}
