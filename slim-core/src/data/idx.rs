//! The IDX format of MNIST and Fashion-MNIST (optionally gzipped): a magic number giving the element type and
//! the number of dimensions, the dimensions as big-endian u32, then the data.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::{Error, Result};

/// An IDX file's unsigned-byte array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions (`[60000, 28, 28]` for MNIST's training images).
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<u8>,
}

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::Io { path: path.display().to_string(), message: message.into() }
}

/// Reads an IDX file of unsigned bytes, gunzipping it when it starts with gzip's magic number. A wrong magic
/// number, another element type, or fewer bytes than the dimensions promise is an error naming the file.
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let mut raw = Vec::new();
    File::open(path).and_then(|mut f| f.read_to_end(&mut raw)).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut inflated = Vec::new();
        GzDecoder::new(raw.as_slice())
            .read_to_end(&mut inflated)
            .map_err(|e| bad(path, format!("bad gzip data: {e}")))?;
        inflated
    } else {
        raw
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(path, "not an IDX file (wrong magic number)"));
    }
    if bytes[2] != 0x08 {
        return Err(bad(path, format!("IDX element type 0x{:02x} is not unsigned bytes (0x08)", bytes[2])));
    }
    let rank = bytes[3] as usize;
    let header = 4 + 4 * rank;
    let dims: Vec<usize> = bytes
        .get(4..header)
        .ok_or_else(|| bad(path, "truncated header"))?
        .chunks(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        .collect();
    let count: usize = dims.iter().product();
    let data = bytes.get(header..header + count).ok_or_else(|| {
        bad(path, format!("truncated: dimensions {dims:?} need {count} bytes, the file has {}", bytes.len() - header))
    })?;
    Ok(IdxArray { dims, data: data.to_vec() })
}
