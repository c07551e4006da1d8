//! File I/O shared by checkpoints, summaries and data: atomic writes, TFRecord framing (in memory, or a file
//! read record by record) and TF's checksums.

mod atomic;
mod checksum;
mod record_file;
mod records;

pub use atomic::write_atomically;
pub(crate) use atomic::{abandoned_temporary_target, io_error};
pub use checksum::masked_crc32c;
pub(crate) use checksum::masked_crc32c_matches;
pub use record_file::{RecordFile, RecordScan};
pub use records::{frame_record, read_records};
