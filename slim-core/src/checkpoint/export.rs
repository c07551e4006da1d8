//! Exporting a checkpoint under other names and in another format: a safetensors state dict other frameworks
//! read, or a TF V2 checkpoint TensorFlow and TF-Slim read, the weights' layouts converted on the way.

use std::path::Path;

use tch::Tensor;

use super::format::Format;
use super::reader::CheckpointReader;
use super::tf_bundle;
use crate::{Error, Result};

/// Writes the tensors of the checkpoint at `checkpoint` (any format slim reads; a directory's latest) as a new
/// checkpoint in `format` at `output`, each under `rename(name)`; entries renamed to `None` (the global step,
/// optimizer slots) are left out. Weights are converted to the format's layout by their names
/// ([`Layout`](super::Layout): convolutions HWIO ↔ OIHW, fully connected `[in, out]` ↔ `[out, in]`, depthwise
/// `[kh, kw, in, mult]` ↔ `[in·mult, 1, kh, kw]`, written to TF with a multiplier of 1). `Format::SafeTensors`
/// writes one file (with a map back to PyTorch's names, a state dict that `safetensors.torch.load_file` reads);
/// `Format::TfBundle` writes `output.index` and `output.data-00000-of-00001` (`output` is the prefix TF's
/// `tf.train.load_checkpoint` takes); `torch.save` archives are not written. An output that exists is
/// refused, and nothing is overwritten. Returns how many tensors were written.
pub fn export_checkpoint(
    checkpoint: impl AsRef<Path>,
    output: impl AsRef<Path>,
    format: Format,
    rename: impl Fn(&str) -> Option<String>,
) -> Result<usize> {
    let output = output.as_ref();
    let taken = match format {
        Format::TfBundle => tf_bundle::FILE_SUFFIXES
            .iter()
            .map(|suffix| Path::new(&format!("{}{suffix}", output.display())).to_path_buf())
            .find(|path| path.exists()),
        _ => Some(output.to_path_buf()).filter(|path| path.exists()),
    };
    if let Some(taken) = taken {
        return Err(Error::Io {
            path: taken.display().to_string(),
            message: "exists already; export_checkpoint writes only new files (remove it first)".into(),
        });
    }
    let reader = CheckpointReader::open(checkpoint)?;
    let from = reader.layout();
    let renamed: Vec<(String, Tensor)> = reader
        .read_all()?
        .into_iter()
        .filter_map(|(name, tensor)| {
            let new = rename(&name)?;
            Some((new, from.convert(format.layout(), &name, &tensor)))
        })
        .collect();
    format.write(output, &renamed, &Default::default())?;
    Ok(renamed.len())
}
