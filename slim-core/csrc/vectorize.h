// Function multiversioning for slim's hot loops: on x86-64 Linux, a function marked SLIM_VECTORIZED is compiled
// for AVX-512 (x86-64-v4: F, BW, DQ and VL — without BW, loops over the 16-bit lanes of bfloat16 stay scalar),
// AVX2 and the baseline, and the loader picks the widest the CPU has; elsewhere (aarch64, macOS) it is compiled
// once, for the target.

#pragma once

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define SLIM_VECTORIZED __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define SLIM_VECTORIZED
#endif
