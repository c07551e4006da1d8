//! TF's masked CRC-32C, the checksum of TFRecord framing, event files and TF checkpoint tables.

/// TF's masked CRC-32C: the checksum rotated right by 15 bits plus a constant, so CRCs of CRCs stay strong.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Whether `stored` is the masked CRC-32C of `data`. In a fuzzing build (`--cfg fuzzing`, which cargo-fuzz sets,
/// never a user's build) every checksum passes, so the fuzzer reaches the parsing behind it.
pub(crate) fn masked_crc32c_matches(data: &[u8], stored: u32) -> bool {
    cfg!(fuzzing) || masked_crc32c(data) == stored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_and_masking_match_tfs_known_values() {
        // CRC-32C of "123456789" is 0xe3069283 (the standard check value).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(masked_crc32c(b"123456789"), 0xe306_9283u32.rotate_right(15).wrapping_add(0xa282_ead8));
    }
}
