// bfloat16 values as their 16 bits (uint16_t), with float32 conversions written as plain bit operations, so that
// the loops of slim's kernels vectorize: c10::BFloat16 is a class whose copies and conversions (which branch on
// NaN) keep GCC from vectorizing selects and stores.

#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <cstring>

namespace slim {

/// A float32 or bfloat16 (bits) value as a float32 (exact).
inline float widen(float x) { return x; }
inline float widen(uint16_t bits) {
    const uint32_t wide = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof value);
    return value;
}

/// A float32 as `T`: itself, or bfloat16 bits rounded to nearest even with NaN kept a quiet NaN (as c10 converts).
template <typename T>
inline T narrow(float x);
template <>
inline float narrow<float>(float x) {
    return x;
}
template <>
inline uint16_t narrow<uint16_t>(float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    return static_cast<uint16_t>(x != x ? 0x7fc0u : rounded);
}

/// The values of a float32 tensor, or of a bfloat16 tensor as bits (`T` float or uint16_t).
template <typename T>
inline const T* elements(const at::Tensor& t) {
    if constexpr (std::is_same_v<T, float>) {
        return t.const_data_ptr<float>();
    } else {
        return reinterpret_cast<const uint16_t*>(t.const_data_ptr<c10::BFloat16>());
    }
}
template <typename T>
inline T* mutable_elements(at::Tensor& t) {
    if constexpr (std::is_same_v<T, float>) {
        return t.data_ptr<float>();
    } else {
        return reinterpret_cast<uint16_t*>(t.data_ptr<c10::BFloat16>());
    }
}

}  // namespace slim
