// The scan for NaNs and infinities: an integer maximum of the values' magnitude bits, with no branch, so the loop
// vectorizes; no reduction tensor and no summation that could overflow.

#include "finite_scan.h"

#include <atomic>
#include <cstring>

#include "tensor_list.h"
#include "vectorize.h"

namespace slim {

namespace {

/// Whether `count` values from `values` are all finite. The values' bits without the sign, read as unsigned
/// integers, are at least `Infinity` exactly for infinities and NaNs, so one integer maximum decides.
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

}  // namespace

/// Whether elements `[begin, end)` of the dense float `tensor` are finite (in memory order, which for a dense
/// tensor covers exactly its elements from the data pointer on).
bool piece_is_finite(const at::Tensor& tensor, int64_t begin, int64_t end) {
    if (tensor.scalar_type() == at::kFloat) return is_finite(tensor.const_data_ptr<float>() + begin, end - begin);
    return is_finite(tensor.const_data_ptr<double>() + begin, end - begin);
}

bool list_is_finite(const std::vector<at::Tensor>& tensors, const std::vector<int64_t>& starts) {
    std::atomic<bool> finite{true};
    parallel_over_list(starts, [&](size_t index, int64_t begin, int64_t end) {
        if (!piece_is_finite(tensors[index], begin, end)) finite.store(false, std::memory_order_relaxed);
    });
    return finite.load();
}

}  // namespace slim
