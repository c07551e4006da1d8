//! Fuzzes slim's reader of `torch.save` archives (zip entries and their pickles): `cargo +nightly fuzz run torch_zip` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| slim_fuzz::read("torch_zip", bytes));
