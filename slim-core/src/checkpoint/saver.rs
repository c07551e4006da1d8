//! Saving checkpoints into a logdir and finding the latest one.

use std::fs;
use std::path::{Path, PathBuf};

use tch::Tensor;

use super::atomic::{io_error, write_atomically};
use super::state::CheckpointState;
use crate::error::TorchContext;
use crate::variables::VarStore;
use crate::variables::collections::GLOBAL_VARIABLES;
use crate::{Error, Result};

const PREFIX: &str = "model.ckpt-";
const SUFFIX: &str = ".safetensors";

/// Writes checkpoints of a store's global variables into a logdir, keeping the newest `max_to_keep`.
#[derive(Clone, Debug)]
pub struct Saver {
    logdir: PathBuf,
    max_to_keep: usize,
}

impl Saver {
    /// A saver for `logdir`, created if needed; an error when it is a file or cannot be written.
    pub fn new(logdir: impl AsRef<Path>) -> Result<Saver> {
        let logdir = logdir.as_ref().to_path_buf();
        if logdir.is_file() {
            return Err(Error::Io { path: logdir.display().to_string(), message: "the logdir is a file".into() });
        }
        fs::create_dir_all(&logdir).map_err(|e| io_error(&logdir, "cannot create the logdir", e))?;
        let probe = logdir.join(format!(".slim-write-probe-{}", std::process::id()));
        fs::write(&probe, b"").map_err(|e| io_error(&logdir, "the logdir is not writable", e))?;
        let _ = fs::remove_file(&probe);
        Ok(Saver { logdir, max_to_keep: 5 })
    }

    /// How many checkpoints to keep (default 5; 0 keeps all).
    pub fn max_to_keep(mut self, max_to_keep: usize) -> Self {
        self.max_to_keep = max_to_keep;
        self
    }

    /// The logdir.
    pub fn logdir(&self) -> &Path {
        &self.logdir
    }

    /// Writes `model.ckpt-<step>.safetensors` atomically, then the state file, then removes checkpoints beyond
    /// `max_to_keep`. Returns the checkpoint's path.
    pub fn save(&self, vs: &VarStore, step: i64) -> Result<PathBuf> {
        let name = format!("{PREFIX}{step}{SUFFIX}");
        let path = self.logdir.join(&name);
        let tensors: Vec<(String, Tensor)> = vs
            .collection(GLOBAL_VARIABLES)
            .iter()
            .map(|v| (v.name().to_string(), v.tensor().detach().to_device(tch::Device::Cpu).contiguous()))
            .collect();
        write_atomically(&path, |tmp| Tensor::write_safetensors(&tensors, tmp).context(&path.display().to_string()))?;
        let mut state = CheckpointState::read(&self.logdir).unwrap_or_default();
        state.all.retain(|kept| kept != &name);
        state.all.push(name.clone());
        state.latest = Some(name);
        let dropped = match self.max_to_keep {
            0 => Vec::new(),
            keep => state.all.drain(..state.all.len().saturating_sub(keep)).collect(),
        };
        state.write(&self.logdir)?;
        for old in dropped {
            let _ = fs::remove_file(self.logdir.join(old));
        }
        Ok(path)
    }
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
    let exists = |path: &PathBuf| path.is_file() || super::tf_bundle::tf_index_path(path).is_some();
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
