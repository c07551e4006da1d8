//! The checkpoints of a logdir: slim's file names, finding them newest first (those the state file lists and any
//! complete checkpoint it missed), and telling slim's own files from anything else.

use std::fs;
use std::path::{Path, PathBuf};

use super::state::CheckpointState;
use super::tf_bundle;
use crate::Result;
use crate::io::io_error;

const PREFIX: &str = "model.ckpt-";
const SUFFIX: &str = ".safetensors";

/// The file name of slim's checkpoint at `step`: `model.ckpt-<step>.safetensors`.
pub(crate) fn checkpoint_file_name(step: i64) -> String {
    format!("{PREFIX}{step}{SUFFIX}")
}

/// The step of a checkpoint file named `model.ckpt-<step>.safetensors`.
pub fn checkpoint_step(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?.parse().ok()
}

/// Whether `name` (as a state file lists it) is one of slim's checkpoint files directly inside the logdir: the
/// only files a saver ever removes.
pub(crate) fn is_own_checkpoint_name(name: &str) -> bool {
    Path::new(name).file_name().and_then(|file| file.to_str()) == Some(name)
        && checkpoint_step(Path::new(name)).is_some()
}

/// The step in a checkpoint's name: slim's `model.ckpt-<step>.safetensors` or TF's prefix `…-<step>`.
fn step_in_name(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    let name = name.strip_suffix(SUFFIX).unwrap_or(name);
    name.rsplit_once('-')?.1.parse().ok()
}

/// slim's checkpoint files in `logdir`, by name.
pub(crate) fn own_checkpoints(logdir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(logdir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(logdir, "cannot list the logdir", e)),
    };
    Ok(entries.flatten().map(|entry| entry.path()).filter(|path| checkpoint_step(path).is_some()).collect())
}

/// The checkpoints of `logdir`, newest first: those the state file lists that exist (slim's files, or TF
/// checkpoint prefixes) and every `model.ckpt-<step>.safetensors` it does not list (one written just before a
/// kill, before the state file was), ordered by the step in their names; a listed name without a step keeps its
/// place after them.
pub fn checkpoints_newest_first(logdir: &Path) -> Result<Vec<PathBuf>> {
    let state = CheckpointState::read(logdir).unwrap_or_default();
    let exists = |path: &PathBuf| path.is_file() || tf_bundle::index_path(path).is_some();
    let mut found: Vec<PathBuf> = state.all.iter().rev().map(|name| logdir.join(name)).filter(exists).collect();
    for path in own_checkpoints(logdir)? {
        if !found.contains(&path) {
            found.push(path);
        }
    }
    found.sort_by_key(|path| std::cmp::Reverse(step_in_name(path).unwrap_or(i64::MIN)));
    Ok(found)
}

/// Renames `path`, when it is one of slim's checkpoint files directly inside `logdir`, to
/// `<name>.unrestorable`, which nothing lists, resumes or prunes; returns the new path (`None` for any other
/// file, which stays as it is).
pub(crate) fn set_aside(logdir: &Path, path: &Path) -> Result<Option<PathBuf>> {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else { return Ok(None) };
    if path.parent() != Some(logdir) || !is_own_checkpoint_name(name) {
        return Ok(None);
    }
    let aside = logdir.join(format!("{name}.unrestorable"));
    fs::rename(path, &aside).map_err(|e| io_error(path, "cannot set the unrestorable checkpoint aside", e))?;
    Ok(Some(aside))
}

/// The newest checkpoint of `logdir`, if any (TF's `latest_checkpoint`).
pub fn latest_checkpoint(logdir: impl AsRef<Path>) -> Result<Option<PathBuf>> {
    Ok(checkpoints_newest_first(logdir.as_ref())?.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_of_slims_pattern_are_its_own() {
        assert!(is_own_checkpoint_name("model.ckpt-20.safetensors"));
        assert!(!is_own_checkpoint_name("../model.ckpt-20.safetensors"));
        assert!(!is_own_checkpoint_name("/tmp/model.ckpt-20.safetensors"));
        assert!(!is_own_checkpoint_name("model.ckpt-20"));
        assert!(!is_own_checkpoint_name("notes.txt"));
    }

    #[test]
    fn steps_are_read_from_slims_and_tfs_names() {
        assert_eq!(step_in_name(Path::new("/x/model.ckpt-20.safetensors")), Some(20));
        assert_eq!(step_in_name(Path::new("/x/model.ckpt-1500")), Some(1500));
        assert_eq!(step_in_name(Path::new("/x/final")), None);
    }
}
