//! Saving checkpoints into a logdir, keeping the newest few. The saver only ever removes its own files directly
//! inside the logdir: checkpoints named `model.ckpt-<step>.safetensors` (or, saving TF checkpoints, the files of
//! the prefixes `model.ckpt-<step>`) beyond `max_to_keep`, and the temporaries of writes a killed process left.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tch::Tensor;

use super::format::Format;
use super::layout::Layout;
use super::logdir::{checkpoint_name, checkpoint_of_file, checkpoint_step, is_own_checkpoint_name, own_checkpoints};
use super::state::{CheckpointState, STATE_FILE};
use super::tf_bundle;
use crate::error::TorchContext;
use crate::io::{abandoned_temporary_target, io_error};
use crate::native;
use crate::variables::VarStore;
use crate::variables::collections::GLOBAL_VARIABLES;
use crate::{Error, Result};

/// Writes checkpoints of a store's global variables into a logdir, keeping the newest `max_to_keep`.
#[derive(Clone, Debug)]
pub struct Saver {
    logdir: PathBuf,
    max_to_keep: usize,
    format: Format,
}

impl Saver {
    /// A saver for `logdir`, created if needed; an error when it is a file or cannot be written. Removes the
    /// temporaries of checkpoint and state-file writes another process began and never finished (one saver per
    /// logdir at a time).
    pub fn new(logdir: impl AsRef<Path>) -> Result<Saver> {
        let logdir = logdir.as_ref().to_path_buf();
        if logdir.is_file() {
            return Err(Error::Io { path: logdir.display().to_string(), message: "the logdir is a file".into() });
        }
        fs::create_dir_all(&logdir).map_err(|e| io_error(&logdir, "cannot create the logdir", e))?;
        let probe = logdir.join(format!(".slim-write-probe-{}", std::process::id()));
        fs::write(&probe, b"").map_err(|e| io_error(&logdir, "the logdir is not writable", e))?;
        let _ = fs::remove_file(&probe);
        sweep_abandoned_temporaries(&logdir)?;
        Ok(Saver { logdir, max_to_keep: 5, format: Format::SafeTensors })
    }

    /// The format of the checkpoints it writes: safetensors (the default; it keeps metadata such as the data
    /// position), or TF V2 checkpoints (`model.ckpt-<step>.index` and `.data-00000-of-00001`, weights in TF's
    /// layouts, no metadata) that TensorFlow and TF-Slim read and whose names the state file gives TF's
    /// `latest_checkpoint`. `torch.save` archives are an error: slim does not write them.
    pub fn format(mut self, format: Format) -> Result<Self> {
        if format == Format::TorchZip {
            return Err(Error::invalid("Saver", "slim writes safetensors or TF checkpoints, not torch.save archives"));
        }
        self.format = format;
        Ok(self)
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
    /// `max_to_keep`. Returns the checkpoint's path. The state file lists slim's checkpoints of the logdir by
    /// step, including any a kill left unlisted; only those are ever pruned (other names the file lists are
    /// kept there and never removed). A variable holding NaN or an infinity is an error naming it, and nothing is
    /// written: the newest checkpoint stays one a run can resume from.
    pub fn save(&self, vs: &VarStore, step: i64) -> Result<PathBuf> {
        self.save_with_metadata(vs, step, &BTreeMap::new())
    }

    /// [`Saver::save`] with string `metadata` in the file's header beside the tensors (what the training loop
    /// records for [`Train::data_position`](crate::learning::Train::data_position): a provider's
    /// position); [`checkpoint_metadata`](super::checkpoint_metadata) reads it back.
    pub fn save_with_metadata(&self, vs: &VarStore, step: i64, metadata: &BTreeMap<String, String>) -> Result<PathBuf> {
        let name = checkpoint_name(step, self.format);
        let path = self.logdir.join(&name);
        let layout = self.format.layout();
        let tensors: Vec<(String, Tensor)> = vs
            .collection(GLOBAL_VARIABLES)
            .iter()
            .map(|v| {
                let value = v.tensor().detach().to_device(tch::Device::Cpu).contiguous();
                (v.name().to_string(), Layout::Torch.convert(layout, v.name(), &value))
            })
            .collect();
        if let Some(variable) = first_non_finite(&tensors)? {
            return Err(Error::invalid(
                variable,
                format!("holds NaN or infinite values, so {name} is not written and the newest checkpoint stays"),
            ));
        }
        self.format.write(&path, &tensors, metadata)?;
        let previous = CheckpointState::read(&self.logdir).unwrap_or_default();
        // The one just written counts as the newest, whatever older runs left with higher steps.
        let mut own: Vec<String> = self.own_checkpoint_names()?.into_iter().filter(|kept| kept != &name).collect();
        own.push(name.clone());
        let dropped = match self.max_to_keep {
            0 => Vec::new(),
            keep => own.drain(..own.len().saturating_sub(keep)).collect(),
        };
        let others = previous.all.into_iter().filter(|listed| !is_own_checkpoint_name(listed, self.format));
        let state = CheckpointState { latest: Some(name), all: others.chain(own).collect() };
        state.write(&self.logdir)?;
        for old in dropped {
            self.remove(&old);
        }
        Ok(path)
    }

    /// Removes the files of its own checkpoint `name` (a TF checkpoint's index first, so a half-removed one is
    /// not taken for a checkpoint).
    fn remove(&self, name: &str) {
        match self.format {
            Format::TfBundle => {
                for suffix in tf_bundle::FILE_SUFFIXES {
                    let _ = fs::remove_file(self.logdir.join(format!("{name}{suffix}")));
                }
            }
            _ => _ = fs::remove_file(self.logdir.join(name)),
        }
    }

    /// slim's checkpoint files in the logdir, oldest step first.
    fn own_checkpoint_names(&self) -> Result<Vec<String>> {
        let mut own: Vec<(i64, String)> = own_checkpoints(&self.logdir, self.format)?
            .iter()
            .filter_map(|path| Some((checkpoint_step(path)?, path.file_name()?.to_str()?.to_string())))
            .collect();
        own.sort();
        Ok(own.into_iter().map(|(_, name)| name).collect())
    }
}

/// Removes the temporaries of checkpoint and state-file writes that another process left in `logdir`.
fn sweep_abandoned_temporaries(logdir: &Path) -> Result<()> {
    let entries = fs::read_dir(logdir).map_err(|e| io_error(logdir, "cannot list the logdir", e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(target) = name.to_str().and_then(abandoned_temporary_target) else { continue };
        if target == STATE_FILE || checkpoint_of_file(target).is_some() {
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// The name of the first tensor holding a NaN or an infinity (`native::first_non_finite`: one scan of them all).
fn first_non_finite(tensors: &[(String, Tensor)]) -> Result<Option<&str>> {
    let all: Vec<&Tensor> = tensors.iter().map(|(_, tensor)| tensor).collect();
    let position = native::first_non_finite(&all).context("checkpoint values")?;
    Ok(position.map(|position| tensors[position].0.as_str()))
}
