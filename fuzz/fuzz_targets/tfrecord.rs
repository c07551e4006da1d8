//! Fuzzes slim's reader of TFRecord files of `tf.train.Example` images (PNG, JPEG, raw): `cargo +nightly fuzz run tfrecord` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| slim_fuzz::read("tfrecord", bytes));
