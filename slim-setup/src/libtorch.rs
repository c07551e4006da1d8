//! What counts as a usable libtorch: a folder with `lib/` holding libtorch's CPU library and `include/` holding
//! headers that declare the version tch 0.26 was generated for.

use std::path::{Path, PathBuf};

use crate::error::{Result, SetupError, io_error};

/// The libtorch version tch 0.26 (and so slim) is built against.
pub const REQUIRED_VERSION: &str = "2.13.0";

/// The headers that declare libtorch's version: the first for 2.9 and later, the second for older releases.
const VERSION_HEADERS: [&str; 2] =
    ["include/torch/headeronly/version.h", "include/torch/csrc/api/include/torch/version.h"];

/// Checks that `path` is a libtorch of [`REQUIRED_VERSION`] and returns it absolute.
pub fn check(path: &Path) -> Result<PathBuf> {
    let path = std::path::absolute(path).map_err(io_error("resolving", path))?;
    if !path.join("lib").is_dir() || !path.join("include").is_dir() {
        return Err(SetupError::NotLibtorch { path, problem: "it needs lib/ and include/ folders".into() });
    }
    if !has_cpu_library(&path.join("lib"))? {
        return Err(SetupError::NotLibtorch { path, problem: "lib/ has no libtorch_cpu library".into() });
    }
    let found = version(&path)?;
    if found != REQUIRED_VERSION {
        return Err(SetupError::WrongVersion { path, found });
    }
    Ok(path)
}

/// Whether `lib` holds libtorch's CPU library under any platform's name.
fn has_cpu_library(lib: &Path) -> Result<bool> {
    let entries = std::fs::read_dir(lib).map_err(io_error("listing", lib))?;
    for entry in entries {
        let name = entry.map_err(io_error("listing", lib))?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("libtorch_cpu.") || name == "torch_cpu.dll" {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The version libtorch's headers declare (`TORCH_VERSION_MAJOR.MINOR.PATCH`).
pub fn version(root: &Path) -> Result<String> {
    let Some(header) = VERSION_HEADERS.iter().map(|header| root.join(header)).find(|header| header.is_file()) else {
        return Err(SetupError::NotLibtorch {
            path: root.to_path_buf(),
            problem: format!("include/ declares no version (looked for {})", VERSION_HEADERS.join(" and ")),
        });
    };
    let text = std::fs::read_to_string(&header).map_err(io_error("reading", &header))?;
    let part = |name: &str| {
        text.lines()
            .filter_map(|line| line.trim().strip_prefix("#define ")?.strip_prefix(name)?.trim().parse::<u32>().ok())
            .next()
    };
    match (part("TORCH_VERSION_MAJOR"), part("TORCH_VERSION_MINOR"), part("TORCH_VERSION_PATCH")) {
        (Some(major), Some(minor), Some(patch)) => Ok(format!("{major}.{minor}.{patch}")),
        _ => Err(SetupError::NotLibtorch {
            path: root.to_path_buf(),
            problem: format!("{} does not define TORCH_VERSION_MAJOR, _MINOR and _PATCH", header.display()),
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    /// A folder shaped like libtorch whose headers declare `version` (`major.minor.patch`).
    pub(crate) fn fake_libtorch(root: &Path, version: &str) {
        let parts: Vec<&str> = version.split('.').collect();
        std::fs::create_dir_all(root.join("lib")).unwrap();
        std::fs::write(root.join("lib/libtorch_cpu.so"), b"").unwrap();
        let header = root.join(VERSION_HEADERS[0]);
        std::fs::create_dir_all(header.parent().unwrap()).unwrap();
        let text = format!(
            "#pragma once\n\n#define TORCH_VERSION_MAJOR {}\n\n#define TORCH_VERSION_MINOR {}\n\n#define TORCH_VERSION_PATCH {}\n",
            parts[0], parts[1], parts[2]
        );
        std::fs::write(header, text).unwrap();
    }

    pub(crate) fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("slim-setup-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_libtorch_of_the_required_version_passes() {
        let dir = scratch("good");
        fake_libtorch(&dir, REQUIRED_VERSION);
        assert_eq!(check(&dir).unwrap(), dir);
    }

    #[test]
    fn another_version_is_named_beside_the_required_one() {
        let dir = scratch("old");
        fake_libtorch(&dir, "2.12.1");
        let message = check(&dir).unwrap_err().to_string();
        assert!(message.contains("holds libtorch 2.12.1") && message.contains("requires libtorch 2.13.0"), "{message}");
    }

    #[test]
    fn a_folder_without_libraries_or_headers_is_refused() {
        let dir = scratch("empty");
        let message = check(&dir).unwrap_err().to_string();
        assert!(message.contains("is not a libtorch folder: it needs lib/ and include/"), "{message}");
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::create_dir_all(dir.join("include")).unwrap();
        let message = check(&dir).unwrap_err().to_string();
        assert!(message.contains("no libtorch_cpu library"), "{message}");
        std::fs::write(dir.join("lib/libtorch_cpu.so"), b"").unwrap();
        let message = check(&dir).unwrap_err().to_string();
        assert!(message.contains("declares no version"), "{message}");
    }
}
