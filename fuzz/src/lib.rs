//! The fuzz targets' shared body: each writes the fuzzer's bytes as a file of its format and reads it through
//! slim's public reader (`tests/common/readers.rs`, which `tests/hostile_files.rs` shares). An error is a fine
//! outcome; a panic, an abort, a hang or a huge allocation is what the fuzzer reports.

use std::path::PathBuf;
use std::sync::OnceLock;

#[path = "../../tests/common/readers.rs"]
#[allow(dead_code)] // the fuzz targets need only `read`
mod readers;

/// This process's scratch folder (libFuzzer runs one input at a time per process).
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("slim-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the fuzz scratch folder");
        dir
    })
}

/// Reads `bytes` as a file of `format` (one of `readers::FORMATS`), discarding the outcome.
pub fn read(format: &str, bytes: &[u8]) {
    let _ = readers::read(format, scratch(), bytes);
}
