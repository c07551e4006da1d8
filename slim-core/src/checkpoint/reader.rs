//! An opened checkpoint of any format: a file, a TF checkpoint prefix, or a directory's latest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tch::Tensor;

use super::entry::CheckpointEntry;
use super::format::Format;
use super::layout::Layout;
use super::logdir::latest_checkpoint;
use super::safetensors_file;
use crate::{Error, Result};

/// A checkpoint located and its format detected (TF's `CheckpointReader`); reading happens on demand.
#[derive(Clone, Debug)]
pub struct CheckpointReader {
    path: PathBuf,
    format: Format,
    source: PathBuf,
}

impl CheckpointReader {
    /// The checkpoint at `path`: a slim checkpoint file, a TF checkpoint prefix such as `model.ckpt-1000` (or
    /// its `.index` file or a shard), a `torch.save` file or safetensors state dict, or a directory, which
    /// stands for its latest checkpoint. A directory without checkpoints is an [`Error::NotFound`].
    pub fn open(path: impl AsRef<Path>) -> Result<CheckpointReader> {
        let path = resolve_checkpoint(path)?;
        let (format, source) = Format::detect(&path);
        Ok(CheckpointReader { path, format, source })
    }

    /// The checkpoint's path (a directory resolved to its latest checkpoint).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The checkpoint's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// How the checkpoint lays out weights.
    pub fn layout(&self) -> Layout {
        self.format.layout()
    }

    /// The tensors the checkpoint holds, sorted by name, read from the header (a TF checkpoint's index) without
    /// loading the data where the format allows. A header that does not describe the file's size is an error:
    /// the file is truncated.
    pub fn list(&self) -> Result<Vec<CheckpointEntry>> {
        let mut entries = self.format.list(&self.source)?;
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// Every tensor of the checkpoint, sorted by name, in the file's own layout.
    pub fn read_all(&self) -> Result<Vec<(String, Tensor)>> {
        let mut tensors = self.format.read(&self.source)?;
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(tensors)
    }

    /// The tensor `name`, in the file's own layout; an [`Error::NotFound`] naming the file when it lacks one.
    pub fn read(&self, name: &str) -> Result<Tensor> {
        let found = self.format.read(&self.source)?.into_iter().find(|(entry, _)| entry == name);
        found
            .map(|(_, tensor)| tensor)
            .ok_or_else(|| Error::NotFound(format!("{} holds no tensor {name}", self.path.display())))
    }
}

/// `path` itself when it is not a directory; the latest checkpoint when it is one.
pub fn resolve_checkpoint(path: impl AsRef<Path>) -> Result<PathBuf> {
    let path = path.as_ref();
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    latest_checkpoint(path)?.ok_or_else(|| Error::NotFound(format!("{} holds no checkpoint", path.display())))
}

/// The tensors of a checkpoint (a file, a TF checkpoint prefix, or a directory's latest), sorted by name, read
/// from the header (a TF checkpoint's index) without loading the data. A header that does not describe the
/// file's size is an error: the file is truncated.
pub fn list_variables(path: impl AsRef<Path>) -> Result<Vec<CheckpointEntry>> {
    CheckpointReader::open(path)?.list()
}

/// The string metadata a slim checkpoint (a file, or a directory's latest) was saved with
/// ([`Saver::save_with_metadata`](super::Saver::save_with_metadata)): a provider's position under
/// [`Position::CHECKPOINT_KEY`](crate::data::Position::CHECKPOINT_KEY), say. TensorFlow and PyTorch checkpoints
/// have none (an empty map); slim's own checksums are not listed.
pub fn checkpoint_metadata(path: impl AsRef<Path>) -> Result<BTreeMap<String, String>> {
    let path = resolve_checkpoint(path)?;
    match Format::detect(&path) {
        (Format::SafeTensors, source) => safetensors_file::metadata(&source),
        _ => Ok(BTreeMap::new()),
    }
}

/// TF's `load_variable`: one tensor of a checkpoint in any format slim reads, in the file's own layout.
pub fn load_variable(path: impl AsRef<Path>, name: &str) -> Result<Tensor> {
    CheckpointReader::open(path)?.read(name)
}
