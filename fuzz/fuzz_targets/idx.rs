//! Fuzzes slim's reader of IDX files: `cargo +nightly fuzz run idx` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| slim_fuzz::read("idx", bytes));
