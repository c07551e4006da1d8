//! Exporting a checkpoint under other names and in another format: a safetensors state dict other frameworks
//! read (under a [`StateDictMap`]'s names and shapes), or a TF V2 checkpoint TensorFlow and TF-Slim read, the
//! weights' layouts converted on the way.

use std::collections::BTreeMap;
use std::path::Path;

use tch::{Device, Kind, Tensor};

use super::format::Format;
use super::layout::Layout;
use super::reader::CheckpointReader;
use super::state_dict_map::StateDictMap;
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
    refuse_existing(output, format)?;
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

/// Writes the checkpoint at `checkpoint` (any format slim reads) as a PyTorch state dict in safetensors at
/// `output`, exactly as `map` describes theirs: each mapped variable under their name, in PyTorch's layout
/// (converted from TF's when the checkpoint is a TF one), flattened to `[out, rest]` where theirs is a matrix,
/// plus their counters as int64 zeros. Nothing else is written (the global step, optimizer slots), so
/// `model.load_state_dict(safetensors.torch.load_file(output), strict=True)` accepts it when the map is
/// complete (`slim::nets::torchvision_vgg_map` and `torchvision_resnet_map` are). A variable the map names that
/// the checkpoint lacks is an error naming every one missing; an output that exists is refused. Returns how
/// many tensors were written.
pub fn export_state_dict(checkpoint: impl AsRef<Path>, output: impl AsRef<Path>, map: &StateDictMap) -> Result<usize> {
    let output = output.as_ref();
    refuse_existing(output, Format::SafeTensors)?;
    let reader = CheckpointReader::open(checkpoint)?;
    let from = reader.layout();
    let mut tensors: BTreeMap<String, Tensor> = reader.read_all()?.into_iter().collect();
    let missing: Vec<&str> =
        map.names().iter().filter(|name| !tensors.contains_key(&name.slim)).map(|n| n.slim.as_str()).collect();
    if !missing.is_empty() {
        return Err(Error::NotFound(format!(
            "{}: lacks {} variable(s) the state dict map names: {}",
            reader.path().display(),
            missing.len(),
            missing.join(", ")
        )));
    }
    let mut state = Vec::with_capacity(map.names().len() + map.counters().len());
    for name in map.names() {
        let Some(value) = tensors.remove(&name.slim) else { continue };
        let value = from.convert(Layout::Torch, &name.slim, &value);
        let value = match name.matrix {
            true => value.f_reshape([value.size().first().copied().unwrap_or(1), -1])?,
            false => value,
        };
        state.push((name.theirs.clone(), value));
    }
    for counter in map.counters() {
        state.push((counter.clone(), Tensor::zeros([], (Kind::Int64, Device::Cpu))));
    }
    Format::SafeTensors.write(output, &state, &Default::default())?;
    Ok(state.len())
}

/// An error naming the first of `output`'s files in `format` that exists already.
fn refuse_existing(output: &Path, format: Format) -> Result<()> {
    let taken = match format {
        Format::TfBundle => tf_bundle::FILE_SUFFIXES
            .iter()
            .map(|suffix| Path::new(&format!("{}{suffix}", output.display())).to_path_buf())
            .find(|path| path.exists()),
        _ => Some(output.to_path_buf()).filter(|path| path.exists()),
    };
    match taken {
        Some(taken) => Err(Error::Io {
            path: taken.display().to_string(),
            message: "exists already; export writes only new files (remove it first)".into(),
        }),
        None => Ok(()),
    }
}
