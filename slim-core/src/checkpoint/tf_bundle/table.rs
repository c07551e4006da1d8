//! LevelDB's table format, which a TF checkpoint's index file uses: data blocks of prefix-compressed sorted
//! entries with restart points, an index block of block handles, an empty meta-index block, each block followed
//! by its compression type and masked CRC-32C, and a 48-byte footer ending in the table's magic number. Read
//! with every bound and checksum checked; written uncompressed.

use std::path::Path;

use crate::io::{masked_crc32c, masked_crc32c_matches};
use crate::{Error, Result};

const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
const FOOTER_SIZE: usize = 48;
/// The most bytes of entries a written data block holds before the next one starts (LevelDB's default).
const BLOCK_SIZE: usize = 4096;
/// Entries between restart points (LevelDB's default).
const RESTART_INTERVAL: usize = 16;
/// How many times its own size a block's entries may rebuild to (keys restored from shared prefixes, plus the
/// values). Checkpoint keys are tensor names that share their scopes, well within this; a block whose entries
/// keep re-sharing one long key would otherwise rebuild to its size squared.
const MAX_BLOCK_EXPANSION: usize = 64;

fn corrupt(path: &Path, message: impl Into<String>) -> Error {
    Error::Io { path: path.display().to_string(), message: message.into() }
}

/// Every `(key, value)` entry of the table `file` (read from `path`, which errors name), in key order.
pub(super) fn read_table(path: &Path, file: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    if file.len() < FOOTER_SIZE {
        return Err(corrupt(path, "too short to be a TF checkpoint index"));
    }
    let footer = &file[file.len() - FOOTER_SIZE..];
    if u64::from_le_bytes(footer[40..].try_into().unwrap_or_default()) != TABLE_MAGIC {
        return Err(corrupt(path, "not a TF checkpoint index (wrong magic number)"));
    }
    let mut at = 0;
    let _metaindex = handle(path, footer, &mut at)?;
    let index_handle = handle(path, footer, &mut at)?;
    let mut records = Vec::new();
    // A table holds each data block once: blocks named again (or overlapping) would be read again.
    let mut data_bytes = 0usize;
    for (_, value) in entries(path, block(path, file, index_handle)?)? {
        let data = block(path, file, handle(path, &value, &mut 0)?)?;
        data_bytes = data_bytes.checked_add(data.len()).filter(|total| *total <= file.len()).ok_or_else(|| {
            corrupt(path, "its index names more data blocks than the file holds (blocks named twice or overlapping)")
        })?;
        records.extend(entries(path, data)?);
    }
    Ok(records)
}

/// Reads a varint at `*at`, advancing it.
fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// A block of the table, its trailer (compression type, masked CRC-32C) checked.
fn block<'a>(path: &Path, file: &'a [u8], handle: (u64, u64)) -> Result<&'a [u8]> {
    let outside = || corrupt(path, "a block lies outside the file");
    let (offset, size) =
        (usize::try_from(handle.0).map_err(|_| outside())?, usize::try_from(handle.1).map_err(|_| outside())?);
    let end = offset
        .checked_add(size)
        .filter(|end| end.checked_add(5).is_some_and(|trailer_end| trailer_end <= file.len()))
        .ok_or_else(outside)?;
    let (contents, kind) = (&file[offset..end], file[end]);
    let stored = u32::from_le_bytes([file[end + 1], file[end + 2], file[end + 3], file[end + 4]]);
    if !masked_crc32c_matches(&file[offset..=end], stored) {
        return Err(corrupt(path, format!("the block at offset {offset} fails its CRC-32C check")));
    }
    if kind != 0 {
        return Err(corrupt(path, format!("compressed table blocks (type {kind}) are not supported")));
    }
    Ok(contents)
}

