//! Fuzzes slim's reader of safetensors checkpoints: `cargo +nightly fuzz run safetensors` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| slim_fuzz::read("safetensors", bytes));
