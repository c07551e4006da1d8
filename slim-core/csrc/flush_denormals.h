// Subnormal floats flushed to zero on the calling thread for a scope, as TensorFlow runs its CPU kernels.
//
// An optimizer's slots decay toward zero geometrically wherever a gradient stays zero (the weights of a unit
// whose ReLU never fires): after LeNet's 12,000 Adam steps of the main job 6% of fc3's first moments were
// subnormal. On x86 an instruction that reads or writes a subnormal takes a microcode assist, and an Adam pass
// over 3.2 M values with 6.7% of them subnormal took 10× the time of one without (17.4 against 1.8 ms in a probe
// on an Intel Xeon). Within the scope, results that would be subnormal are written as zero and subnormal inputs
// read as zero (x86's FTZ and DAZ, Arm's FZ); the thread's previous mode comes back when the scope ends.

#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace slim {

/// While alive, flushes subnormal floats to zero on the calling thread.
class FlushDenormals {
public:
    FlushDenormals() : saved_(read_mode()) { write_mode(saved_ | kFlushBits); }
    ~FlushDenormals() { write_mode(saved_); }
    FlushDenormals(const FlushDenormals&) = delete;
    FlushDenormals& operator=(const FlushDenormals&) = delete;

private:
#if defined(__x86_64__) || defined(__i386__)
    using Mode = unsigned int;
    static constexpr Mode kFlushBits = 0x8000 | 0x0040;  // MXCSR's flush-to-zero and denormals-are-zero
    static Mode read_mode() { return _mm_getcsr(); }
    static void write_mode(Mode mode) { _mm_setcsr(mode); }
#elif defined(__aarch64__)
    using Mode = uint64_t;
    static constexpr Mode kFlushBits = Mode{1} << 24;  // FPCR's flush-to-zero
    static Mode read_mode() {
        Mode mode;
        asm volatile("mrs %0, fpcr" : "=r"(mode));
        return mode;
    }
    static void write_mode(Mode mode) { asm volatile("msr fpcr, %0" : : "r"(mode)); }
#else
    using Mode = int;
    static constexpr Mode kFlushBits = 0;
    static Mode read_mode() { return 0; }
    static void write_mode(Mode) {}
#endif

    Mode saved_;
};

}  // namespace slim