/// The `(key, value)` entries of a block, keys rebuilt from their shared prefixes, within
/// [`MAX_BLOCK_EXPANSION`] times the block's size.
fn entries(path: &Path, block: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let bad = || corrupt(path, "a table block is malformed");
    let restarts =
        u32::from_le_bytes(block.get(block.len().saturating_sub(4)..).and_then(|b| b.try_into().ok()).ok_or_else(bad)?);
    let trailer = usize::try_from(restarts).ok().and_then(|r| r.checked_mul(4)?.checked_add(4)).ok_or_else(bad)?;
    let data_end = block.len().checked_sub(trailer).ok_or_else(bad)?;
    let budget = block.len().saturating_mul(MAX_BLOCK_EXPANSION);
    let (mut at, mut key, mut found, mut rebuilt) = (0, Vec::new(), Vec::new(), 0usize);
    let length = |at: &mut usize| varint(block, at).and_then(|n| usize::try_from(n).ok()).ok_or_else(bad);
    while at < data_end {
        let (shared, unshared, value_length) = (length(&mut at)?, length(&mut at)?, length(&mut at)?);
        let delta = block.get(at..at.checked_add(unshared).ok_or_else(bad)?).ok_or_else(bad)?;
        if shared > key.len() {
            return Err(bad()); // more of the previous key shared than it has
        }
        key.truncate(shared);
        key.extend_from_slice(delta);
        at += unshared;
        let value = block.get(at..at.checked_add(value_length).ok_or_else(bad)?).ok_or_else(bad)?;
        at += value_length;
        rebuilt = rebuilt.saturating_add(key.len() + value.len());
        if rebuilt > budget {
            return Err(corrupt(path, "a table block rebuilds to far more keys than it stores (a prefix bomb?)"));
        }
        found.push((key.clone(), value.to_vec()));
    }
    Ok(found)
}

fn handle(path: &Path, bytes: &[u8], at: &mut usize) -> Result<(u64, u64)> {
    let bad = || corrupt(path, "a block handle is malformed");
    Ok((varint(bytes, at).ok_or_else(bad)?, varint(bytes, at).ok_or_else(bad)?))
}

/// A table of `entries`, which must be sorted by key with no key twice.
pub(super) fn build_table(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut file = Vec::new();
    let mut index = BlockBuilder::default();
    let mut data = BlockBuilder::default();
    for (position, (key, value)) in entries.iter().enumerate() {
        data.add(key, value);
        let last = position + 1 == entries.len();
        if data.size() >= BLOCK_SIZE || last {
            let handle = append_block(&mut file, &data.finish());
            index.add(key, &handle);
            data = BlockBuilder::default();
        }
    }
    let metaindex = append_block(&mut file, &BlockBuilder::default().finish());
    let index = append_block(&mut file, &index.finish());
    let mut footer = [metaindex, index].concat();
    footer.resize(FOOTER_SIZE - 8, 0);
    footer.extend_from_slice(&TABLE_MAGIC.to_le_bytes());
    file.extend_from_slice(&footer);
    file
}

