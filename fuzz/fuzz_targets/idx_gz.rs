//! Fuzzes slim's reader of gzipped IDX files: `cargo +nightly fuzz run idx_gz` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| slim_fuzz::read("idx_gz", bytes));
