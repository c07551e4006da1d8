//! What a checkpoint lists for one tensor: its name, shape and element type.

use tch::Kind;

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

impl CheckpointEntry {
    /// The entry of a tensor held in memory.
    pub(crate) fn of_tensor(name: String, tensor: &tch::Tensor) -> Self {
        CheckpointEntry { shape: tensor.size(), dtype: dtype_name(tensor.kind()), name }
    }
}

/// safetensors' name of a tensor kind (`F32`, `I64`, …).
pub(crate) fn dtype_name(kind: Kind) -> String {
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
