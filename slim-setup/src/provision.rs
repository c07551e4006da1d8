//! Provisioning libtorch from PyPI: `pip download` of the `torch` wheel and the two NVIDIA runtime wheels its CPU
//! library links against, then the CPU libraries and headers unpacked into a folder, atomically (a staging
//! folder renamed into place, marked by a stamp), so an interrupted or concurrent setup never leaves half a
//! libtorch behind.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Result, SetupError, io_error};
use crate::libtorch::{self, REQUIRED_VERSION};
use crate::wheels::{self, PipProblem};

/// The wheels to download: torch itself and the CUDA runtime and CUPTI that `libtorch_cpu.so` links against.
const WHEELS: [&str; 3] = ["torch==2.13.0", "nvidia-cuda-runtime==13.0.96.*", "nvidia-cuda-cupti==13.0.85.*"];

/// The libraries kept from torch's wheel: the CPU build (without `libtorch_cuda.so`, torch-sys links CPU only).
const TORCH_LIBRARIES: [&str; 6] =
    ["libc10.so", "libgomp.so.1", "libshm.so", "libtorch.so", "libtorch_cpu.so", "libtorch_global_deps.so"];

/// The libraries kept from the NVIDIA wheels.
const CUDA_LIBRARIES: [&str; 2] = ["libcudart.so.13", "libcupti.so.13"];

/// The file that marks a completely provisioned folder.
fn stamp(dest: &Path) -> PathBuf {
    dest.join(format!(".provisioned-{REQUIRED_VERSION}"))
}

/// Makes `dest` a libtorch [`REQUIRED_VERSION`], downloading with `python`'s pip unless it already is one.
/// Returns `dest`, absolute.
pub fn provision(dest: &Path, python: &str) -> Result<PathBuf> {
    let dest = std::path::absolute(dest).map_err(io_error("resolving", dest))?;
    if stamp(&dest).is_file() {
        return libtorch::check(&dest);
    }
    wheels::check_pip(python).map_err(|problem| match problem {
        PipProblem::NoPython => SetupError::NoPython { python: python.to_owned(), cache: dest.clone() },
        PipProblem::NoPip => SetupError::NoPip { python: python.to_owned() },
        PipProblem::Io(error) => *error,
    })?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(io_error("creating", parent))?;
    }
    let downloads = wheels::sibling(&dest, "wheels");
    let staging = wheels::sibling(&dest, "staging");
    let (what, alternative) =
        (format!("libtorch {REQUIRED_VERSION}"), format!("export LIBTORCH=<a libtorch {REQUIRED_VERSION} folder>"));
    let wanted = wheels::Wanted { what: &what, alternative: &alternative };
    let outcome = wheels::download(python, &downloads, &WHEELS, &wanted).and_then(|()| unpack(&downloads, &staging));
    let outcome = outcome.and_then(|()| {
        std::fs::write(staging.join("build-version"), format!("{REQUIRED_VERSION}\n"))
            .map_err(io_error("writing", staging.join("build-version")))?;
        std::fs::write(stamp(&staging), b"").map_err(io_error("writing", stamp(&staging)))?;
        wheels::move_into_place(&staging, &dest, stamp)
    });
    let _ = std::fs::remove_dir_all(&downloads);
    let _ = std::fs::remove_dir_all(&staging);
    outcome?;
    libtorch::check(&dest)
}

/// Unpacks the headers and the kept libraries of every wheel in `wheels` into `staging` (`include/`, `lib/`).
fn unpack(wheels: &Path, staging: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(staging);
    std::fs::create_dir_all(staging.join("lib")).map_err(io_error("creating", staging.join("lib")))?;
    let mut listing: Vec<PathBuf> = std::fs::read_dir(wheels)
        .map_err(io_error("listing", wheels))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "whl"))
        .collect();
    listing.sort();
    let mut found = BTreeSet::new();
    for wheel in &listing {
        unpack_wheel(wheel, staging, &mut found)?;
    }
    let missing: Vec<&str> =
        TORCH_LIBRARIES.iter().chain(&CUDA_LIBRARIES).copied().filter(|name| !found.contains(*name)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(SetupError::IncompleteWheels { folder: wheels.to_path_buf(), missing: missing.join(", ") })
    }
}

/// Unpacks one wheel's kept members, adding the libraries it held to `found`.
fn unpack_wheel(wheel: &Path, staging: &Path, found: &mut BTreeSet<String>) -> Result<()> {
    let wheel_error = |source| SetupError::Wheel { path: wheel.to_path_buf(), source };
    let file = std::fs::File::open(wheel).map_err(io_error("opening", wheel))?;
    let mut archive = zip::ZipArchive::new(file).map_err(wheel_error)?;
    for index in 0..archive.len() {
        let mut member = archive.by_index(index).map_err(wheel_error)?;
        // A name that would leave the folder (`..`, absolute) is no member of a real wheel: skipped.
        let Some(name) = member.enclosed_name() else { continue };
        if member.is_dir() {
            continue;
        }
        let Some((target, library)) = destination(&name, staging) else { continue };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io_error("creating", parent))?;
        }
        let mut out = std::fs::File::create(&target).map_err(io_error("creating", &target))?;
        std::io::copy(&mut member, &mut out).map_err(io_error("unpacking", &target))?;
        if let Some(library) = library {
            found.insert(library);
        }
    }
    Ok(())
}

