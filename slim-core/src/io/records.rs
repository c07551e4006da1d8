//! TFRecord framing: `u64` length, masked CRC-32C of the length, the data, masked CRC-32C of the data.

use super::{masked_crc32c, masked_crc32c_matches};
use crate::{Error, Result};

/// `data` framed as one record, ready to append to a TFRecord or event file.
pub fn frame_record(data: &[u8]) -> Vec<u8> {
    let length = (data.len() as u64).to_le_bytes();
    let mut record = Vec::with_capacity(data.len() + 16);
    record.extend_from_slice(&length);
    record.extend_from_slice(&masked_crc32c(&length).to_le_bytes());
    record.extend_from_slice(data);
    record.extend_from_slice(&masked_crc32c(data).to_le_bytes());
    record
}

/// The records of a file's bytes, each checked. A bad checksum, a length beyond the data, or bytes after the
/// last whole record (a writer killed mid-record) is an error naming the record and its offset.
pub fn read_records(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut records = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let (data, next) = read_record(bytes, offset, records.len())?;
        records.push(data.to_vec());
        offset = next;
    }
    Ok(records)
}

/// The data of the record at `offset` (the `index`-th) and the offset after it.
fn read_record(bytes: &[u8], offset: usize, index: usize) -> Result<(&[u8], usize)> {
    let corrupt = |message: String| Error::Io {
        path: "TFRecord data".into(),
        message: format!("record {index} at offset {offset}: {message}"),
    };
    let header = bytes
        .get(offset..offset + HEADER_BYTES)
        .ok_or_else(|| corrupt(format!("truncated: {} bytes where a 12-byte header starts", bytes.len() - offset)))?;
    let available = (bytes.len() - offset - HEADER_BYTES) as u64;
    let length = record_length(header, available).map_err(corrupt)?;
    let start = offset + HEADER_BYTES;
    let end = start + length as usize;
    check_data(&bytes[start..end], &bytes[end..end + 4]).map_err(corrupt)?;
    Ok((&bytes[start..end], end + 4))
}

/// The bytes of a record's header: the length and its checksum.
pub(super) const HEADER_BYTES: usize = 12;

/// The data length a record's 12-byte `header` declares, checked against its checksum and against the
/// `available` bytes after the header (the data and its 4-byte checksum must fit).
pub(super) fn record_length(header: &[u8], available: u64) -> std::result::Result<u64, String> {
    let (length_bytes, length_crc) = header.split_at(8);
    if !masked_crc32c_matches(length_bytes, u32::from_le_bytes(length_crc.try_into().unwrap_or_default())) {
        return Err("bad length checksum".into());
    }
    let length = u64::from_le_bytes(length_bytes.try_into().unwrap_or_default());
    match length.checked_add(4) {
        Some(needed) if needed <= available && usize::try_from(needed).is_ok() => Ok(length),
        _ => Err(format!("truncated: {length} data bytes and a checksum, {available} bytes left")),
    }
}

/// Checks a record's `data` against its 4-byte stored `checksum`.
pub(super) fn check_data(data: &[u8], checksum: &[u8]) -> std::result::Result<(), String> {
    match masked_crc32c_matches(data, u32::from_le_bytes(checksum.try_into().unwrap_or_default())) {
        true => Ok(()),
        false => Err("bad data checksum".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<Vec<Vec<u8>>>) -> String {
        result.map(|records| format!("{} records", records.len())).unwrap_or_else(|error| error.to_string())
    }

    #[test]
    fn framed_records_read_back_and_damage_is_an_error_naming_the_record() {
        let framed = [frame_record(b"hello"), frame_record(b""), frame_record(b"world")].concat();
        assert_eq!(read_records(&framed).unwrap(), [b"hello".to_vec(), Vec::new(), b"world".to_vec()]);
        assert_eq!(read_records(&[]).unwrap().len(), 0);
        let second = frame_record(b"hello").len();
        let cut = message(read_records(&framed[..framed.len() - 1]));
        assert!(cut.contains(&format!("record 2 at offset {}: truncated", second + 16)), "{cut}");
        let cut = message(read_records(&framed[..second + 5]));
        assert!(cut.contains(&format!("record 1 at offset {second}: truncated: 5 bytes")), "{cut}");
        let mut flipped = framed.clone();
        flipped[13] ^= 1;
        assert!(message(read_records(&flipped)).contains("record 0 at offset 0: bad data checksum"));
        flipped[13] ^= 1;
        flipped[2] ^= 1;
        assert!(message(read_records(&flipped)).contains("record 0 at offset 0: bad length checksum"));
    }

    #[test]
    fn a_huge_length_with_a_valid_checksum_is_an_error_not_an_allocation() {
        let length = u64::MAX.to_le_bytes();
        let hostile = [&length[..], &masked_crc32c(&length).to_le_bytes()[..], b"data"].concat();
        let error = message(read_records(&hostile));
        assert!(error.contains(&format!("truncated: {} data bytes and a checksum, 4 bytes left", u64::MAX)), "{error}");
    }
}
