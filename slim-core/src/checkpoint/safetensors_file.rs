//! safetensors files, slim's own checkpoint format (and PyTorch's `safetensors.torch` state dicts): an 8-byte
//! header length, a JSON header naming each tensor's dtype, shape and byte range, then the bytes.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use tch::Tensor;

use super::entry::CheckpointEntry;
use crate::error::TorchContext;
use crate::io::io_error;
use crate::{Error, Result};

/// The longest JSON header slim reads (safetensors' own readers refuse larger ones too).
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// The tensors a safetensors file lists, from its header alone, in the header's order. A header that does not
/// account for the file's size is an error: the file is truncated or damaged.
pub(crate) fn list(path: &Path) -> Result<Vec<CheckpointEntry>> {
    let corrupt = |message: String| Error::Io { path: path.display().to_string(), message };
    let mut file = File::open(path).map_err(|e| io_error(path, "cannot open", e))?;
    let file_size = file.metadata().map_err(|e| io_error(path, "cannot read its size", e))?.len();
    let mut length = [0u8; 8];
    file.read_exact(&mut length).map_err(|_| corrupt("too short to be a checkpoint".into()))?;
    let header_size = u64::from_le_bytes(length);
    if header_size > MAX_HEADER_BYTES || header_size + 8 > file_size {
        return Err(corrupt(format!("not a safetensors checkpoint (header size {header_size})")));
    }
    let mut header = vec![0u8; header_size as usize];
    file.read_exact(&mut header).map_err(|e| io_error(path, "cannot read the header", e))?;
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
    Ok(entries)
}

/// Every tensor of a safetensors file.
pub(crate) fn read(path: &Path) -> Result<Vec<(String, Tensor)>> {
    Tensor::read_safetensors(path)
        .map_err(|e| Error::Io { path: path.display().to_string(), message: format!("not a readable checkpoint: {e}") })
}

/// Writes `tensors` as a safetensors file at `path` (not atomically: callers write a temporary file).
pub(crate) fn write(path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    Tensor::write_safetensors(tensors, path).context(&path.display().to_string())
}
