//! TensorFlow's V2 checkpoints (what TF-Slim's `Saver` writes), read and written without TensorFlow: the
//! `.index` file is a LevelDB-format table mapping tensor names to `BundleEntryProto`s (dtype, shape, shard,
//! offset, size, CRC-32C) under a `BundleHeaderProto`; the tensors' bytes live in `.data-NNNNN-of-NNNNN` shards.

mod read;
mod table;
mod write;

use std::path::{Path, PathBuf};

use tch::Kind;

pub(crate) use read::{list, read};
pub(crate) use write::write;

/// The files of a TF checkpoint slim writes, after its prefix: the index, then its one data shard.
pub(crate) const FILE_SUFFIXES: [&str; 2] = [".index", ".data-00000-of-00001"];

/// `tensorflow.VersionDef` (the producer version a bundle header carries).
#[derive(Clone, PartialEq, prost::Message)]
struct Version {
    #[prost(int32, tag = "1")]
    producer: i32,
}

/// `tensorflow.BundleHeaderProto`.
#[derive(Clone, PartialEq, prost::Message)]
struct BundleHeader {
    #[prost(int32, tag = "1")]
    num_shards: i32,
    #[prost(int32, tag = "2")]
    endianness: i32,
    #[prost(message, optional, tag = "3")]
    version: Option<Version>,
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

/// `tensorflow.BundleEntryProto` (the fields of a tensor stored whole).
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

/// TF's `DataType` numbers of the tensor kinds slim reads and writes.
const DTYPES: [(i32, Kind); 10] = [
    (1, Kind::Float),
    (2, Kind::Double),
    (3, Kind::Int),
    (4, Kind::Uint8),
    (5, Kind::Int16),
    (6, Kind::Int8),
    (9, Kind::Int64),
    (10, Kind::Bool),
    (14, Kind::BFloat16),
    (19, Kind::Half),
];

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
