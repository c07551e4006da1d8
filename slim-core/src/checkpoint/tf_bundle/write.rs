//! Writing a TF V2 checkpoint as TensorFlow's `BundleWriter` does: one data shard holding every tensor's bytes
//! back to back, and the index table of the header and one entry per tensor (sorted by name), each file written
//! atomically.

use std::fs;
use std::path::{Path, PathBuf};

use prost::Message;
use tch::Tensor;

use super::table::build_table;
use super::{BundleEntry, BundleHeader, DTYPES, Dim, FILE_SUFFIXES, Shape, Version};
use crate::checkpoint::safetensors_file::tensor_bytes;
use crate::io::{io_error, masked_crc32c, write_atomically};
use crate::{Error, Result};

/// Writes `tensors` (in TF's layouts) as the checkpoint `prefix`: `prefix.data-00000-of-00001`, then
/// `prefix.index`, so that an index is only ever there beside its data. An empty or repeated name, or a kind TF
/// checkpoints cannot hold, is an error naming the tensor, and nothing is written.
pub(crate) fn write(prefix: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    let mut sorted: Vec<&(String, Tensor)> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(Error::invalid(&pair[0].0, "is named twice; a TF checkpoint holds each name once"));
    }
    let header = BundleHeader { num_shards: 1, endianness: 0, version: Some(Version { producer: 1 }) };
    let mut entries = vec![(Vec::new(), header.encode_to_vec())];
    let mut data = Vec::new();
    for (name, tensor) in sorted {
        if name.is_empty() {
            return Err(Error::invalid("TF checkpoint", "a tensor has an empty name (the header's key)"));
        }
        let kind = tensor.kind();
        let dtype =
            DTYPES.iter().find(|(_, known)| *known == kind).map(|(number, _)| *number).ok_or_else(|| {
                Error::invalid(name, format!("{kind:?} tensors cannot be written to a TF checkpoint"))
            })?;
        let bytes = tensor_bytes(name, &tensor.to_device(tch::Device::Cpu))?;
        let shape = Shape { dim: tensor.size().into_iter().map(|size| Dim { size }).collect() };
        let entry = BundleEntry {
            dtype,
            shape: Some(shape),
            shard_id: 0,
            offset: data.len() as i64,
            size: bytes.len() as i64,
            crc32c: masked_crc32c(&bytes),
        };
        data.extend_from_slice(&bytes);
        entries.push((name.as_bytes().to_vec(), entry.encode_to_vec()));
    }
    let with_suffix = |suffix: &str| PathBuf::from(format!("{}{suffix}", prefix.display()));
    let write_file = |path: &Path, bytes: &[u8]| {
        write_atomically(path, |tmp| fs::write(tmp, bytes).map_err(|e| io_error(path, "cannot write", e)))
    };
    let [index, data_shard] = FILE_SUFFIXES;
    write_file(&with_suffix(data_shard), &data)?;
    write_file(&with_suffix(index), &build_table(&entries))
}
