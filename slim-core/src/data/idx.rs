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

/// Deflate's largest expansion: no gzip stream decompresses to more than this many bytes per compressed byte.
const MAX_GZIP_RATIO: usize = 1032;

/// Reads an IDX file of unsigned bytes, gunzipping it when it starts with gzip's magic number. A wrong magic
/// number, another element type, dimensions whose product overflows or exceeds what the file can hold (after
/// decompression, at deflate's largest ratio), or fewer bytes than the dimensions promise is an error naming the
/// file; nothing is allocated for the data before its size is checked, and a gzipped file is decompressed only
/// as far as its dimensions say.
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let mut raw = Vec::new();
    File::open(path).and_then(|mut f| f.read_to_end(&mut raw)).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    let gzipped = raw.starts_with(&[0x1f, 0x8b]);
    let most = if gzipped { raw.len().saturating_mul(MAX_GZIP_RATIO) } else { raw.len() };
    let mut reader: Box<dyn Read + '_> =
        if gzipped { Box::new(GzDecoder::new(raw.as_slice())) } else { Box::new(raw.as_slice()) };
    let read_failed = |e: std::io::Error| bad(path, format!("bad gzip data: {e}"));
    let magic = read_up_to(&mut reader, 4, 4).map_err(read_failed)?;
    if magic.len() < 4 || magic[0] != 0 || magic[1] != 0 {
        return Err(bad(path, "not an IDX file (wrong magic number)"));
    }
    if magic[2] != 0x08 {
        return Err(bad(path, format!("IDX element type 0x{:02x} is not unsigned bytes (0x08)", magic[2])));
    }
    let rank = usize::from(magic[3]);
    let header = read_up_to(&mut reader, 4 * rank, 4 * rank).map_err(read_failed)?;
    if header.len() < 4 * rank {
        return Err(bad(path, "truncated header"));
    }
    let dims: Vec<usize> = header.chunks(4).map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize).collect();
    let count = dims
        .iter()
        .try_fold(1usize, |product, &d| product.checked_mul(d))
        .filter(|&count| count <= most)
        .ok_or_else(|| bad(path, format!("dimensions {dims:?} need more bytes than the file can hold")))?;
    let data = read_up_to(&mut reader, count, raw.len()).map_err(read_failed)?;
    if data.len() < count {
        return Err(bad(
            path,
            format!("truncated: dimensions {dims:?} need {count} bytes, the file has {}", data.len()),
        ));
    }
    Ok(IdxArray { dims, data })
}

/// Up to `count` bytes from `reader` (fewer at its end), reserving no more than `reserve` ahead of the data
/// (the file's own size: a gzipped header may promise more than the stream holds).
fn read_up_to(reader: &mut impl Read, count: usize, reserve: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(count.min(reserve));
    reader.take(count as u64).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn file_of(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("slim-idx-{name}-{}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn message(path: &Path) -> String {
        let message = read_idx(path).unwrap_err().to_string();
        std::fs::remove_file(path).unwrap();
        message
    }

    #[test]
    fn dimensions_beyond_the_file_or_overflowing_are_errors_before_any_allocation() {
        let huge = file_of("huge", &[0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 1, 2]);
        assert!(message(&huge).contains("need more bytes than the file can hold"));
        let overflow = [&[0u8, 0, 8, 4][..], &[0xff; 16][..]].concat();
        assert!(message(&file_of("overflow", &overflow)).contains("need more bytes than the file can hold"));
    }

    #[test]
    fn a_gzipped_file_is_decompressed_only_as_far_as_its_dimensions_say() {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&[0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]).unwrap();
        encoder.write_all(&vec![0u8; 1 << 20]).unwrap(); // a megabyte of zeros after the data
        let path = file_of("gz", &encoder.finish().unwrap());
        let array = read_idx(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(array, IdxArray { dims: vec![3], data: vec![7, 8, 9] });
    }
}
