//! Configuring a user's crate: `LIBTORCH` in its `.cargo/config.toml` (so torch-sys finds libtorch in every cargo
//! command, with no variable to export), and a build script that records libtorch's library folder as an rpath
//! (so its binaries, tests and examples start without `LD_LIBRARY_PATH`).

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

use crate::error::{Result, SetupError, io_error};

/// The build script written into a crate that has none. slim reports the library folder of the libtorch it
/// links as `DEP_SLIM_LIBTORCH_LIB` to the build scripts of crates that depend on it.
pub const BUILD_SCRIPT: &str = r#"//! Written by slim-setup: records the folder of the libtorch that slim links (slim reports it as
//! DEP_SLIM_LIBTORCH_LIB), and with slim's `mpi` feature MPI's library folders (DEP_SLIM_MPI_LIB), as rpaths of
//! this crate's binaries, tests and examples, so they start without LD_LIBRARY_PATH.

fn main() {
    if let Ok(lib) = std::env::var("DEP_SLIM_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
    if let Ok(libs) = std::env::var("DEP_SLIM_MPI_LIB") {
        for lib in std::env::split_paths(&libs) {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
        }
    }
}
"#;

/// What [`configure`] did to the crate's build script.
#[derive(Debug, PartialEq)]
pub enum BuildScript {
    /// It had none; `build.rs` was written.
    Written,
    /// Its build script already records the rpath.
    AlreadyRecordsRpath,
    /// Nothing was written: the reason, and what to do.
    LeftAlone(String),
}

/// What [`configure`] changed.
#[derive(Debug)]
pub struct Configured {
    /// The cargo configuration written.
    pub config: PathBuf,
    /// The `LIBTORCH` it held before, when another.
    pub replaced: Option<String>,
    /// The build script's state.
    pub build_script: BuildScript,
}

/// Points the crate (or workspace) in `project` at `libtorch` and gives it the rpath build script.
pub fn configure(project: &Path, libtorch: &Path) -> Result<Configured> {
    let manifest_path = project.join("Cargo.toml");
    let manifest =
        std::fs::read_to_string(&manifest_path).map_err(|_| SetupError::NoCargoManifest(project.to_path_buf()))?;
    let config = project.join(".cargo/config.toml");
    let replaced = set_libtorch(&config, libtorch)?;
    let build_script = give_build_script(project, &manifest_path, &manifest)?;
    Ok(Configured { config, replaced, build_script })
}

/// Sets `[env] LIBTORCH` in the cargo configuration at `config`, keeping everything else in it; returns the
/// value it replaced, when another.
fn set_libtorch(config: &Path, libtorch: &Path) -> Result<Option<String>> {
    let wanted = libtorch.display().to_string();
    let text = match std::fs::read_to_string(config) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(io_error("reading", config)(error)),
    };
    let mut document: DocumentMut = text.parse().map_err(|error: toml_edit::TomlError| SetupError::Config {
        path: config.to_path_buf(),
        reason: error.message().to_owned(),
        libtorch: wanted.clone(),
    })?;
    let env = document.entry("env").or_insert_with(|| Item::Table(Table::new()));
    let Some(env) = env.as_table_like_mut() else {
        return Err(SetupError::Config {
            path: config.to_path_buf(),
            reason: "`env` is not a table".into(),
            libtorch: wanted,
        });
    };
    let previous = env.get("LIBTORCH").map(|item| match item.as_str() {
        Some(text) => text.to_owned(),
        None => item.to_string().trim().to_owned(),
    });
    if previous.as_deref() == Some(wanted.as_str()) {
        return Ok(None);
    }
    env.insert("LIBTORCH", value(wanted));
    write_atomically(config, document.to_string().as_bytes())?;
    Ok(previous)
}

