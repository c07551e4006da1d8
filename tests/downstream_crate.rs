//! slim as a user's dependency: the starter project (`templates/starter`) copied outside this workspace, its
//! `tch-slim` dependency pointed at this checkout by path, built offline against the provisioned libtorch
//! (`LIBTORCH`, as the README says), and run with no `LD_LIBRARY_PATH`: the starter's build script records the
//! rpath. It shares this build's target directory, so nothing slim depends on compiles twice.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

/// The libtorch this build links: `LIBTORCH` as cargo gave it to this test's build, absolute.
fn libtorch(repo: &Path) -> PathBuf {
    let configured = PathBuf::from(option_env!("LIBTORCH").unwrap_or(".libtorch"));
    let path = if configured.is_absolute() { configured } else { repo.join(configured) };
    path.canonicalize().unwrap()
}

/// This build's target directory (the test binary lives in `<target>/debug/deps`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

fn copy_starter(repo: &Path, to: &Path) {
    let starter = repo.join("templates/starter");
    std::fs::create_dir_all(to.join("src")).unwrap();
    for file in ["build.rs", "src/main.rs"] {
        std::fs::copy(starter.join(file), to.join(file)).unwrap();
    }
    let manifest = std::fs::read_to_string(starter.join("Cargo.toml")).unwrap();
    let by_path = format!("tch-slim = {{ path = {:?} }}", repo.display().to_string());
    let manifest = manifest.replace("tch-slim = { path = \"../..\" }", &by_path);
    assert!(manifest.contains(&by_path), "the starter's manifest names tch-slim by path");
    std::fs::write(to.join("Cargo.toml"), manifest).unwrap();
    // The workspace's lock file pins the versions it already built, so the offline build needs nothing new.
    std::fs::copy(repo.join("Cargo.lock"), to.join("Cargo.lock")).unwrap();
}

#[test]
fn the_starter_project_builds_and_runs_as_a_users_crate() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("slim-starter-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_starter(repo, &dir);
    let output = Command::new(env!("CARGO"))
        .args(["run", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("LIBTORCH", libtorch(repo))
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let accuracy: f64 = stdout.trim().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(stdout.contains("trained to step 60") && accuracy > 0.9, "{stdout}");
    assert!(dir.join("logs/starter/model.ckpt-60.safetensors").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}
