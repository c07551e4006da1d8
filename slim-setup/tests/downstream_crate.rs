//! slim as a user's dependency, from its packages: `cargo package` of every crate in the workspace, the `.crate`
//! files unpacked, and then the README's steps in a crate outside the workspace. The starter project
//! (`templates/starter`) is copied with `tch-slim = "0.1.0"` as a user writes it and `[patch.crates-io]` sending
//! slim's crates to the unpacked packages (as a registry would serve them); `slim-setup configure` (built from its
//! own package) sets it up, here with `LIBTORCH` exported (the offline way: this build's provisioned libtorch);
//! then cargo runs its `train` and `eval` binaries with neither `LIBTORCH` nor `LD_LIBRARY_PATH` in the
//! environment: the crate's `.cargo/config.toml` and the build.rs slim-setup wrote supply them. Everything builds
//! offline in this build's target directory, with the workspace's profile, so only slim's own crates compile
//! again (from the packaged sources).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

/// The crates of the workspace, as packaged.
const PACKAGES: [&str; 4] = ["slim-core", "slim-macros", "tch-slim", "tch-slim-setup"];

/// The workspace's dev profile (dependencies without debug info, workspace crates with line tables, the
/// compression slim-setup shares with the data pipeline optimized), for the builds of packages outside it, so
/// they reuse what the workspace compiled.
const PROFILE: [&str; 6] = [
    "--config",
    "profile.dev.debug=\"line-tables-only\"",
    "--config",
    "profile.dev.package.\"*\".debug=false",
    "--config",
    "profile.dev.package.miniz_oxide.opt-level=3",
];

/// This checkout (the workspace root).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The libtorch this build links: `LIBTORCH` as cargo gave it to this test's build, absolute.
fn libtorch() -> PathBuf {
    let configured = PathBuf::from(option_env!("LIBTORCH").unwrap_or(".libtorch"));
    let path = if configured.is_absolute() { configured } else { repo().join(configured) };
    path.canonicalize().unwrap()
}

/// This build's target directory (the test binary lives in `<target>/debug/deps`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// `program` in `dir`, without this process's libtorch and cargo settings in its environment.
fn clean(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command.current_dir(dir);
    for variable in ["LIBTORCH", "LD_LIBRARY_PATH", "RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_MANIFEST_DIR"] {
        command.env_remove(variable);
    }
    command
}

/// `cargo <args>` in `dir`, offline, in this build's target directory.
fn cargo(dir: &Path, args: &[&str]) -> Command {
    let mut command = clean(env!("CARGO"), dir);
    command.arg("--offline").args(args).env("CARGO_TARGET_DIR", target_dir());
    command
}

/// Runs `command` and returns its stdout, asserting success.
fn succeed(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{command:?}\n{stdout}\n{stderr}");
    stdout.into_owned()
}

/// Packages every crate of the workspace and unpacks the `.crate` files into `into`.
fn package_and_unpack(into: &Path) {
    // --allow-dirty: what is checked is the packages' contents, also mid-change; CI's checkout is clean.
    succeed(&mut cargo(&repo(), &["package", "--workspace", "--no-verify", "--allow-dirty", "--quiet"]));
    std::fs::create_dir_all(into).unwrap();
    for (package, source) in PACKAGES.into_iter().zip(["slim-core", "slim-macros", ".", "slim-setup"]) {
        let archive = target_dir().join(format!("package/{package}-0.1.0.crate"));
        succeed(Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(into));
        stamp_like_sources(&into.join(format!("{package}-0.1.0")), &repo().join(source));
    }
}

/// Gives each unpacked file the modification time of the workspace file it was packaged from. `cargo package`
/// writes one fixed time into every archive, so without this a build in the shared target directory would
/// take an unpacked crate whose sources changed for fresh and reuse a stale build of it (a proc-macro crate
/// most of all, which nothing else forces to rebuild).
fn stamp_like_sources(unpacked: &Path, source: &Path) {
    for entry in std::fs::read_dir(unpacked).unwrap() {
        let path = entry.unwrap().path();
        let original = source.join(path.file_name().unwrap());
        if path.is_dir() {
            stamp_like_sources(&path, &original);
        } else if let Ok(modified) = std::fs::metadata(&original).and_then(|meta| meta.modified()) {
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(modified).unwrap();
        }
    }
}

/// Copies the starter to `to`, depending on `tch-slim = "0.1.0"` with slim's crates patched to the packages in
/// `packages`.
fn copy_starter(packages: &Path, to: &Path) {
    let starter = repo().join("templates/starter");
    for file in ["src/lib.rs", "src/bin/train.rs", "src/bin/eval.rs"] {
        std::fs::create_dir_all(to.join(file).parent().unwrap()).unwrap();
        std::fs::copy(starter.join(file), to.join(file)).unwrap();
    }
    let manifest = std::fs::read_to_string(starter.join("Cargo.toml")).unwrap();
    let by_version = "tch-slim = \"0.1.0\"";
    let mut manifest = manifest.replace("tch-slim = { path = \"../..\" }", by_version);
    assert!(manifest.contains(by_version), "the starter's manifest names tch-slim by path");
    manifest.push_str("\n[patch.crates-io]\n");
    for package in &PACKAGES[..3] {
        let path = packages.join(format!("{package}-0.1.0")).display().to_string();
        manifest.push_str(&format!("{package} = {{ path = {path:?} }}\n"));
    }
    std::fs::write(to.join("Cargo.toml"), manifest).unwrap();
    // The workspace's lock file pins the versions it already built, so the offline build needs nothing new.
    std::fs::copy(repo().join("Cargo.lock"), to.join("Cargo.lock")).unwrap();
}

/// A folder outside this checkout (so its `.cargo/config.toml` does not apply), the same for every run from this
/// target directory (so a rerun compiles nothing new).
fn scratch_folder() -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    target_dir().hash(&mut hasher);
    std::env::temp_dir().join(format!("slim-downstream-{:016x}", hasher.finish()))
}

#[test]
fn the_starter_project_builds_against_the_packaged_crates_set_up_by_slim_setup() {
    let scratch = scratch_folder();
    let (packages, starter) = (scratch.join("packages"), scratch.join("starter"));
    let _ = std::fs::remove_dir_all(&scratch);
    package_and_unpack(&packages);
    copy_starter(&packages, &starter);

    let setup_manifest = packages.join("tch-slim-setup-0.1.0/Cargo.toml").display().to_string();
    let mut setup = cargo(&starter, &["run", "--quiet", "--manifest-path", &setup_manifest]);
    setup.args(PROFILE).args(["--", "configure", "."]).env("LIBTORCH", libtorch());
    let said = succeed(&mut setup);
    assert!(said.contains("LIBTORCH set") && said.contains("build.rs written"), "{said}");
    let config = std::fs::read_to_string(starter.join(".cargo/config.toml")).unwrap();
    assert_eq!(config, format!("[env]\nLIBTORCH = {:?}\n", libtorch().display().to_string()));

    let trained = succeed(&mut cargo(&starter, &["run", "--quiet", "--bin", "train"]));
    assert!(trained.contains("trained to step 60"), "{trained}");
    assert!(starter.join("logs/starter/model.ckpt-60.safetensors").is_file());
    let evaluated = succeed(&mut cargo(&starter, &["run", "--quiet", "--bin", "eval"]));
    let accuracy: f64 = evaluated.trim().strip_prefix("Accuracy ").unwrap().parse().unwrap();
    assert!(accuracy > 0.9, "{evaluated}");
    std::fs::remove_dir_all(&scratch).unwrap();
}
