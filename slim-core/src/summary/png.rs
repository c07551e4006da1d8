//! A minimal PNG encoder (8-bit grey, RGB or RGBA, unfiltered rows, zlib-compressed) for image summaries.

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;

use crate::{Error, Result};

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    png.extend_from_slice(&crc.sum().to_be_bytes());
}

/// Encodes `pixels` (row-major, `channels` bytes per pixel: 1, 3 or 4) of a `height`×`width` image.
pub(crate) fn encode_png(pixels: &[u8], height: usize, width: usize, channels: usize) -> Result<Vec<u8>> {
    let color_type = match channels {
        1 => 0u8,
        3 => 2,
        4 => 6,
        other => return Err(Error::invalid("image summary", format!("images need 1, 3 or 4 channels, got {other}"))),
    };
    if pixels.len() != height * width * channels {
        return Err(Error::invalid("image summary", "pixel count does not match the image size"));
    }
    let mut raw = Vec::with_capacity(height * (width * channels + 1));
    for row in pixels.chunks(width * channels) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    let compressed = encoder
        .write_all(&raw)
        .and_then(|()| encoder.finish())
        .map_err(|e| Error::invalid("image summary", format!("cannot compress: {e}")))?;
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&(width as u32).to_be_bytes());
    header.extend_from_slice(&(height as u32).to_be_bytes());
    header.extend_from_slice(&[8, color_type, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &compressed);
    chunk(&mut png, b"IEND", &[]);
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_png_holds_its_rows_behind_valid_chunks() {
        let pixels: Vec<u8> = (0..2 * 3 * 3).map(|i| i as u8 * 10).collect();
        let png = encode_png(&pixels, 2, 3, 3).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 3, "width");
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 2, "height");
        let idat_length = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let mut rows = Vec::new();
        flate2::read::ZlibDecoder::new(&png[41..41 + idat_length]).read_to_end(&mut rows).unwrap();
        assert_eq!(rows.len(), 2 * (1 + 9));
        assert_eq!(&rows[1..10], &pixels[..9]);
        assert!(png.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]));
        assert!(encode_png(&pixels, 2, 3, 2).is_err());
    }
}
