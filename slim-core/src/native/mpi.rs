//! The MPI backend's C++ (`csrc/mpi_world.cpp`, `mpi_collectives.cpp`, `mpi_reducer.cpp`) behind safe wrappers.

use std::ffi::{c_char, c_void};

use tch::Tensor;
use torch_sys::C_tensor;

use super::take_error;

unsafe extern "C" {
    fn slim_mpi_init(rank: *mut i32, size: *mut i32, local_rank: *mut i32) -> *mut c_char;
    fn slim_mpi_all_reduce_sum(tensor: *const C_tensor, timeout: f64) -> *mut c_char;
    fn slim_mpi_broadcast(tensor: *const C_tensor, root: i32, timeout: f64) -> *mut c_char;
    fn slim_mpi_all_gather(tensor: *const C_tensor, timeout: f64, out: *mut *mut C_tensor) -> *mut c_char;
    fn slim_mpi_barrier(timeout: f64) -> *mut c_char;
    fn slim_mpi_reducer_new(
        variables: *const *const C_tensor,
        count: i64,
        bucket_bytes: i64,
        timeout: f64,
        handle: *mut *mut c_void,
        buckets: *mut i64,
    ) -> *mut c_char;
    fn slim_mpi_reducer_begin(handle: *mut c_void) -> *mut c_char;
    fn slim_mpi_reducer_finish(handle: *mut c_void, gradients: *mut *mut C_tensor) -> *mut c_char;
    fn slim_mpi_reducer_reduce(
        handle: *mut c_void,
        gradients: *const *const C_tensor,
        averaged: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn slim_mpi_reducer_overlapped(handle: *mut c_void) -> i64;
    fn slim_mpi_reducer_free(handle: *mut c_void);
}

/// Initializes MPI (unless the program did) and returns (rank, size, rank on the node).
pub(crate) fn init() -> tch::Result<(usize, usize, usize)> {
    let (mut rank, mut size, mut local) = (0i32, 0i32, 0i32);
    // SAFETY: the three pointers are live locals the C++ side writes; it returns null or a message to free.
    let message = unsafe { slim_mpi_init(&mut rank, &mut size, &mut local) };
    // SAFETY: the message comes from `slim::copy_message` and is freed only there.
    unsafe { take_error(message) }?;
    Ok((rank as usize, size as usize, local as usize))
}

/// Sums `tensor` over the ranks in place.
pub(crate) fn all_reduce_sum(tensor: &Tensor, timeout: f64) -> tch::Result<()> {
    // SAFETY: a live tensor handle borrowed for the call; the C++ side writes only into its elements.
    let message = unsafe { slim_mpi_all_reduce_sum(tensor.as_ptr(), timeout) };
    // SAFETY: as in `init`.
    unsafe { take_error(message) }
}

/// Copies rank `root`'s `tensor` into every rank's, in place.
pub(crate) fn broadcast(tensor: &Tensor, root: i32, timeout: f64) -> tch::Result<()> {
    // SAFETY: as in `all_reduce_sum`.
    let message = unsafe { slim_mpi_broadcast(tensor.as_ptr(), root, timeout) };
    // SAFETY: as in `init`.
    unsafe { take_error(message) }
}

/// Every rank's `tensor`, stacked in rank order.
pub(crate) fn all_gather(tensor: &Tensor, timeout: f64) -> tch::Result<Tensor> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: a live handle only read; on success `out` receives a fresh handle.
    let message = unsafe { slim_mpi_all_gather(tensor.as_ptr(), timeout, &mut out) };
    // SAFETY: as in `init`.
    unsafe { take_error(message) }?;
    // SAFETY: on success `out` is a fresh handle this wrapper alone owns.
    Ok(unsafe { Tensor::from_ptr(out) })
}

/// Returns when every rank has called it.
pub(crate) fn barrier(timeout: f64) -> tch::Result<()> {
    // SAFETY: no pointers cross.
    let message = unsafe { slim_mpi_barrier(timeout) };
    // SAFETY: as in `init`.
    unsafe { take_error(message) }
}

/// The C++ gradient reducer: hooks on the variables that sum their gradients over the ranks in buckets while the
/// backward pass runs. Dropping it removes the hooks.
pub(crate) struct Reducer {
    handle: *mut c_void,
    variables: usize,
    buckets: usize,
}

