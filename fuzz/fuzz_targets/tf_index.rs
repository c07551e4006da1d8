//! Fuzzes slim's reader of TensorFlow checkpoint indexes (beside an intact data shard): `cargo +nightly fuzz run tf_index` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| slim_fuzz::read("tf_index", bytes));
