//! Fetching wheels from PyPI and putting what is unpacked from them in place: `pip download --no-deps` into a
//! folder of this process's own, a staging folder beside the destination, and a rename that either finishes the
//! destination or finds that another setup finished it first (each destination is marked by a stamp file).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Result, SetupError, io_error};

/// Why `python -m pip` cannot download.
pub enum PipProblem {
    /// No interpreter of that name.
    NoPython,
    /// The interpreter has no pip.
    NoPip,
    /// Running it failed otherwise.
    Io(Box<SetupError>),
}

/// Checks that `python -m pip` runs.
pub fn check_pip(python: &str) -> std::result::Result<(), PipProblem> {
    match Command::new(python).args(["-m", "pip", "--version"]).output() {
        Err(error) if error.kind() == ErrorKind::NotFound => Err(PipProblem::NoPython),
        Err(error) => Err(PipProblem::Io(Box::new(io_error("running", python)(error)))),
        Ok(output) if !output.status.success() => Err(PipProblem::NoPip),
        Ok(_) => Ok(()),
    }
}

/// A sibling of `dest` for this process's temporary work (`<dest>.<what>-<pid>`).
pub fn sibling(dest: &Path, what: &str) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{what}-{}", std::process::id()));
    dest.with_file_name(name)
}

/// What a download is for, as its error names it.
pub struct Wanted<'a> {
    /// What the wheels make up (`libtorch 2.13.0`).
    pub what: &'a str,
    /// How to provide it without the download (`export LIBTORCH=…`).
    pub alternative: &'a str,
}

/// `pip download --no-deps` of `wheels` into `folder` (from the package registry pip is configured with).
pub fn download(python: &str, folder: &Path, wheels: &[&str], wanted: &Wanted) -> Result<()> {
    eprintln!("slim-setup: downloading {} from PyPI into {}", wheels.join(", "), folder.display());
    let mut command = Command::new(python);
    command.args(["-m", "pip", "download", "--quiet", "--no-deps", "--dest"]).arg(folder).args(wheels);
    let output = command.output().map_err(io_error("running", python))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
    Err(SetupError::Download {
        what: wanted.what.to_owned(),
        alternative: wanted.alternative.to_owned(),
        command: format!("{python} -m pip download --no-deps {}", wheels.join(" ")),
        status: output.status.to_string(),
        stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
}

/// Renames the finished `staging` folder to `dest`, replacing an unfinished `dest` (one without its `stamp`);
/// when another setup finished `dest` first, keeps that one.
pub fn move_into_place(staging: &Path, dest: &Path, stamp: impl Fn(&Path) -> PathBuf) -> Result<()> {
    if dest.exists() && !stamp(dest).is_file() {
        std::fs::remove_dir_all(dest).map_err(io_error("removing the unfinished", dest))?;
    }
    match std::fs::rename(staging, dest) {
        Ok(()) => Ok(()),
        Err(_) if stamp(dest).is_file() => Ok(()),
        Err(error) => Err(io_error("moving the unpacked folder to", dest)(error)),
    }
}
