//! Build script shared by the packages whose tests, examples and benches link libtorch: it records the
//! libtorch library folder as an rpath, so binaries run without LD_LIBRARY_PATH.

/// Emits the rpath of `LIBTORCH`'s library folder.
pub fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(libtorch) = std::env::var("LIBTORCH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{libtorch}/lib");
    }
}
