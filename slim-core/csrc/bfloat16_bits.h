// bfloat16 ↔ float32 conversions written as plain bit operations, branch-free, so that the loops of slim's
// kernels that use them vectorize (c10::BFloat16's own conversions branch on NaN).

#pragma once

#include <c10/util/BFloat16.h>

#include <cstdint>
#include <cstring>

namespace slim {

/// A float32 or bfloat16 value as a float32 (exact).
inline float widen(float x) { return x; }
inline float widen(c10::BFloat16 x) {
    uint16_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    const uint32_t wide = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof value);
    return value;
}

/// A float32 as `T`: itself, or bfloat16 rounded to nearest even with NaN kept a quiet NaN (as c10 converts).
template <typename T>
inline T narrow(float x);
template <>
inline float narrow<float>(float x) {
    return x;
}
template <>
inline c10::BFloat16 narrow<c10::BFloat16>(float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    const uint16_t out = static_cast<uint16_t>(x != x ? 0x7fc0u : rounded);
    c10::BFloat16 value;
    std::memcpy(&value, &out, sizeof value);
    return value;
}

}  // namespace slim
