//! Compile-fail cases of the macros (`tests/ui/*.rs`), each checked against the error a person reviewed
//! (`tests/ui/*.stderr`). rustc's wording changes between releases, so the snapshots are checked only on the
//! compiler they were written with.

#[rustversion::attr(not(stable(1.95)), ignore = "the .stderr snapshots are rustc 1.95's wording")]
#[test]
fn macro_misuse_is_a_compile_error_at_the_token() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