/// Appends `contents` as a block (uncompressed, with its trailer) to `file`; returns its encoded handle.
fn append_block(file: &mut Vec<u8>, contents: &[u8]) -> Vec<u8> {
    let offset = file.len() as u64;
    file.extend_from_slice(contents);
    file.push(0); // no compression
    let crc = masked_crc32c(&file[offset as usize..]);
    file.extend_from_slice(&crc.to_le_bytes());
    let mut handle = Vec::new();
    put_varint(&mut handle, offset);
    put_varint(&mut handle, contents.len() as u64);
    handle
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A block being built: entries sharing their key's prefix with the previous key, a restart point every
/// [`RESTART_INTERVAL`] entries.
#[derive(Default)]
struct BlockBuilder {
    bytes: Vec<u8>,
    restarts: Vec<u32>,
    count: usize,
    last_key: Vec<u8>,
}

impl BlockBuilder {
    fn add(&mut self, key: &[u8], value: &[u8]) {
        let shared = if self.count.is_multiple_of(RESTART_INTERVAL) {
            self.restarts.push(self.bytes.len() as u32);
            0
        } else {
            key.iter().zip(&self.last_key).take_while(|(a, b)| a == b).count()
        };
        put_varint(&mut self.bytes, shared as u64);
        put_varint(&mut self.bytes, (key.len() - shared) as u64);
        put_varint(&mut self.bytes, value.len() as u64);
        self.bytes.extend_from_slice(&key[shared..]);
        self.bytes.extend_from_slice(value);
        self.last_key = key.to_vec();
        self.count += 1;
    }

    fn size(&self) -> usize {
        self.bytes.len()
    }

    /// The block's bytes: its entries, then the restart offsets and their count (one, at 0, when empty).
    fn finish(mut self) -> Vec<u8> {
        if self.restarts.is_empty() {
            self.restarts.push(0);
        }
        for restart in &self.restarts {
            self.bytes.extend_from_slice(&restart.to_le_bytes());
        }
        self.bytes.extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_table_reads_back_across_blocks_and_restarts() -> Result<()> {
        let entries: Vec<(Vec<u8>, Vec<u8>)> =
            (0..500).map(|i| (format!("net/layer_{i:04}/weights").into_bytes(), vec![i as u8; 1 + i % 40])).collect();
        let table = build_table(&entries);
        assert_eq!(read_table(Path::new("t.index"), &table)?, entries);
        assert_eq!(read_table(Path::new("t.index"), &build_table(&[]))?, Vec::<(Vec<u8>, Vec<u8>)>::new());
        let mut damaged = table.clone();
        damaged[100] ^= 1;
        let message = read_table(Path::new("t.index"), &damaged).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("t.index") && message.contains("CRC-32C"), "{message}");
        // An entry claiming to share more of the previous key than it has (checksums made to match).
        let mut block = BlockBuilder::default();
        block.add(b"a", b"1");
        let mut contents = block.finish();
        contents[0] = 5; // shared 5 of an empty previous key
        let mut file = Vec::new();
        let data = append_block(&mut file, &contents);
        let mut index = BlockBuilder::default();
        index.add(b"a", &data);
        let index = append_block(&mut file, &index.finish());
        let mut footer = [data.clone(), index].concat();
        footer.resize(FOOTER_SIZE - 8, 0);
        file.extend_from_slice(&footer);
        file.extend_from_slice(&TABLE_MAGIC.to_le_bytes());
        let message = read_table(Path::new("t.index"), &file).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("malformed"), "{message}");
        Ok(())
    }

    /// A table file of raw data-block `contents`, its index naming that block `times` times (checksums right).
    fn table_naming_block(contents: &[u8], times: usize) -> Vec<u8> {
        let mut file = Vec::new();
        let data = append_block(&mut file, contents);
        let mut index = BlockBuilder::default();
        for i in 0..times {
            index.add(format!("k{i:03}").as_bytes(), &data);
        }
        let metaindex = append_block(&mut file, &BlockBuilder::default().finish());
        let index = append_block(&mut file, &index.finish());
        let mut footer = [metaindex, index].concat();
        footer.resize(FOOTER_SIZE - 8, 0);
        file.extend_from_slice(&footer);
        file.extend_from_slice(&TABLE_MAGIC.to_le_bytes());
        file
    }

    /// Hostile indexes: a data block named over and over (each naming re-reads it), and a block whose entries
    /// re-share one long key thousands of times (rebuilding to its size squared); both refused, nothing built.
    #[test]
    fn blocks_named_twice_and_prefix_bombs_are_refused() {
        let mut block = BlockBuilder::default();
        block.add(&[b'k'; 600], &[7; 600]);
        let message =
            read_table(Path::new("t.index"), &table_naming_block(&block.finish(), 3)).err().map(|e| e.to_string());
        assert!(message.unwrap_or_default().contains("more data blocks than the file holds"));

        let mut bomb = Vec::new();
        put_varint(&mut bomb, 0);
        put_varint(&mut bomb, 1000);
        put_varint(&mut bomb, 0);
        bomb.extend_from_slice(&[b'k'; 1000]);
        for _ in 0..20_000 {
            bomb.extend_from_slice(&[0xe8, 0x07, 0, 0]); // shared 1000, unshared 0, value 0
        }
        bomb.extend_from_slice(&0u32.to_le_bytes()); // one restart, at 0
        bomb.extend_from_slice(&1u32.to_le_bytes());
        let message = read_table(Path::new("t.index"), &table_naming_block(&bomb, 1)).err().map(|e| e.to_string());
        assert!(message.unwrap_or_default().contains("prefix bomb"));
    }
}
