//! A TFRecord file on disk, read without loading it: a scan of its record headers gives each record's offset
//! (8 bytes of memory a record; nothing of its data), and any record is then read by its number, checked.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::io_error;
use super::records::{HEADER_BYTES, check_data, record_length};
use crate::{Error, Result};

/// The records of one TFRecord file: where each starts and ends.
#[derive(Clone, Debug)]
pub struct RecordFile {
    path: PathBuf,
    /// The offset of each record, then the offset after the last.
    offsets: Vec<u64>,
}

/// A scanned file and, when its framing broke before its end, the error that stopped the scan: the records
/// before it are whole.
#[derive(Debug)]
pub struct RecordScan {
    /// The whole records.
    pub file: RecordFile,
    /// What stopped the scan before the end of the file (a bad length checksum, a truncated record).
    pub damage: Option<Error>,
}

impl RecordFile {
    /// Scans `path`'s record headers (each length checked by its checksum and against the file's size; the data
    /// is skipped, its checksum is checked when the record is read).
    pub fn scan(path: &Path) -> Result<RecordScan> {
        let file = File::open(path).map_err(|e| io_error(path, "cannot open", e))?;
        let size = file.metadata().map_err(|e| io_error(path, "cannot stat", e))?.len();
        let mut reader = BufReader::with_capacity(HEADER_BYTES * 64, file);
        let mut offsets = vec![0u64];
        let mut offset = 0u64;
        let mut header = [0u8; HEADER_BYTES];
        let damage = loop {
            if offset == size {
                break None;
            }
            let index = offsets.len() - 1;
            let corrupt = |message: String| Error::Io {
                path: path.display().to_string(),
                message: format!("record {index} at offset {offset}: {message}"),
            };
            let left = size - offset;
            if left < HEADER_BYTES as u64 {
                break Some(corrupt(format!("truncated: {left} bytes where a 12-byte header starts")));
            }
            if let Err(error) = reader.read_exact(&mut header) {
                break Some(corrupt(format!("cannot read the header: {error}")));
            }
            let length = match record_length(&header, left - HEADER_BYTES as u64) {
                Ok(length) => length,
                Err(message) => break Some(corrupt(message)),
            };
            if let Err(error) = reader.seek_relative(length as i64 + 4) {
                break Some(corrupt(format!("cannot skip the data: {error}")));
            }
            offset += HEADER_BYTES as u64 + length + 4;
            offsets.push(offset);
        };
        Ok(RecordScan { file: RecordFile { path: path.to_path_buf(), offsets }, damage })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many whole records it holds.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether it holds no whole record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The offset of record `index`.
    pub fn offset(&self, index: usize) -> Option<u64> {
        self.offsets.get(index).copied().filter(|_| index < self.len())
    }

    /// Record `index`'s data, read from `file` (this file, opened by the caller so that threads keep their own
    /// handles), both checksums checked. An error names the file, the record and its offset.
    pub fn read(&self, file: &mut File, index: usize) -> Result<Vec<u8>> {
        let (Some(&start), Some(&end)) = (self.offsets.get(index), self.offsets.get(index + 1)) else {
            return Err(Error::invalid(self.path.display().to_string(), format!("no record {index}")));
        };
        let corrupt = |message: String| Error::Io {
            path: self.path.display().to_string(),
            message: format!("record {index} at offset {start}: {message}"),
        };
        let mut header = [0u8; HEADER_BYTES];
        let framed = (end - start) as usize;
        let mut data = vec![0u8; framed - HEADER_BYTES];
        let read = file.seek(SeekFrom::Start(start)).and_then(|_| file.read_exact(&mut header));
        read.and_then(|()| file.read_exact(&mut data)).map_err(|e| {
            corrupt(format!("cannot read {framed} bytes (did the file change since it was scanned?): {e}"))
        })?;
        let length = record_length(&header, data.len() as u64).map_err(corrupt)? as usize;
        if length + 4 != data.len() {
            return Err(corrupt(format!("the header now says {length} bytes; the file changed since it was scanned")));
        }
        let checksum: [u8; 4] = data[length..].try_into().unwrap_or_default();
        data.truncate(length);
        check_data(&data, &checksum).map_err(corrupt)?;
        Ok(data)
    }

    /// Opens the file for [`RecordFile::read`].
    pub fn open(&self) -> Result<File> {
        File::open(&self.path).map_err(|e| io_error(&self.path, "cannot open", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{frame_record, masked_crc32c};

    fn file_with(name: &str, bytes: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("slim-record-file-{name}-{}", std::process::id()));
        std::fs::write(&path, bytes).unwrap_or_default();
        path
    }

    fn message(result: Result<Vec<u8>>) -> String {
        result.map(|data| format!("{} bytes", data.len())).unwrap_or_else(|error| error.to_string())
    }

    #[test]
    fn a_scan_finds_every_record_and_reads_them_by_number() -> Result<()> {
        let framed = [frame_record(b"hello"), frame_record(b""), frame_record(b"world!")].concat();
        let path = file_with("whole", &framed);
        let scan = RecordFile::scan(&path)?;
        assert!(scan.damage.is_none());
        let records = scan.file;
        assert_eq!(
            (records.len(), records.offset(1), records.offset(2), records.offset(3)),
            (3, Some(21), Some(37), None)
        );
        let mut file = records.open()?;
        assert_eq!(records.read(&mut file, 2)?, b"world!");
        assert_eq!(records.read(&mut file, 0)?, b"hello");
        assert_eq!(records.read(&mut file, 1)?, b"");
        assert!(message(records.read(&mut file, 3)).contains("no record 3"));
        std::fs::remove_file(&path).map_err(|e| io_error(&path, "remove", e))
    }

    #[test]
    fn damage_stops_the_scan_or_the_read_with_the_file_record_and_offset() -> Result<()> {
        let framed = [frame_record(b"hello"), frame_record(b"world")].concat();
        let path = file_with("cut", &framed[..framed.len() - 3]);
        let scan = RecordFile::scan(&path)?;
        let damage = scan.damage.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            damage.contains("slim-record-file-cut") && damage.contains("record 1 at offset 21: truncated"),
            "{damage}"
        );
        assert_eq!(scan.file.len(), 1, "the whole record before the damage stays readable");
        let mut flipped = framed.clone();
        flipped[35] ^= 1;
        let path = file_with("flipped", &flipped);
        let records = RecordFile::scan(&path)?.file;
        assert_eq!(records.len(), 2, "a data checksum is checked when the record is read");
        let mut file = records.open()?;
        assert!(message(records.read(&mut file, 1)).contains("record 1 at offset 21: bad data checksum"));
        let length = u64::MAX.to_le_bytes();
        let hostile = [&length[..], &masked_crc32c(&length).to_le_bytes()[..], b"data"].concat();
        let path = file_with("hostile", &hostile);
        let damage = RecordFile::scan(&path)?.damage.map(|e| e.to_string()).unwrap_or_default();
        assert!(damage.contains("record 0 at offset 0: truncated"), "{damage}");
        Ok(())
    }
}
