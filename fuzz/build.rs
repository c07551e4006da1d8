//! Records the folder of the libtorch slim links as the fuzz targets' rpath (what slim-setup writes for a crate).

fn main() {
    if let Ok(lib) = std::env::var("DEP_SLIM_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
