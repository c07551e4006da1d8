//! Reading a TF V2 checkpoint: its index table's header and entries, then each tensor from its data shard, every
//! checksum verified.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fs;
use std::path::{Path, PathBuf};

use prost::Message;
use tch::{Kind, Tensor};

use super::table::read_table;
use super::{BundleEntry, BundleHeader, DTYPES};
use crate::checkpoint::entry::{CheckpointEntry, dtype_name};
use crate::io::masked_crc32c_matches;
use crate::{Error, Result};

fn corrupt(path: &Path, message: impl Into<String>) -> Error {
    Error::Io { path: path.display().to_string(), message: message.into() }
}

fn kind_of(path: &Path, name: &str, dtype: i32) -> Result<Kind> {
    let known = DTYPES.iter().find(|(number, _)| *number == dtype).map(|(_, kind)| *kind);
    known.ok_or_else(|| corrupt(path, format!("{name} has TF dtype {dtype}, which slim cannot read")))
}

/// The header and the `(name, entry)` records of a TF checkpoint's index file.
fn read_index(index: &Path) -> Result<(BundleHeader, Vec<(String, BundleEntry)>)> {
    let file = fs::read(index).map_err(|e| corrupt(index, format!("cannot read: {e}")))?;
    let records = read_table(index, &file)?;
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
        let outside = || corrupt(&data_path, format!("{name} lies outside the shard (truncated?)"));
        let (start, size) = (usize::try_from(entry.offset), usize::try_from(entry.size));
        let (start, size) = (start.map_err(|_| outside())?, size.map_err(|_| outside())?);
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
