//! Fuzzes slim's reader of `tf.train.Example` image records behind valid TFRecord framing (the Example's
//! protobuf, then the PNG, JPEG or raw pixels in it): `cargo +nightly fuzz run tf_example` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| slim_fuzz::read("tf_example", bytes));
