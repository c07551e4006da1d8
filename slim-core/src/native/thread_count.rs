//! The intra-op thread count of the calling thread alone (`csrc/thread_count.cpp`).

unsafe extern "C" {
    fn slim_calling_thread_threads() -> i32;
    fn slim_set_calling_thread_threads(threads: i32, follow_process: bool);
}

/// How many threads an operation started on this thread may use.
pub(crate) fn calling_thread_threads() -> i32 {
    // SAFETY: reads OpenMP's setting for this thread; no arguments, no failure.
    unsafe { slim_calling_thread_threads() }
}

/// Lets operations started on this thread (ATen's loops, oneDNN, MKL's GEMMs) use `threads` threads; other
/// threads keep theirs. `follow_process` hands MKL back to the process-wide count (give `threads` = that count).
pub(crate) fn set_calling_thread_threads(threads: i32, follow_process: bool) {
    // SAFETY: sets per-thread settings of OpenMP and MKL; any value is accepted (below 1 counts as 1).
    unsafe { slim_set_calling_thread_threads(threads, follow_process) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_per_thread_and_can_be_restored() {
        std::thread::spawn(|| {
            tch::set_num_threads(2);
            let process = calling_thread_threads();
            set_calling_thread_threads(1, false);
            assert_eq!(calling_thread_threads(), 1);
            let other = std::thread::spawn(calling_thread_threads).join().unwrap();
            assert_eq!(other, process, "another thread keeps the process's count");
            let sum = tch::Tensor::ones([1 << 18], (tch::Kind::Float, tch::Device::Cpu)).sum(tch::Kind::Float);
            assert_eq!(sum.double_value(&[]), f64::from(1 << 18));
            set_calling_thread_threads(process, true);
            assert_eq!(calling_thread_threads(), process);
        })
        .join()
        .unwrap();
    }
}
