//! The checkpoint formats slim reads, told apart by their contents, each with its list, read and write.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use tch::Tensor;

use super::entry::CheckpointEntry;
use super::layout::Layout;
use super::{safetensors_file, tf_bundle, torch_file};
use crate::io::write_atomically;
use crate::{Error, Result};

/// A checkpoint file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// safetensors: slim's own checkpoints and PyTorch's `safetensors.torch` state dicts.
    SafeTensors,
    /// TensorFlow's V2 checkpoints (TF-Slim's): a prefix with an `.index` table and `.data-NNNNN-of-NNNNN`
    /// shards.
    TfBundle,
    /// PyTorch's `torch.save` zip archives (`.pt`, `.pth`, `.bin`) holding a state dict.
    TorchZip,
}

impl Format {
    /// The format of the checkpoint at `path` (for a TF checkpoint: its prefix, its `.index` file or a data
    /// shard), and the file to read it from (a TF checkpoint's index). A file that is neither a TF checkpoint
    /// nor a zip archive is taken for safetensors, whose reader then says whether it is one.
    pub fn detect(path: &Path) -> (Format, PathBuf) {
        if let Some(index) = tf_bundle::index_path(path) {
            return (Format::TfBundle, index);
        }
        match torch_file::is_zip(path) {
            true => (Format::TorchZip, path.to_path_buf()),
            false => (Format::SafeTensors, path.to_path_buf()),
        }
    }

    /// How this format lays out weights.
    pub fn layout(self) -> Layout {
        match self {
            Format::TfBundle => Layout::Tf,
            Format::SafeTensors | Format::TorchZip => Layout::Torch,
        }
    }

    /// The tensors the file at `path` holds (as [`Format::detect`] returned it), in the file's order. Reads
    /// headers only, except for `torch.save` archives: a pickle is understood only by running it.
    pub(crate) fn list(self, path: &Path) -> Result<Vec<CheckpointEntry>> {
        match self {
            Format::SafeTensors => safetensors_file::list(path),
            Format::TfBundle => tf_bundle::list(path),
            Format::TorchZip => {
                let tensors = torch_file::read(path)?;
                Ok(tensors.into_iter().map(|(name, tensor)| CheckpointEntry::of_tensor(name, &tensor)).collect())
            }
        }
    }

    /// Every tensor of the file at `path` (as [`Format::detect`] returned it), in the format's own layout.
    pub(crate) fn read(self, path: &Path) -> Result<Vec<(String, Tensor)>> {
        match self {
            Format::SafeTensors => safetensors_file::read(path),
            Format::TfBundle => tf_bundle::read(path),
            Format::TorchZip => torch_file::read(path),
        }
    }

    /// Writes `tensors` (in this format's layout) and string `metadata` in this format to `path`, atomically: a
    /// safetensors file, or a TF checkpoint with `path` as its prefix (each of its two files atomically, the
    /// data before the index; without the metadata, which TF's format has no place for). `torch.save` archives
    /// are read-only, which the error says.
    pub(crate) fn write(
        self,
        path: &Path,
        tensors: &[(String, Tensor)],
        metadata: &BTreeMap<String, String>,
    ) -> Result<()> {
        match self {
            Format::SafeTensors => write_atomically(path, |tmp| safetensors_file::write(tmp, tensors, metadata)),
            Format::TfBundle => tf_bundle::write(path, tensors),
            Format::TorchZip => Err(Error::invalid(
                path.display().to_string(),
                format!("slim reads {self} checkpoints but cannot write them"),
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::SafeTensors => "safetensors",
            Format::TfBundle => "TensorFlow V2",
            Format::TorchZip => "torch.save",
        })
    }
}
