//! Stopping a training loop from outside: a flag the loop checks after each step. [`ctrl_c_flag`] is the one a
//! program gets from Ctrl-C; the library installs no signal handler unless a program asks for it.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use crate::{Error, Result};

/// A flag that Ctrl-C (SIGINT) sets, for [`Train::stop_when`](super::Train::stop_when). The first
/// call installs a handler for the whole process, which stays; later calls return the same flag. An error when
/// the program has installed a Ctrl-C handler of its own (then give the loop a flag that handler sets).
pub fn ctrl_c_flag() -> Result<Arc<AtomicBool>> {
    static FLAG: OnceLock<std::result::Result<Arc<AtomicBool>, String>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        ctrlc::set_handler(move || set.store(true, std::sync::atomic::Ordering::SeqCst))
            .map(|()| flag)
            .map_err(|error| format!("cannot watch for Ctrl-C: {error}"))
    })
    .clone()
    .map_err(|message| Error::invalid("train", message))
}