// SAFETY: the reducer is used by one thread at a time (it is not Sync) and its C++ state has no thread affinity;
// MPI calls are serialized on the C++ side.
unsafe impl Send for Reducer {}

impl Reducer {
    /// Hooks the gradients of `variables` into buckets of about `bucket_bytes`.
    pub(crate) fn new(variables: &[&Tensor], bucket_bytes: i64, timeout: f64) -> tch::Result<Self> {
        let handles: Vec<*const C_tensor> = variables.iter().map(|v| v.as_ptr()).collect();
        let (mut handle, mut buckets) = (std::ptr::null_mut(), 0i64);
        // SAFETY: `handles` holds live tensor handles for the call (the C++ side keeps its own references);
        // `handle` and `buckets` are written on success.
        let message = unsafe {
            slim_mpi_reducer_new(
                handles.as_ptr(),
                handles.len() as i64,
                bucket_bytes,
                timeout,
                &mut handle,
                &mut buckets,
            )
        };
        // SAFETY: as in `init`.
        unsafe { take_error(message) }?;
        Ok(Reducer { handle, variables: variables.len(), buckets: buckets as usize })
    }

    /// The number of buckets.
    pub(crate) fn buckets(&self) -> usize {
        self.buckets
    }

    /// Averages gradients computed beforehand (one per variable; an undefined one counts as zeros) over the
    /// ranks, through the buckets but without the hooks.
    pub(crate) fn reduce(&mut self, gradients: &[Tensor]) -> tch::Result<Vec<Tensor>> {
        if gradients.len() != self.variables {
            let message = format!("{} gradients for {} variables", gradients.len(), self.variables);
            return Err(tch::TchError::Torch(message));
        }
        let handles: Vec<*const C_tensor> =
            gradients.iter().map(|g| if g.defined() { g.as_ptr() } else { std::ptr::null() }).collect();
        let mut out: Vec<*mut C_tensor> = vec![std::ptr::null_mut(); self.variables];
        // SAFETY: `handle` is live; `handles` holds one live handle (or null) per variable, only read; `out` has
        // room for one handle per variable, all written on success.
        let message = unsafe { slim_mpi_reducer_reduce(self.handle, handles.as_ptr(), out.as_mut_ptr()) };
        // SAFETY: as in `init`.
        unsafe { take_error(message) }?;
        // SAFETY: on success each entry is a fresh handle owned here alone.
        Ok(out.into_iter().map(|handle| unsafe { Tensor::from_ptr(handle) }).collect())
    }

    /// How many buckets of the last finished step started their all-reduce during the backward pass.
    pub(crate) fn overlapped(&self) -> usize {
        // SAFETY: `handle` is live until drop; the call only reads a counter.
        unsafe { slim_mpi_reducer_overlapped(self.handle) }.max(0) as usize
    }

    /// Arms the hooks for one backward pass.
    pub(crate) fn begin(&mut self) -> tch::Result<()> {
        // SAFETY: `handle` is live until drop.
        let message = unsafe { slim_mpi_reducer_begin(self.handle) };
        // SAFETY: as in `init`.
        unsafe { take_error(message) }
    }

    /// Waits for the buckets and returns each variable's gradient averaged over the ranks (views of the buckets,
    /// overwritten by the next step).
    pub(crate) fn finish(&mut self) -> tch::Result<Vec<Tensor>> {
        let mut out: Vec<*mut C_tensor> = vec![std::ptr::null_mut(); self.variables];
        // SAFETY: `handle` is live; `out` has room for one handle per variable, all written on success.
        let message = unsafe { slim_mpi_reducer_finish(self.handle, out.as_mut_ptr()) };
        // SAFETY: as in `init`.
        unsafe { take_error(message) }?;
        // SAFETY: on success each entry is a fresh handle owned here alone.
        Ok(out.into_iter().map(|handle| unsafe { Tensor::from_ptr(handle) }).collect())
    }
}

impl Drop for Reducer {
    fn drop(&mut self) {
        // SAFETY: the handle came from `slim_mpi_reducer_new` and is freed once.
        unsafe { slim_mpi_reducer_free(self.handle) };
    }
}