/// Where a wheel member goes in the staging folder, and the library name when it is one; `None` when not kept.
fn destination(name: &Path, staging: &Path) -> Option<(PathBuf, Option<String>)> {
    if let Ok(header) = name.strip_prefix("torch/include") {
        return Some((staging.join("include").join(header), None));
    }
    let base = name.file_name()?.to_str()?;
    let kept = (name.starts_with("torch/lib") && TORCH_LIBRARIES.contains(&base))
        || (name.starts_with("nvidia") && CUDA_LIBRARIES.contains(&base));
    kept.then(|| (staging.join("lib").join(base), Some(base.to_owned())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use std::io::Write;

    use super::*;
    use crate::libtorch::tests::{fake_libtorch, scratch};

    fn write_wheel(path: &Path, members: &[(&str, &[u8])]) {
        let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (name, bytes) in members {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap();
    }

    #[test]
    fn a_stamped_folder_is_used_without_downloading() {
        let dir = scratch("stamped");
        fake_libtorch(&dir, REQUIRED_VERSION);
        std::fs::write(stamp(&dir), b"").unwrap();
        // No interpreter of that name exists: the stamp alone must answer.
        assert_eq!(provision(&dir, "no-such-python-slim").unwrap(), dir);
    }

    #[test]
    fn without_python_the_error_names_both_ways_to_provide_libtorch() {
        let dir = scratch("nopython");
        let message = provision(&dir.join("libtorch"), "no-such-python-slim").unwrap_err().to_string();
        assert!(message.contains("slim needs libtorch 2.13.0"), "{message}");
        assert!(message.contains("install python3 with pip") && message.contains("export LIBTORCH="), "{message}");
        assert!(!dir.join("libtorch").exists());
    }

    #[test]
    fn wheels_unpack_headers_and_kept_libraries_only() {
        let dir = scratch("unpack");
        let wheels = dir.join("wheels");
        std::fs::create_dir_all(&wheels).unwrap();
        let mut torch: Vec<(String, &[u8])> =
            TORCH_LIBRARIES.iter().map(|l| (format!("torch/lib/{l}"), &b"so"[..])).collect();
        torch.push(("torch/include/torch/headeronly/version.h".into(), b"#define TORCH_VERSION_MAJOR 2"));
        torch.push(("torch/lib/libtorch_cuda.so".into(), b"not kept"));
        torch.push(("../escape.so".into(), b"hostile"));
        let torch: Vec<(&str, &[u8])> = torch.iter().map(|(name, bytes)| (name.as_str(), *bytes)).collect();
        write_wheel(&wheels.join("torch-2.13.0.whl"), &torch);
        write_wheel(
            &wheels.join("nvidia.whl"),
            &[("nvidia/cu13/lib/libcudart.so.13", b"rt"), ("nvidia/cu13/lib/libcupti.so.13", b"cupti")],
        );
        let staging = dir.join("staging");
        unpack(&wheels, &staging).unwrap();
        assert!(staging.join("include/torch/headeronly/version.h").is_file());
        assert!(staging.join("lib/libcupti.so.13").is_file() && staging.join("lib/libtorch_cpu.so").is_file());
        assert!(!staging.join("lib/libtorch_cuda.so").exists() && !dir.join("escape.so").exists());
    }

    #[test]
    fn wheels_without_a_needed_library_are_refused_by_name() {
        let dir = scratch("incomplete");
        let wheels = dir.join("wheels");
        std::fs::create_dir_all(&wheels).unwrap();
        write_wheel(&wheels.join("torch.whl"), &[("torch/lib/libc10.so", b"so")]);
        let message = unpack(&wheels, &dir.join("staging")).unwrap_err().to_string();
        assert!(message.contains("lack libgomp.so.1, libshm.so") && message.contains("libcupti.so.13"), "{message}");
    }

    #[test]
    fn an_unfinished_folder_is_replaced_and_a_finished_one_kept() {
        let dir = scratch("place");
        let (staging, dest) = (dir.join("staging"), dir.join("libtorch"));
        std::fs::create_dir_all(dest.join("lib")).unwrap(); // left by an interrupted setup: no stamp
        fake_libtorch(&staging, REQUIRED_VERSION);
        std::fs::write(stamp(&staging), b"").unwrap();
        wheels::move_into_place(&staging, &dest, stamp).unwrap();
        assert!(stamp(&dest).is_file() && !staging.exists());
        std::fs::create_dir_all(staging.join("lib")).unwrap(); // a concurrent setup that finished second
        wheels::move_into_place(&staging, &dest, stamp).unwrap();
        assert!(stamp(&dest).is_file());
    }
}
