//! Build script of the `tch-slim` package: records the folder of the libtorch that slim links (and, with the `mpi`
//! feature, MPI's library folder) as an rpath of the package's tests, examples and benches (so they run without
//! LD_LIBRARY_PATH), and reports them to the build scripts of crates that depend on slim as
//! `DEP_SLIM_LIBTORCH_LIB` and `DEP_SLIM_MPI_LIB` (`links = "slim"`), which is what `slim-setup` writes into a
//! user's build.rs. MPI's program folder (where `mpirun` is) reaches the package's tests as `SLIM_MPI_BIN`.

fn main() {
    // slim-core reports them (`links = "slim_native"`); with slim-core's doc-only feature nothing links, so
    // nothing is reported.
    if let Ok(lib) = std::env::var("DEP_SLIM_NATIVE_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        println!("cargo:libtorch_lib={lib}");
    }
    if let Ok(libs) = std::env::var("DEP_SLIM_NATIVE_MPI_LIB") {
        for lib in std::env::split_paths(&libs) {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
        }
        println!("cargo:mpi_lib={libs}");
    }
    if let Ok(bin) = std::env::var("DEP_SLIM_NATIVE_MPI_BIN") {
        println!("cargo:rustc-env=SLIM_MPI_BIN={bin}");
    }
}
