//! TFRecord framing: `u64` length, masked CRC-32C of the length, the data, masked CRC-32C of the data.

use super::masked_crc32c;
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
    fn a_framed_record_reads_back_and_damage_is_caught() {
        let framed = frame_record(b"hello");
        assert_eq!(read_records(&framed).unwrap(), [b"hello".to_vec()]);
        assert_eq!(read_records(&framed[..framed.len() - 1]).unwrap().len(), 0, "a truncated record is dropped");
        let mut flipped = framed.clone();
        flipped[13] ^= 1;
        assert!(read_records(&flipped).is_err());
    }
}
