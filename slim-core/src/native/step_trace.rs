//! Chrome traces of training steps through libtorch's Kineto profiler (`csrc/step_trace.cpp`).

use std::ffi::{CString, c_char};
use std::path::Path;

use super::take_error;

unsafe extern "C" {
    fn slim_step_trace_start() -> *mut c_char;
    fn slim_step_trace_stop(path: *const c_char) -> *mut c_char;
}

/// The profiler running on the calling thread; [`StepTrace::save`] writes what it saw, dropping it unsaved
/// stops it and discards the trace.
#[derive(Debug)]
pub(crate) struct StepTrace {
    running: bool,
}

impl StepTrace {
    /// Starts profiling the calling thread's libtorch operations (CPU, with input shapes).
    pub(crate) fn start() -> tch::Result<StepTrace> {
        // SAFETY: no arguments; the C++ side returns a message or null.
        let message = unsafe { slim_step_trace_start() };
        // SAFETY: the message comes from `slim::copy_message` and is freed only there.
        unsafe { take_error(message) }?;
        Ok(StepTrace { running: true })
    }

    /// Stops profiling and writes the trace as Chrome-trace JSON to `path`.
    pub(crate) fn save(mut self, path: &Path) -> tch::Result<()> {
        self.running = false;
        let path = CString::new(path.as_os_str().as_encoded_bytes())?;
        // SAFETY: `path` is a NUL-terminated string alive for the call; the profiler was started by `start`.
        let message = unsafe { slim_step_trace_stop(path.as_ptr()) };
        // SAFETY: the message comes from `slim::copy_message` and is freed only there.
        unsafe { take_error(message) }
    }
}

impl Drop for StepTrace {
    fn drop(&mut self) {
        if self.running {
            // SAFETY: a null path discards the trace; the profiler was started by `start`.
            let message = unsafe { slim_step_trace_stop(std::ptr::null()) };
            // SAFETY: as above; an error while discarding has nothing left to report to.
            let _ = unsafe { take_error(message) };
        }
    }
}
