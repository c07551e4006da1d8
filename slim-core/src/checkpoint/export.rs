//! Exporting a checkpoint under other names, as a safetensors state dict other frameworks read.

use std::path::Path;

use tch::Tensor;

use super::format::Format;
use super::reader::CheckpointReader;
use crate::Result;
use crate::io::write_atomically;

/// Writes the tensors of the checkpoint at `checkpoint` (any format slim reads; a directory's latest) to a
/// safetensors file at `output`, atomically, each under `rename(name)`; entries renamed to `None` (the global
/// step, optimizer slots) are left out. With a map back to PyTorch's names, the file is a state dict PyTorch's
/// `safetensors.torch.load_file` reads. Returns how many tensors were written.
pub fn export_checkpoint(
    checkpoint: impl AsRef<Path>,
    output: impl AsRef<Path>,
    rename: impl Fn(&str) -> Option<String>,
) -> Result<usize> {
    let entries = CheckpointReader::open(checkpoint)?.read_all()?;
    let renamed: Vec<(String, Tensor)> =
        entries.into_iter().filter_map(|(name, tensor)| rename(&name).map(|new| (new, tensor))).collect();
    write_atomically(output.as_ref(), |tmp| Format::SafeTensors.write(tmp, &renamed, &Default::default()))?;
    Ok(renamed.len())
}
