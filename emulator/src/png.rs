//! A minimal PNG encoder (8-bit greyscale, zlib stored blocks) and the
//! deterministic page pictures served by `GET /result/image/{fileId}`.

const WIDTH: usize = 248;
const HEIGHT: usize = 350;

fn crc32_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    for (n, entry) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *entry = c;
    }
    table
}

/// CRC-32 as PNG chunks use it (ISO 3309, reflected, polynomial 0xEDB88320).
pub fn crc32(parts: &[&[u8]]) -> u32 {
    let table = crc32_table();
    let mut crc = 0xffff_ffffu32;
    for part in parts {
        for &b in *part {
            crc = table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
        }
    }
    crc ^ 0xffff_ffff
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += byte as u32;
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    b << 16 | a
}

/// Wraps data in a zlib stream of uncompressed (stored) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() { vec![&[]] } else { data.chunks(65_535).collect() };
    for (i, block) in blocks.iter().enumerate() {
        let last = i + 1 == blocks.len();
        out.push(last as u8);
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// Encodes 8-bit greyscale pixels, row by row, as a PNG file.
pub fn encode_greyscale(width: usize, height: usize, pixels: &[u8]) -> Vec<u8> {
    assert_eq!(pixels.len(), width * height, "pixel buffer does not match the image size");
    let mut raw = Vec::with_capacity((width + 1) * height);
    for row in pixels.chunks(width) {
        raw.push(0); // filter type None
        raw.extend_from_slice(row);
    }
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&(width as u32).to_be_bytes());
    header.extend_from_slice(&(height as u32).to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]); // bit depth 8, greyscale, deflate, adaptive filters, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    push_chunk(&mut out, b"IHDR", &header);
    push_chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    push_chunk(&mut out, b"IEND", &[]);
    out
}

/// Draws a page preview: a white page with grey bars standing in for text
/// lines, laid out from the document hash and the page number, and one
/// black tick per page number along the top edge.
pub fn page_image(sha256_hex: &str, page: u32) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let seed = Sha256::digest(format!("{sha256_hex}:{page}").as_bytes());
    let mut pixels = vec![255u8; WIDTH * HEIGHT];
    let mut fill = |x0: usize, y0: usize, x1: usize, y1: usize, shade: u8| {
        for y in y0..y1.min(HEIGHT) {
            for x in x0..x1.min(WIDTH) {
                pixels[y * WIDTH + x] = shade;
            }
        }
    };
    for tick in 0..page.min(40) as usize {
        fill(12 + tick * 5, 6, 15 + tick * 5, 14, 0);
    }
    let mut y = 30;
    for (i, byte) in seed.iter().cycle().take(40).enumerate() {
        if y + 6 > HEIGHT - 20 {
            break;
        }
        let indent = if i % 7 == 0 { 0 } else { 20 };
        let length = 60 + (*byte as usize % 140);
        fill(20 + indent, y, 20 + indent + length, y + 5, 90 + (byte % 80));
        y += if byte % 5 == 0 { 16 } else { 9 };
    }
    encode_greyscale(WIDTH, HEIGHT, &pixels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_known_values() {
        assert_eq!(crc32(&[b"123456789"]), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn page_image_is_png_and_deterministic() {
        let a = page_image("ab", 1);
        assert!(a.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(a, page_image("ab", 1));
        assert_ne!(a, page_image("ab", 2));
    }
}
