//! Build script of the `tch-slim` package: records the folder of the libtorch that slim links as an rpath of the
//! package's tests, examples and benches (so they run without LD_LIBRARY_PATH), and reports it to the build
//! scripts of crates that depend on slim as `DEP_SLIM_LIBTORCH_LIB` (`links = "slim"`), which is what
//! `slim-setup` writes into a user's build.rs.

fn main() {
    // slim-core reports it (`links = "slim_native"`); with slim-core's doc-only feature nothing links, so nothing
    // is reported.
    if let Ok(lib) = std::env::var("DEP_SLIM_NATIVE_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        println!("cargo:libtorch_lib={lib}");
    }
}
