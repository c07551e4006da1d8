//! Build script of slim-core: compiles slim's C++ (autograd functions, ATen calls and scans that tch cannot
//! express) against the libtorch torch-sys links, and records libtorch's library folder as an rpath.

#[path = "../build-support/rpath.rs"]
mod rpath;

use std::path::PathBuf;

/// The C++ sources under `csrc/`.
const SOURCES: &[&str] = &[
    "csrc/all_finite.cpp",
    "csrc/biased_convolution.cpp",
    "csrc/dense_product.cpp",
    "csrc/dropout.cpp",
    "csrc/error_message.cpp",
    "csrc/finite_scan.cpp",
    "csrc/fused_adam.cpp",
    "csrc/fused_sgd.cpp",
    "csrc/thread_count.cpp",
    "csrc/update_checks.cpp",
];

fn main() {
    if std::env::var_os("CARGO_FEATURE_DOC_ONLY").is_some() {
        return; // type-checking or documenting only: nothing will link the C++
    }
    rpath::main();
    println!("cargo:rerun-if-changed=csrc");
    println!("cargo:rerun-if-env-changed=LIBTORCH_INCLUDE");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    let include = libtorch_include_root();
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .std("c++17")
        // Optimized in every profile: the scans and updates are hot loops, and tests should not crawl through
        // them. Without errno from sqrt, the Adam loop vectorizes.
        .opt_level(3)
        .flag_if_supported("-fno-math-errno")
        // libtorch's headers as system headers: their own warnings (C++20 extensions) are not slim's.
        .flag("-isystem")
        .flag(include.join("include").display().to_string())
        .flag("-isystem")
        .flag(include.join("include/torch/csrc/api/include").display().to_string())
        .define("_GLIBCXX_USE_CXX11_ABI", cxx11_abi().as_str())
        .define("GLOG_USE_GLOG_EXPORT", None)
        // at::parallel_for is inline: OpenMP here lets it use libtorch's threads (torch-sys links the same
        // libgomp); without it the scans run on one thread, with the same results.
        .flag_if_supported("-fopenmp")
        .files(SOURCES)
        .compile("slim_native");
}

/// The folder holding libtorch's `include/`: `LIBTORCH_INCLUDE` as torch-sys reads it, else the parent of the
/// library folder torch-sys reports (true of the libtorch archive and of a PyTorch installation alike).
fn libtorch_include_root() -> PathBuf {
    if let Ok(include) = std::env::var("LIBTORCH_INCLUDE") {
        return PathBuf::from(include);
    }
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB")
        .expect("torch-sys reports no libtorch library folder (DEP_TCH_LIBTORCH_LIB); is LIBTORCH set?");
    let lib = PathBuf::from(lib);
    lib.parent().map(PathBuf::from).unwrap_or(lib)
}

/// The C++ ABI flag torch-sys compiles with: `LIBTORCH_CXX11_ABI`, else 1, torch-sys's own default.
fn cxx11_abi() -> String {
    std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_owned())
}
