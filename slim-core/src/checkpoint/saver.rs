//! Saving checkpoints into a logdir, keeping the newest few.

use std::fs;
use std::path::{Path, PathBuf};

use tch::Tensor;

use super::format::Format;
use super::logdir::checkpoint_file_name;
use super::state::CheckpointState;
use crate::error::TorchContext;
use crate::io::{io_error, write_atomically};
use crate::native;
use crate::variables::VarStore;
use crate::variables::collections::GLOBAL_VARIABLES;
use crate::{Error, Result};

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
    /// `max_to_keep`. Returns the checkpoint's path. A variable holding NaN or an infinity is an error naming it,
    /// and nothing is written: the newest checkpoint stays one a run can resume from.
    pub fn save(&self, vs: &VarStore, step: i64) -> Result<PathBuf> {
        let name = checkpoint_file_name(step);
        let path = self.logdir.join(&name);
        let tensors: Vec<(String, Tensor)> = vs
            .collection(GLOBAL_VARIABLES)
            .iter()
            .map(|v| (v.name().to_string(), v.tensor().detach().to_device(tch::Device::Cpu).contiguous()))
            .collect();
        if let Some(variable) = first_non_finite(&tensors)? {
            return Err(Error::invalid(
                variable,
                format!("holds NaN or infinite values, so {name} is not written and the newest checkpoint stays"),
            ));
        }
        write_atomically(&path, |tmp| Format::SafeTensors.write(tmp, &tensors))?;
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

/// The name of the first tensor holding a NaN or an infinity (`native::first_non_finite`: one scan of them all).
fn first_non_finite(tensors: &[(String, Tensor)]) -> Result<Option<&str>> {
    let all: Vec<&Tensor> = tensors.iter().map(|(_, tensor)| tensor).collect();
    let position = native::first_non_finite(&all).context("checkpoint values")?;
    Ok(position.map(|position| tensors[position].0.as_str()))
}
