//! What can go wrong while setting a crate up, each case saying what slim needs and how to provide it.

use std::path::PathBuf;

use crate::libtorch::REQUIRED_VERSION;

/// A failure of `slim-setup`, with the file or folder concerned.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Neither a `LIBTORCH` nor a way to fetch libtorch: python3 is missing.
    #[error(
        "slim needs libtorch {REQUIRED_VERSION}. No LIBTORCH is set and `{python}` was not found to fetch it from PyPI.\n\
         Provide it one of two ways:\n  \
         1. install python3 with pip (Debian: apt-get install python3 python3-pip) and run slim-setup again: it downloads \
         PyPI's torch=={REQUIRED_VERSION} wheel and keeps its CPU libraries and headers in {cache};\n  \
         2. export LIBTORCH=<a libtorch {REQUIRED_VERSION} folder> (for example a CUDA build from pytorch.org) and run \
         slim-setup again."
    )]
    NoPython {
        /// The interpreter looked for (`PYTHON`, else `python3`).
        python: String,
        /// Where the download would have gone.
        cache: PathBuf,
    },
    /// python3 exists but has no pip.
    #[error(
        "slim needs libtorch {REQUIRED_VERSION}. No LIBTORCH is set and `{python} -m pip` is not available to fetch it \
         from PyPI.\nProvide it one of two ways:\n  \
         1. install pip (Debian: apt-get install python3-pip) and run slim-setup again;\n  \
         2. export LIBTORCH=<a libtorch {REQUIRED_VERSION} folder> and run slim-setup again."
    )]
    NoPip {
        /// The interpreter that lacks pip.
        python: String,
    },
    /// `pip download` failed (no route to the registry, no wheel for this platform).
    #[error(
        "fetching {what} from PyPI failed (`{command}` exited with {status}):\n{stderr}\n\
         Check that the package registry is reachable, or {alternative}."
    )]
    Download {
        /// What the wheels make up (`libtorch 2.13.0`, `Open MPI 5.0.11`).
        what: String,
        /// How to provide it instead.
        alternative: String,
        /// The command run.
        command: String,
        /// Its exit status.
        status: String,
        /// The last lines it wrote to stderr.
        stderr: String,
    },
    /// A wheel lacks a library slim needs.
    #[error(
        "the downloaded wheels in {folder} lack {missing}; libtorch {REQUIRED_VERSION} cannot be assembled from them"
    )]
    IncompleteWheels {
        /// The download folder.
        folder: PathBuf,
        /// The missing library names.
        missing: String,
    },
    /// A folder given as libtorch is not one.
    #[error("{path} is not a libtorch folder: {problem}")]
    NotLibtorch {
        /// The folder.
        path: PathBuf,
        /// What is missing.
        problem: String,
    },
    /// A libtorch of another version.
    #[error(
        "{path} holds libtorch {found}, but slim (tch 0.26) requires libtorch {REQUIRED_VERSION}; \
         point LIBTORCH at a libtorch {REQUIRED_VERSION}, or unset it to fetch one from PyPI"
    )]
    WrongVersion {
        /// The folder.
        path: PathBuf,
        /// The version its headers declare.
        found: String,
    },
    /// No folder for the shared cache could be found.
    #[error("neither XDG_CACHE_HOME nor HOME is set, so there is no cache folder for libtorch; pass --into <folder>")]
    NoCacheFolder,
    /// The folder to configure is not a cargo package or workspace.
    #[error("{0} has no Cargo.toml: run slim-setup in your crate's folder, or name the folder")]
    NoCargoManifest(PathBuf),
    /// An existing `.cargo/config.toml` that does not parse.
    #[error("{path} is not valid TOML ({reason}); fix it, or add `LIBTORCH = {libtorch:?}` to its [env] table by hand")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// The parser's complaint.
        reason: String,
        /// The value that would have been written.
        libtorch: String,
    },
    /// A read, write or unpack failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Neither an MPI of the user's nor a way to fetch Open MPI.
    #[error(
        "slim's distributed training needs MPI: MPICC is not set, no mpicc is on the PATH, and `{python} -m pip` is not \
         available to fetch Open MPI {version} from PyPI. Install an MPI (Debian: apt-get install libopenmpi-dev) or \
         python3 with pip, and run slim-setup again."
    )]
    NoMpi {
        /// The interpreter looked for.
        python: String,
        /// The Open MPI version that would have been fetched.
        version: &'static str,
    },
    /// An MPI compiler wrapper that does not run or is not one.
    #[error("{path} is not a usable MPI compiler wrapper: {problem}")]
    NotMpi {
        /// The wrapper.
        path: PathBuf,
        /// What went wrong.
        problem: String,
    },
    /// A wheel that is not a readable zip archive.
    #[error("reading the wheel {path}: {source}")]
    Wheel {
        /// The wheel.
        path: PathBuf,
        /// The archive reader's error.
        source: zip::result::ZipError,
    },
}

/// The result of a setup step.
pub type Result<T> = std::result::Result<T, SetupError>;

/// Wraps an I/O error with what was being done and to which path.
pub fn io_error(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> SetupError {
    let path = path.into();
    move |source| SetupError::Io { action, path, source }
}
