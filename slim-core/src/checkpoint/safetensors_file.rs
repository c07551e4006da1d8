//! safetensors files, slim's own checkpoint format (and PyTorch's `safetensors.torch` state dicts): an 8-byte
//! header length, a JSON header naming each tensor's dtype, shape and byte range, then the bytes. slim records
//! each tensor's CRC-32C in the header's metadata and checks it on every read, so flipped bits are an error
//! naming the tensor rather than weights loaded silently; files without checksums (PyTorch's) are read as they
//! are.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use tch::{Kind, Tensor};

use super::entry::CheckpointEntry;
use crate::error::TorchContext;
use crate::io::io_error;
use crate::{Error, Result};

/// The longest JSON header slim reads (safetensors' own readers refuse larger ones too).
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// The metadata key under which slim records the checksums: a JSON object of tensor name → CRC-32C.
const CHECKSUMS_KEY: &str = "slim.crc32c";

/// What a file's header says: its tensors, in the header's order, the checksums slim recorded, if any, and the
/// rest of its string metadata.
struct Header {
    entries: Vec<CheckpointEntry>,
    checksums: Option<HashMap<String, u32>>,
    metadata: BTreeMap<String, String>,
}

/// The tensors a safetensors file lists, from its header alone, in the header's order. A header that does not
/// account for the file's size is an error: the file is truncated or damaged.
pub(crate) fn list(path: &Path) -> Result<Vec<CheckpointEntry>> {
    Ok(read_header(path)?.entries)
}

fn read_header(path: &Path) -> Result<Header> {
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
    let described = (8 + header_size).checked_add(data_end);
    if described != Some(file_size) {
        let described = described.map_or("more than 2^64".to_string(), |bytes| bytes.to_string());
        return Err(corrupt(format!(
            "truncated or damaged: the header describes {described} bytes, the file has {file_size}"
        )));
    }
    let checksums = tensors.get("__metadata__").and_then(|metadata| metadata.get(CHECKSUMS_KEY));
    let checksums = checksums
        .map(|text| parse_checksums(text).ok_or_else(|| corrupt(format!("its {CHECKSUMS_KEY} metadata is malformed"))))
        .transpose()?;
    let mut metadata = BTreeMap::new();
    if let Some(entries) = tensors.get("__metadata__").and_then(|metadata| metadata.as_object()) {
        for (key, value) in entries.iter().filter(|(key, _)| key.as_str() != CHECKSUMS_KEY) {
            let value = value.as_str().ok_or_else(|| corrupt(format!("its metadata {key:?} is not a string")))?;
            metadata.insert(key.clone(), value.to_string());
        }
    }
    Ok(Header { entries, checksums, metadata })
}

/// The string metadata of a safetensors file's header (slim's checksums left out): what a saver recorded
/// beside the tensors, such as a provider's position.
pub(crate) fn metadata(path: &Path) -> Result<BTreeMap<String, String>> {
    Ok(read_header(path)?.metadata)
}

/// The checksums recorded as a JSON string holding an object of name → number.
fn parse_checksums(text: &serde_json::Value) -> Option<HashMap<String, u32>> {
    let object: serde_json::Value = serde_json::from_str(text.as_str()?).ok()?;
    let object = object.as_object()?;
    object.iter().map(|(name, crc)| Some((name.clone(), u32::try_from(crc.as_u64()?).ok()?))).collect()
}

/// Every tensor of a safetensors file; with slim's checksums, each checked against its bytes.
pub(crate) fn read(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let header = read_header(path)?;
    let tensors = Tensor::read_safetensors(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: format!("not a readable checkpoint: {e}"),
    })?;
    if let Some(checksums) = &header.checksums {
        for (name, tensor) in &tensors {
            let recorded = checksums.get(name).copied();
            let actual = crc32c::crc32c(&tensor_bytes(name, tensor)?);
            if recorded != Some(actual) {
                return Err(Error::Io {
                    path: path.display().to_string(),
                    message: format!(
                        "damaged: the bytes of {name} do not match the checksum written with them (CRC-32C \
                         {actual:08x}, recorded {})",
                        recorded.map_or("none".to_string(), |crc| format!("{crc:08x}"))
                    ),
                });
            }
        }
    }
    Ok(tensors)
}

/// Writes `tensors` as a safetensors file at `path` with each one's CRC-32C and `metadata` in the header (not
/// atomically: callers write a temporary file). A metadata key that is slim's checksums' is an error.
pub(crate) fn write(path: &Path, tensors: &[(String, Tensor)], metadata: &BTreeMap<String, String>) -> Result<()> {
    if metadata.contains_key(CHECKSUMS_KEY) {
        return Err(Error::invalid(
            path.display().to_string(),
            format!("the metadata key {CHECKSUMS_KEY} is slim's own"),
        ));
    }
    let context = path.display().to_string();
    let mut laid_out = Vec::with_capacity(tensors.len());
    let mut checksums = serde_json::Map::new();
    for (name, tensor) in tensors {
        let dtype = dtype_of(tensor.kind()).ok_or_else(|| {
            Error::invalid(name, format!("{:?} tensors cannot be written to a checkpoint", tensor.kind()))
        })?;
        let shape: Vec<usize> = tensor.size().iter().map(|&d| d as usize).collect();
        let bytes = tensor_bytes(name, tensor)?;
        checksums.insert(name.clone(), crc32c::crc32c(&bytes).into());
        laid_out.push((name.as_str(), dtype, shape, bytes));
    }
    let views = laid_out
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            Ok((
                *name,
                TensorView::new(*dtype, shape.clone(), bytes).map_err(|e| Error::invalid(*name, e.to_string()))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut header: HashMap<String, String> = metadata.clone().into_iter().collect();
    header.insert(CHECKSUMS_KEY.to_string(), serde_json::Value::Object(checksums).to_string());
    safetensors::tensor::serialize_to_file(views, &Some(header), path)
        .map_err(|e| Error::Io { path: context, message: format!("cannot write the checkpoint: {e}") })
}

/// A tensor's elements as the file holds them: contiguous, little-endian (as in memory on the hosts slim runs on).
pub(super) fn tensor_bytes(name: &str, tensor: &Tensor) -> Result<Vec<u8>> {
    let tensor = tensor.f_contiguous().context(name)?;
    let numel = tensor.numel();
    let mut bytes = vec![0u8; numel * tensor.kind().elt_size_in_bytes()];
    tensor.f_copy_data_u8(&mut bytes, numel).context(name)?;
    Ok(bytes)
}

/// The safetensors dtype of a tensor kind slim may save.
fn dtype_of(kind: Kind) -> Option<Dtype> {
    Some(match kind {
        Kind::Float => Dtype::F32,
        Kind::Double => Dtype::F64,
        Kind::Half => Dtype::F16,
        Kind::BFloat16 => Dtype::BF16,
        Kind::Int64 => Dtype::I64,
        Kind::Int => Dtype::I32,
        Kind::Int16 => Dtype::I16,
        Kind::Int8 => Dtype::I8,
        Kind::Uint8 => Dtype::U8,
        Kind::Bool => Dtype::BOOL,
        _ => return None,
    })
}