/// Writes `build.rs` unless the package has a build script already (or is a virtual workspace).
fn give_build_script(project: &Path, manifest_path: &Path, manifest: &str) -> Result<BuildScript> {
    let document: DocumentMut = manifest.parse().map_err(|error: toml_edit::TomlError| SetupError::Config {
        path: manifest_path.to_path_buf(),
        reason: error.message().to_owned(),
        libtorch: String::new(),
    })?;
    let Some(package) = document.get("package") else {
        return Ok(BuildScript::LeftAlone(format!(
            "{} is a workspace: give each member that builds binaries, tests or examples this build.rs:\n{BUILD_SCRIPT}",
            manifest_path.display()
        )));
    };
    let script = match package.get("build") {
        Some(item) if item.as_bool() == Some(false) => {
            return Ok(BuildScript::LeftAlone(format!(
                "{} turns build scripts off (build = false); without this build.rs its binaries need \
                 LD_LIBRARY_PATH=<libtorch>/lib:\n{BUILD_SCRIPT}",
                manifest_path.display()
            )));
        }
        Some(item) => project.join(item.as_str().unwrap_or("build.rs")),
        None => project.join("build.rs"),
    };
    match std::fs::read_to_string(&script) {
        Ok(text) if text.contains("DEP_SLIM_LIBTORCH_LIB") => Ok(BuildScript::AlreadyRecordsRpath),
        Ok(_) => Ok(BuildScript::LeftAlone(format!(
            "{} exists: add to its main() the lines that record libtorch's rpath:\n    \
             if let Ok(lib) = std::env::var(\"DEP_SLIM_LIBTORCH_LIB\") {{\n        \
             println!(\"cargo:rustc-link-arg=-Wl,-rpath,{{lib}}\");\n    }}",
            script.display()
        ))),
        Err(_) => {
            write_atomically(&script, BUILD_SCRIPT.as_bytes())?;
            Ok(BuildScript::Written)
        }
    }
}

/// Writes `bytes` to `path` through a temporary sibling renamed into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error("creating", parent))?;
    }
    let mut temporary = path.as_os_str().to_os_string();
    temporary.push(format!(".slim-setup-{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes).map_err(io_error("writing", &temporary))?;
    std::fs::rename(&temporary, path).map_err(io_error("replacing", path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;
    use crate::libtorch::tests::scratch;

    fn package(dir: &Path, extra: &str) {
        std::fs::write(dir.join("Cargo.toml"), format!("[package]\nname = \"user\"\n{extra}")).unwrap();
    }

    #[test]
    fn a_new_crate_gets_its_config_and_build_script() {
        let dir = scratch("new-crate");
        package(&dir, "");
        let done = configure(&dir, Path::new("/opt/libtorch")).unwrap();
        assert_eq!((done.replaced, done.build_script), (None, BuildScript::Written));
        let config = std::fs::read_to_string(dir.join(".cargo/config.toml")).unwrap();
        assert_eq!(config, "[env]\nLIBTORCH = \"/opt/libtorch\"\n");
        assert_eq!(std::fs::read_to_string(dir.join("build.rs")).unwrap(), BUILD_SCRIPT);
        // Again: nothing changes.
        let again = configure(&dir, Path::new("/opt/libtorch")).unwrap();
        assert_eq!((again.replaced, again.build_script), (None, BuildScript::AlreadyRecordsRpath));
    }

    #[test]
    fn an_existing_config_keeps_its_settings_and_comments() {
        let dir = scratch("existing-config");
        package(&dir, "");
        std::fs::create_dir_all(dir.join(".cargo")).unwrap();
        let before = "# mine\n[build]\njobs = 2\n\n[env]\nFOO = \"bar\"\nLIBTORCH = \"/old\"\n";
        std::fs::write(dir.join(".cargo/config.toml"), before).unwrap();
        std::fs::write(dir.join("build.rs"), "fn main() {}\n").unwrap();
        let done = configure(&dir, Path::new("/new")).unwrap();
        assert_eq!(done.replaced.as_deref(), Some("/old"));
        assert!(matches!(done.build_script, BuildScript::LeftAlone(ref why) if why.contains("add to its main()")));
        let config = std::fs::read_to_string(dir.join(".cargo/config.toml")).unwrap();
        assert_eq!(config, before.replace("/old", "/new"));
        assert_eq!(std::fs::read_to_string(dir.join("build.rs")).unwrap(), "fn main() {}\n");
    }

    #[test]
    fn bad_projects_and_configs_are_named() {
        let dir = scratch("bad-project");
        let message = configure(&dir, Path::new("/opt/libtorch")).unwrap_err().to_string();
        assert!(message.contains("has no Cargo.toml"), "{message}");
        package(&dir, "build = false\n");
        std::fs::create_dir_all(dir.join(".cargo")).unwrap();
        std::fs::write(dir.join(".cargo/config.toml"), "[env\n").unwrap();
        let message = configure(&dir, Path::new("/opt/libtorch")).unwrap_err().to_string();
        assert!(message.contains("config.toml is not valid TOML") && message.contains("LIBTORCH = \"/opt/libtorch\""));
        std::fs::write(dir.join(".cargo/config.toml"), "").unwrap();
        let done = configure(&dir, Path::new("/opt/libtorch")).unwrap();
        assert!(matches!(done.build_script, BuildScript::LeftAlone(ref why) if why.contains("build = false")));
        assert!(!dir.join("build.rs").exists());
    }
}
