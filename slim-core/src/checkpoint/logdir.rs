//! The checkpoints of a logdir: slim's file names, and finding them newest first.

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

/// The checkpoints of `logdir`, newest first: those the state file lists that exist (slim's files, or TF
/// checkpoint prefixes), else every `model.ckpt-<step>.safetensors` found, by step.
pub fn checkpoints_newest_first(logdir: &Path) -> Result<Vec<PathBuf>> {
    let state = CheckpointState::read(logdir).unwrap_or_default();
    let exists = |path: &PathBuf| path.is_file() || tf_bundle::index_path(path).is_some();
    let listed: Vec<PathBuf> = state.all.iter().rev().map(|name| logdir.join(name)).filter(exists).collect();
    if !listed.is_empty() {
        return Ok(listed);
    }
    let entries = match fs::read_dir(logdir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(logdir, "cannot list the logdir", e)),
    };
    let mut found: Vec<(i64, PathBuf)> =
        entries.flatten().map(|entry| entry.path()).filter_map(|path| Some((checkpoint_step(&path)?, path))).collect();
    found.sort_by_key(|(step, _)| std::cmp::Reverse(*step));
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

/// The newest checkpoint of `logdir`, if any (TF's `latest_checkpoint`).
pub fn latest_checkpoint(logdir: impl AsRef<Path>) -> Result<Option<PathBuf>> {
    Ok(checkpoints_newest_first(logdir.as_ref())?.into_iter().next())
}
