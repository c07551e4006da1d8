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
    // Each shard with the bytes its tensors have taken so far: a real shard holds each tensor once, so entries
    // that overlap (and would copy the same bytes again) take more than the shard has.
    let mut shards: BTreeMap<i32, (Vec<u8>, usize)> = BTreeMap::new();
    let mut read = Vec::with_capacity(tensors.len());
    for (name, entry) in tensors {
        let shard = entry.shard_id;
        if !(0..num_shards).contains(&shard) {
            return Err(corrupt(index, format!("{name} names shard {shard} of {}", header.num_shards)));
        }
        let data_path = PathBuf::from(format!("{prefix}.data-{shard:05}-of-{num_shards:05}"));
        let (data, taken) = match shards.entry(shard) {
            Entry::Occupied(loaded) => loaded.into_mut(),
            Entry::Vacant(slot) => {
                let bytes = fs::read(&data_path).map_err(|e| corrupt(&data_path, format!("cannot read: {e}")))?;
                slot.insert((bytes, 0))
            }
        };
        let outside = || corrupt(&data_path, format!("{name} lies outside the shard (truncated?)"));
        let (start, size) = (usize::try_from(entry.offset), usize::try_from(entry.size));
        let (start, size) = (start.map_err(|_| outside())?, size.map_err(|_| outside())?);
        let bytes = start.checked_add(size).and_then(|end| data.get(start..end)).ok_or_else(outside)?;
        *taken = taken.checked_add(size).filter(|total| *total <= data.len()).ok_or_else(|| {
            corrupt(
                &data_path,
                format!("{name} overlaps tensors read before: the entries claim more than the shard holds"),
            )
        })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::tf_bundle::table::build_table;
    use crate::checkpoint::tf_bundle::write;

    /// An index whose entries point at the same bytes of the shard (each would be copied again) is refused once
    /// the tensors read would take more than the shard holds.
    #[test]
    fn entries_overlapping_in_the_shard_are_refused() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("slim-tf-overlap-{}", std::process::id()));
        fs::create_dir_all(&dir).map_err(|e| corrupt(&dir, e.to_string()))?;
        let prefix = dir.join("model.ckpt");
        let tensor = |value: f64| Tensor::full([64], value, (Kind::Float, tch::Device::Cpu));
        write(&prefix, &[("a".to_string(), tensor(1.0)), ("b".to_string(), tensor(2.0))])?;
        let index = dir.join("model.ckpt.index");
        assert_eq!(read(&index)?.len(), 2);
        let (header, mut tensors) = read_index(&index)?;
        let first = tensors[0].1.clone();
        tensors[1].1 = first.clone(); // "b" and a new "c" name "a"'s bytes: 3 × 256 bytes of a 512-byte shard
        tensors.push(("c".to_string(), first));
        let mut entries = vec![(Vec::new(), header.encode_to_vec())];
        entries.extend(tensors.iter().map(|(name, entry)| (name.as_bytes().to_vec(), entry.encode_to_vec())));
        fs::write(&index, build_table(&entries)).map_err(|e| corrupt(&index, e.to_string()))?;
        let message = read(&index).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("c overlaps tensors read before"), "{message}");
        let _ = fs::remove_dir_all(&dir);
        Ok(())
    }
}
