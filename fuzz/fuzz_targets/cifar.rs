//! Fuzzes slim's reader of CIFAR-10 batch files: `cargo +nightly fuzz run cifar` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| slim_fuzz::read("cifar", bytes));
