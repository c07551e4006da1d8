// The intra-op thread count of the calling thread alone: OpenMP's per-thread setting (which ATen's parallel_for
// and oneDNN read) and, where libtorch carries MKL, MKL's per-thread setting (which its GEMMs read). Other threads,
// and the process-wide counts that tch::set_num_threads sets, are left alone.
//
// C interface; neither function can fail.

#include <ATen/Parallel.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
// MKL's C entry point (mkl.h maps mkl_set_num_threads_local to it; the lower-case symbol is the Fortran one,
// which takes a pointer). Exported by libtorch builds that link MKL (x86-64); null where libtorch has none.
extern "C" int MKL_Set_Num_Threads_Local(int threads) __attribute__((weak));
#define SLIM_HAS_MKL_LOCAL 1
#endif

extern "C" {

/// The number of threads an operation started on the calling thread may use.
int slim_calling_thread_threads() { return at::get_num_threads(); }

/// Lets operations started on the calling thread use `threads` threads (at least 1). `follow_process` (with
/// `threads` the process's count) hands MKL back to the process-wide setting instead of pinning it.
void slim_set_calling_thread_threads(int threads, bool follow_process) {
    if (threads < 1) threads = 1;
    // First use on this thread: ATen initializes its per-thread count now, so it cannot overwrite ours later.
    (void)at::get_num_threads();
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
#ifdef SLIM_HAS_MKL_LOCAL
    if (MKL_Set_Num_Threads_Local != nullptr) MKL_Set_Num_Threads_Local(follow_process ? 0 : threads);
#else
    (void)follow_process;
#endif
}
}
