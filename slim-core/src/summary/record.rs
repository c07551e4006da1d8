//! TFRecord framing: `u64` length, masked CRC-32C of the length, the data, masked CRC-32C of the data.

use crate::{Error, Result};

/// TF's masked CRC-32C: the checksum rotated right by 15 bits plus a constant, so CRCs of CRCs stay strong.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// `data` framed as one record.
pub(crate) fn frame(data: &[u8]) -> Vec<u8> {
    let length = (data.len() as u64).to_le_bytes();
    let mut record = Vec::with_capacity(data.len() + 16);
    record.extend_from_slice(&length);
    record.extend_from_slice(&masked_crc32c(&length).to_le_bytes());
    record.extend_from_slice(data);
    record.extend_from_slice(&masked_crc32c(data).to_le_bytes());
    record
}

/// The records of a file's bytes, each checked; a truncated last record (a writer that was killed) ends the
/// list, a bad checksum is an error.
pub fn read_records(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut records = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 12 {
        let (header, after) = rest.split_at(12);
        let length = u64::from_le_bytes(header[..8].try_into().unwrap_or_default());
        let length_crc = u32::from_le_bytes(header[8..].try_into().unwrap_or_default());
        if masked_crc32c(&header[..8]) != length_crc {
            return Err(corrupt(records.len(), "length checksum"));
        }
        let length = usize::try_from(length).map_err(|_| corrupt(records.len(), "length"))?;
        if after.len() < length + 4 {
            break;
        }
        let (data, after) = after.split_at(length);
        let data_crc = u32::from_le_bytes(after[..4].try_into().unwrap_or_default());
        if masked_crc32c(data) != data_crc {
            return Err(corrupt(records.len(), "data checksum"));
        }
        records.push(data.to_vec());
        rest = &after[4..];
    }
    Ok(records)
}

fn corrupt(index: usize, what: &str) -> Error {
    Error::Io { path: "TFRecord data".into(), message: format!("record {index} has a bad {what}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_and_masking_match_tfs_known_values() {
        // CRC-32C of "123456789" is 0xe3069283 (the standard check value).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(masked_crc32c(b"123456789"), 0xe306_9283u32.rotate_right(15).wrapping_add(0xa282_ead8));
        let framed = frame(b"hello");
        assert_eq!(read_records(&framed).unwrap(), [b"hello".to_vec()]);
        assert_eq!(read_records(&framed[..framed.len() - 1]).unwrap().len(), 0, "a truncated record is dropped");
        let mut flipped = framed.clone();
        flipped[13] ^= 1;
        assert!(read_records(&flipped).is_err());
    }
}
