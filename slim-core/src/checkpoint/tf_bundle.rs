//! Reading TensorFlow's V2 checkpoints (what TF-Slim's `Saver` writes): the `.index` file is a LevelDB-format
//! table mapping tensor names to `BundleEntryProto`s (dtype, shape, shard, offset, size, CRC-32C); the tensors'
//! bytes live in `.data-NNNNN-of-NNNNN` shards. Every checksum is verified. No TensorFlow is needed.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fs;
use std::path::{Path, PathBuf};

use prost::Message;
use tch::{Kind, Tensor};

use super::entry::{CheckpointEntry, dtype_name};
use crate::io::masked_crc32c_matches;
use crate::{Error, Result};

const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
const FOOTER_SIZE: usize = 48;

/// `tensorflow.BundleHeaderProto` (the fields slim reads).
#[derive(Clone, PartialEq, prost::Message)]
struct BundleHeader {
    #[prost(int32, tag = "1")]
    num_shards: i32,
    #[prost(int32, tag = "2")]
    endianness: i32,
}

/// `tensorflow.TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, prost::Message)]
struct Dim {
    #[prost(int64, tag = "1")]
    size: i64,
}

/// `tensorflow.TensorShapeProto`.
#[derive(Clone, PartialEq, prost::Message)]
struct Shape {
    #[prost(message, repeated, tag = "2")]
    dim: Vec<Dim>,
}

/// `tensorflow.BundleEntryProto` (the fields slim reads).
#[derive(Clone, PartialEq, prost::Message)]
struct BundleEntry {
    #[prost(int32, tag = "1")]
    dtype: i32,
    #[prost(message, optional, tag = "2")]
    shape: Option<Shape>,
    #[prost(int32, tag = "3")]
    shard_id: i32,
    #[prost(int64, tag = "4")]
    offset: i64,
    #[prost(int64, tag = "5")]
    size: i64,
    #[prost(fixed32, tag = "6")]
    crc32c: u32,
}

/// The `.index` file of a TF checkpoint prefix given as the prefix, the `.index` file, or a data shard; `None`
/// when `path` is not a TF checkpoint.
pub(crate) fn index_path(path: &Path) -> Option<PathBuf> {
    let text = path.to_string_lossy();
    if text.ends_with(".index") && path.is_file() {
        return Some(path.to_path_buf());
    }
    let prefix = match text.find(".data-") {
        Some(at) => text[..at].to_string(),
        None => text.to_string(),
    };
    let index = PathBuf::from(format!("{prefix}.index"));
    index.is_file().then_some(index)
}

fn corrupt(path: &Path, message: impl Into<String>) -> Error {
    Error::Io { path: path.display().to_string(), message: message.into() }
}

/// Reads a varint at `*at`, advancing it.
fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// A block of the table, its trailer (compression type, masked CRC-32C) checked.
fn block<'a>(path: &Path, file: &'a [u8], handle: (u64, u64)) -> Result<&'a [u8]> {
    let (offset, size) = (handle.0 as usize, handle.1 as usize);
    let end = offset
        .checked_add(size)
        .filter(|end| end.checked_add(5).is_some_and(|trailer_end| trailer_end <= file.len()))
        .ok_or_else(|| corrupt(path, "a block lies outside the file"))?;
    let (contents, kind) = (&file[offset..end], file[end]);
    let stored = u32::from_le_bytes([file[end + 1], file[end + 2], file[end + 3], file[end + 4]]);
    if !masked_crc32c_matches(&file[offset..=end], stored) {
        return Err(corrupt(path, format!("the block at offset {offset} fails its CRC-32C check")));
    }
    if kind != 0 {
        return Err(corrupt(path, format!("compressed table blocks (type {kind}) are not supported")));
    }
    Ok(contents)
}

/// The `(key, value)` entries of a block, keys rebuilt from their shared prefixes.
fn entries(path: &Path, block: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let bad = || corrupt(path, "a table block is malformed");
    let restarts =
        u32::from_le_bytes(block.get(block.len().saturating_sub(4)..).and_then(|b| b.try_into().ok()).ok_or_else(bad)?);
    let data_end = block.len().checked_sub(4 + 4 * restarts as usize).ok_or_else(bad)?;
    let (mut at, mut key, mut found) = (0, Vec::new(), Vec::new());
    while at < data_end {
        let shared = varint(block, &mut at).ok_or_else(bad)? as usize;
        let unshared = varint(block, &mut at).ok_or_else(bad)? as usize;
        let value_length = varint(block, &mut at).ok_or_else(bad)? as usize;
        let delta = block.get(at..at.checked_add(unshared).ok_or_else(bad)?).ok_or_else(bad)?;
        key.truncate(shared);
        key.extend_from_slice(delta);
        at += unshared;
        let value = block.get(at..at.checked_add(value_length).ok_or_else(bad)?).ok_or_else(bad)?;
        at += value_length;
        found.push((key.clone(), value.to_vec()));
    }
    Ok(found)
}

fn handle(path: &Path, bytes: &[u8], at: &mut usize) -> Result<(u64, u64)> {
    let bad = || corrupt(path, "a block handle is malformed");
    Ok((varint(bytes, at).ok_or_else(bad)?, varint(bytes, at).ok_or_else(bad)?))
}

