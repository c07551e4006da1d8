//! Fuzzes slim's reader of TensorFlow checkpoint data shards (beside an intact index): `cargo +nightly fuzz run tf_data` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| slim_fuzz::read("tf_data", bytes));
