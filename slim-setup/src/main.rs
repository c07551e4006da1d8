//! `slim-setup`: makes a crate build with slim on a fresh machine. torch-sys (which slim builds on) needs
//! libtorch 2.13.0 named by `LIBTORCH` before anything compiles; this tool finds or provisions one and
//! writes it into the crate's `.cargo/config.toml`, with a build script for the run-time library path.
//!
//! ```text
//! slim-setup configure [DIR]      # set up the crate in DIR (default: here)
//! slim-setup libtorch             # only provision (or check) libtorch; prints its folder
//! slim-setup mpi --into .mpi      # MPI for distributed training: yours, or Open MPI provisioned into .mpi
//! ```
//!
//! Which libtorch: an exported `LIBTORCH` wins (checked for version 2.13.0, e.g. your CUDA build); otherwise the
//! folder `--into` names, by default the shared cache `$XDG_CACHE_HOME/slim/libtorch-2.13.0` (else
//! `~/.cache/slim/...`), provisioned once from PyPI with python3's pip and reused by every crate.

mod error;
mod libtorch;
mod mpi;
mod project;
mod provision;
mod wheels;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{Result, SetupError};
use crate::project::BuildScript;

/// Sets a crate up to build with slim: libtorch 2.13.0 provisioned (or yours checked) and cargo pointed at it.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What to do.
#[derive(Subcommand)]
enum Command {
    /// Finds or provisions libtorch, then writes `[env] LIBTORCH` into DIR/.cargo/config.toml and, when the
    /// crate has no build script, a build.rs that records libtorch's rpath.
    Configure {
        /// The crate or workspace to set up.
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        source: Source,
    },
    /// Finds or provisions libtorch and prints its folder.
    Libtorch {
        #[command(flatten)]
        source: Source,
    },
    /// Finds MPI for distributed training (the wrapper `MPICC` names, else `mpicc` on the PATH) and prints its
    /// compiler wrapper; without one, provisions Open MPI 5.0.11 from PyPI into FOLDER and prints FOLDER, which
    /// slim's build finds as `SLIM_MPI_HOME`.
    Mpi {
        /// Where to provision Open MPI when there is no MPI of yours.
        #[arg(long, value_name = "FOLDER")]
        into: PathBuf,
    },
}

/// Where libtorch comes from when `LIBTORCH` is not exported.
#[derive(clap::Args)]
struct Source {
    /// Provision libtorch into this folder instead of the shared cache.
    #[arg(long, value_name = "FOLDER")]
    into: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("slim-setup: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Libtorch { source } => {
            println!("{}", locate(&source)?.display());
            Ok(())
        }
        Command::Mpi { into } => {
            let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
            match mpi::locate(&into, &python)? {
                mpi::Found::Own(wrapper) => println!("{}", wrapper.display()),
                mpi::Found::Provisioned(folder) => println!("{}", folder.display()),
            }
            Ok(())
        }
        Command::Configure { dir, source } => {
            let libtorch = locate(&source)?;
            report(&project::configure(&dir, &libtorch)?, &libtorch);
            Ok(())
        }
    }
}

/// The libtorch to use: `LIBTORCH` when exported and not the provisioning folder itself, else that folder,
/// provisioned unless it already is.
fn locate(source: &Source) -> Result<PathBuf> {
    let into = match &source.into {
        Some(folder) => folder.clone(),
        None => shared_cache()?,
    };
    let exported = std::env::var_os("LIBTORCH").filter(|value| !value.is_empty()).map(PathBuf::from);
    match exported {
        Some(libtorch) if !same_path(&libtorch, &into) => libtorch::check(&libtorch),
        _ => {
            let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
            provision::provision(&into, &python)
        }
    }
}

/// The shared cache's libtorch folder: `$XDG_CACHE_HOME/slim/libtorch-<version>`, else under `~/.cache`.
fn shared_cache() -> Result<PathBuf> {
    let base = match (std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")) {
        (Some(cache), _) if !cache.is_empty() => PathBuf::from(cache),
        (_, Some(home)) if !home.is_empty() => PathBuf::from(home).join(".cache"),
        _ => return Err(SetupError::NoCacheFolder),
    };
    Ok(base.join("slim").join(format!("libtorch-{}", libtorch::REQUIRED_VERSION)))
}

/// Whether two paths name the same folder, compared absolute (neither need exist).
fn same_path(a: &Path, b: &Path) -> bool {
    match (std::path::absolute(a), std::path::absolute(b)) {
        (Ok(a), Ok(b)) => a.components().eq(b.components()),
        _ => false,
    }
}

/// Tells the user what was set up and what is left to do.
fn report(done: &project::Configured, libtorch: &Path) {
    println!("slim-setup: libtorch {} at {}", libtorch::REQUIRED_VERSION, libtorch.display());
    match &done.replaced {
        Some(previous) => println!("slim-setup: {}: LIBTORCH set (was {previous})", done.config.display()),
        None => println!("slim-setup: {}: LIBTORCH set", done.config.display()),
    }
    match &done.build_script {
        BuildScript::Written => println!("slim-setup: build.rs written: it records libtorch's rpath"),
        BuildScript::AlreadyRecordsRpath => println!("slim-setup: the build script already records libtorch's rpath"),
        BuildScript::LeftAlone(what_to_do) => println!("slim-setup: {what_to_do}"),
    }
}