fn kind_of(path: &Path, name: &str, dtype: i32) -> Result<Kind> {
    Ok(match dtype {
        1 => Kind::Float,
        2 => Kind::Double,
        3 => Kind::Int,
        4 => Kind::Uint8,
        5 => Kind::Int16,
        6 => Kind::Int8,
        9 => Kind::Int64,
        10 => Kind::Bool,
        14 => Kind::BFloat16,
        19 => Kind::Half,
        other => return Err(corrupt(path, format!("{name} has TF dtype {other}, which slim cannot read"))),
    })
}

/// The header and the `(name, entry)` records of a TF checkpoint's index file.
fn read_index(index: &Path) -> Result<(BundleHeader, Vec<(String, BundleEntry)>)> {
    let file = fs::read(index).map_err(|e| corrupt(index, format!("cannot read: {e}")))?;
    if file.len() < FOOTER_SIZE {
        return Err(corrupt(index, "too short to be a TF checkpoint index"));
    }
    let footer = &file[file.len() - FOOTER_SIZE..];
    if u64::from_le_bytes(footer[40..].try_into().unwrap_or_default()) != TABLE_MAGIC {
        return Err(corrupt(index, "not a TF checkpoint index (wrong magic number)"));
    }
    let mut at = 0;
    let _metaindex = handle(index, footer, &mut at)?;
    let index_handle = handle(index, footer, &mut at)?;
    let mut records = Vec::new();
    for (_, value) in entries(index, block(index, &file, index_handle)?)? {
        let data_handle = handle(index, &value, &mut 0)?;
        records.extend(entries(index, block(index, &file, data_handle)?)?);
    }
    let mut header = None;
    let mut tensors = Vec::new();
    for (key, value) in records {
        if key.is_empty() {
            header =
                Some(BundleHeader::decode(value.as_slice()).map_err(|e| corrupt(index, format!("bad header: {e}")))?);
            continue;
        }
        let name = String::from_utf8_lossy(&key).to_string();
        let entry =
            BundleEntry::decode(value.as_slice()).map_err(|e| corrupt(index, format!("bad entry for {name}: {e}")))?;
        tensors.push((name, entry));
    }
    let header = header.ok_or_else(|| corrupt(index, "the index has no bundle header"))?;
    if header.endianness != 0 {
        return Err(corrupt(index, "big-endian checkpoints are not supported"));
    }
    Ok((header, tensors))
}

/// The tensors of a TF checkpoint, from its index alone.
pub(crate) fn list(index: &Path) -> Result<Vec<CheckpointEntry>> {
    let (_, tensors) = read_index(index)?;
    tensors
        .into_iter()
        .map(|(name, entry)| {
            let dtype = dtype_name(kind_of(index, &name, entry.dtype)?);
            let shape = entry.shape.map(|s| s.dim.iter().map(|d| d.size).collect()).unwrap_or_default();
            Ok(CheckpointEntry { name, shape, dtype })
        })
        .collect()
}

/// Every tensor of the TF checkpoint whose index file is `index`, in TF's layouts, sorted by name.
pub(crate) fn read(index: &Path) -> Result<Vec<(String, Tensor)>> {
    let (header, tensors) = read_index(index)?;
    let prefix = index.to_string_lossy().trim_end_matches(".index").to_string();
    // Shards are read as tensors name them: the header's count only bounds their numbers (it is the file's word,
    // not an allocation size).
    let num_shards = header.num_shards.max(1);
    let mut shards: BTreeMap<i32, Vec<u8>> = BTreeMap::new();
    let mut read = Vec::with_capacity(tensors.len());
    for (name, entry) in tensors {
        let shard = entry.shard_id;
        if !(0..num_shards).contains(&shard) {
            return Err(corrupt(index, format!("{name} names shard {shard} of {}", header.num_shards)));
        }
        let data_path = PathBuf::from(format!("{prefix}.data-{shard:05}-of-{num_shards:05}"));
        let data = match shards.entry(shard) {
            Entry::Occupied(loaded) => loaded.into_mut(),
            Entry::Vacant(slot) => {
                slot.insert(fs::read(&data_path).map_err(|e| corrupt(&data_path, format!("cannot read: {e}")))?)
            }
        };
        let (start, size) = (entry.offset as usize, entry.size as usize);
        let bytes = start
            .checked_add(size)
            .and_then(|end| data.get(start..end))
            .ok_or_else(|| corrupt(&data_path, format!("{name} lies outside the shard (truncated?)")))?;
        if !masked_crc32c_matches(bytes, entry.crc32c) {
            return Err(corrupt(&data_path, format!("{name} fails its CRC-32C check")));
        }
        let kind = kind_of(index, &name, entry.dtype)?;
        let shape: Vec<i64> = entry.shape.map(|s| s.dim.iter().map(|d| d.size).collect()).unwrap_or_default();
        let expected = shape.iter().try_fold(kind.elt_size_in_bytes(), |bytes, &dim| {
            usize::try_from(dim).ok().and_then(|dim| bytes.checked_mul(dim))
        });
        if expected != Some(size) {
            let expected = expected.map_or("more bytes than can be addressed".to_string(), |n| format!("{n} bytes"));
            return Err(corrupt(index, format!("{name}: shape {shape:?} needs {expected}, the entry holds {size}")));
        }
        read.push((name, Tensor::from_data_size(bytes, &shape, kind)));
    }
    read.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(read)
}
