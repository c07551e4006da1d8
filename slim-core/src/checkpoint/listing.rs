//! Listing a checkpoint's tensors from its header alone, and resolving a directory to its latest checkpoint.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::atomic::io_error;
use super::saver::latest_checkpoint;
use crate::{Error, Result};

/// One tensor of a checkpoint file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointEntry {
    /// The tensor's name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<i64>,
    /// Its element type as safetensors names it (`F32`, `I64`, …).
    pub dtype: String,
}

/// safetensors' name of a tensor kind (`F32`, `I64`, …).
pub(crate) fn dtype_name(kind: tch::Kind) -> String {
    use tch::Kind;
    let name = match kind {
        Kind::Float => "F32",
        Kind::Double => "F64",
        Kind::Int => "I32",
        Kind::Uint8 => "U8",
        Kind::Int16 => "I16",
        Kind::Int8 => "I8",
        Kind::Int64 => "I64",
        Kind::Bool => "BOOL",
        Kind::BFloat16 => "BF16",
        Kind::Half => "F16",
        other => return format!("{other:?}"),
    };
    name.to_string()
}

/// `path` itself when it is a file; the latest checkpoint when it is a directory.
pub fn resolve_checkpoint(path: impl AsRef<Path>) -> Result<PathBuf> {
    let path = path.as_ref();
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    latest_checkpoint(path)?.ok_or_else(|| Error::NotFound(format!("{} holds no checkpoint", path.display())))
}

/// The tensors of a checkpoint (a file, a TF checkpoint prefix, or a directory's latest), sorted by name, read
/// from the header (a TF checkpoint's index) without loading the data. A header that does not describe the file's size is an error: the file is truncated.
pub fn list_variables(path: impl AsRef<Path>) -> Result<Vec<CheckpointEntry>> {
    let path = resolve_checkpoint(path)?;
    if let Some(index) = super::tf_bundle::tf_index_path(&path) {
        let listed = super::tf_bundle::list_tf_checkpoint(&index)?;
        let mut entries: Vec<CheckpointEntry> =
            listed.into_iter().map(|(name, shape, dtype)| CheckpointEntry { name, shape, dtype }).collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        return Ok(entries);
    }
    if super::torch_file::is_torch_zip(&path) {
        // A pickle can only be understood by running it: this reads the tensors too.
        let tensors = super::torch_file::read_torch_file(&path)?;
        return Ok(tensors
            .into_iter()
            .map(|(name, t)| CheckpointEntry { shape: t.size(), dtype: dtype_name(t.kind()), name })
            .collect());
    }
    let corrupt = |message: String| Error::Io { path: path.display().to_string(), message };
    let mut file = File::open(&path).map_err(|e| io_error(&path, "cannot open", e))?;
    let file_size = file.metadata().map_err(|e| io_error(&path, "cannot read its size", e))?.len();
    let mut length = [0u8; 8];
    file.read_exact(&mut length).map_err(|_| corrupt("too short to be a checkpoint".into()))?;
    let header_size = u64::from_le_bytes(length);
    if header_size > 100_000_000 || header_size + 8 > file_size {
        return Err(corrupt(format!("not a safetensors checkpoint (header size {header_size})")));
    }
    let mut header = vec![0u8; header_size as usize];
    file.read_exact(&mut header).map_err(|e| io_error(&path, "cannot read the header", e))?;
    let header: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| corrupt(format!("the header is not valid JSON: {e}")))?;
    let tensors = header.as_object().ok_or_else(|| corrupt("the header is not a JSON object".into()))?;
    let mut entries = Vec::with_capacity(tensors.len());
    let mut data_end = 0u64;
    for (name, info) in tensors.iter().filter(|(name, _)| name.as_str() != "__metadata__") {
        let bad = || corrupt(format!("the header's entry for {name} is malformed"));
        let dtype = info.get("dtype").and_then(|d| d.as_str()).ok_or_else(bad)?.to_string();
        let shape = info.get("shape").and_then(|s| s.as_array()).ok_or_else(bad)?;
        let shape = shape.iter().map(|d| d.as_i64().ok_or_else(bad)).collect::<Result<Vec<_>>>()?;
        let end = info.get("data_offsets").and_then(|o| o.get(1)).and_then(|e| e.as_u64()).ok_or_else(bad)?;
        data_end = data_end.max(end);
        entries.push(CheckpointEntry { name: name.clone(), shape, dtype });
    }
    if 8 + header_size + data_end != file_size {
        return Err(corrupt(format!(
            "truncated or damaged: the header describes {} bytes, the file has {file_size}",
            8 + header_size + data_end
        )));
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}
