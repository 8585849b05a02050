//! QR code images of a text (IPS QR strings above all), as SVG and PNG bytes. Still pure:
//! bytes in memory, no files. Behind the `qr` feature so that crates that only parse do not
//! compile the QR encoder.
//!
//! Error correction level M and a quiet zone of 4 modules, as the IPS QR implementations use
//! (research/payments.md §1.5: no NBS text fixes them). The PNG is 1-bit greyscale, written
//! here (signature, IHDR, one zlib IDAT from `miniz_oxide`, IEND, each with its CRC-32) so
//! the workspace needs no image crate: the `png` crate would add a dependency tree for
//! what is 60 lines, and `image` minutes of compile time.

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};

/// Modules of white around the symbol (ISO/IEC 18004 asks for at least 4).
pub const QUIET_ZONE: usize = 4;

/// Why a text cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("too long for a QR code at error correction level M ({0} bytes)")]
    TooLong(usize),
    #[error("the module size must be 1 to 100 pixels")]
    ModuleSize,
}

/// A QR symbol: its dark modules, row by row, without the quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrImage {
    width: usize,
    dark: Vec<bool>,
}

impl QrImage {
    /// Encodes the text's UTF-8 bytes at level M.
    pub fn new(text: &str) -> Result<QrImage, QrError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|_| QrError::TooLong(text.len()))?;
        Ok(QrImage {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }

    /// Modules per side, quiet zone excluded.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether the module at (x, y) is dark; the quiet zone and beyond are light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// An SVG document, one module per user unit, with a `size_mm` millimetre square as its
    /// printed size (quiet zone included). One path of horizontal runs, crisp edges.
    pub fn to_svg(&self, size_mm: u32) -> String {
        let side = self.width + 2 * QUIET_ZONE;
        let mut path = String::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while self.is_dark(x, y) {
                    x += 1;
                }
                // Writing into a String cannot fail.
                let _ = write!(
                    path,
                    "M{} {}h{}v1h-{}z",
                    start + QUIET_ZONE,
                    y + QUIET_ZONE,
                    x - start,
                    x - start
                );
            }
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{size_mm}mm\" height=\"{size_mm}mm\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\n\
             <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\n\
             <path fill=\"#000\" d=\"{path}\"/>\n\
             </svg>\n"
        )
    }

    /// A PNG of `module_px` pixels per module, quiet zone included.
    pub fn to_png(&self, module_px: usize) -> Result<Vec<u8>, QrError> {
        if !(1..=100).contains(&module_px) {
            return Err(QrError::ModuleSize);
        }
        let side = (self.width + 2 * QUIET_ZONE) * module_px;
        let row_bytes = side.div_ceil(8);
        // Each row: filter type 0, then 1 bit per pixel, 1 = white.
        let mut raw = Vec::with_capacity((row_bytes + 1) * side);
        for py in 0..side {
            raw.push(0);
            let start = raw.len();
            raw.resize(start + row_bytes, 0);
            for px in 0..side {
                let (mx, my) = (px / module_px, py / module_px);
                let dark = mx >= QUIET_ZONE
                    && my >= QUIET_ZONE
                    && self.is_dark(mx - QUIET_ZONE, my - QUIET_ZONE);
                if !dark {
                    raw[start + px / 8] |= 0x80 >> (px % 8);
                }
            }
        }
        let side32 = u32::try_from(side).map_err(|_| QrError::ModuleSize)?;
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::with_capacity(13);
        ihdr.extend_from_slice(&side32.to_be_bytes());
        ihdr.extend_from_slice(&side32.to_be_bytes());
        // Bit depth 1, colour type 0 (greyscale), deflate, adaptive filtering, no interlace.
        ihdr.extend_from_slice(&[1, 0, 0, 0, 0]);
        chunk(&mut png, b"IHDR", &ihdr);
        chunk(
            &mut png,
            b"IDAT",
            &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6),
        );
        chunk(&mut png, b"IEND", &[]);
        Ok(png)
    }
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // Chunks here are far below 4 GiB: an image of 1,000 × 1,000 pixels at most.
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(crc32_update(u32::MAX, kind), data);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// The CRC-32 table (polynomial 0xEDB88320, as PNG specifies), built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

fn crc32_update(mut c: u32, data: &[u8]) -> u32 {
    for &b in data {
        c = CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    c
}

fn crc32(c: u32, data: &[u8]) -> u32 {
    crc32_update(c, data) ^ u32::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_check_string() {
        // The standard check value of CRC-32 (ISO-HDLC).
        assert_eq!(crc32(u32::MAX, b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn png_structure_and_pixels() {
        let qr = QrImage::new("K:PR|V:01|C:1").expect("fits");
        let png = qr.to_png(2).expect("png");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let side = ((qr.width() + 8) * 2) as u32;
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[16..20], &side.to_be_bytes());
        assert!(png.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]));
        // The pixels come back out of the IDAT chunk as drawn.
        let idat_len = u32::from_be_bytes(png[33..37].try_into().expect("4")) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let raw =
            miniz_oxide::inflate::decompress_to_vec_zlib(&png[41..41 + idat_len]).expect("zlib");
        let row = (side as usize).div_ceil(8) + 1;
        assert_eq!(raw.len(), row * side as usize);
        let white = |x: usize, y: usize| raw[y * row + 1 + x / 8] & (0x80 >> (x % 8)) != 0;
        assert!(white(0, 0) && white(7, 7), "quiet zone");
        // The finder pattern's corner module, 2 × 2 pixels.
        assert!(!white(8, 8) && !white(9, 9));
        assert_eq!(qr.to_png(0), Err(QrError::ModuleSize));
    }

    #[test]
    fn svg_has_one_run_per_dark_stretch() {
        let qr = QrImage::new("9714123412").expect("fits");
        let svg = qr.to_svg(30);
        assert!(svg.contains("width=\"30mm\""));
        let side = qr.width() + 8;
        assert!(svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")));
        let dark: usize = (0..qr.width())
            .flat_map(|y| (0..qr.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| qr.is_dark(x, y))
            .count();
        let d = svg
            .split(" d=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a path");
        let drawn: usize = d
            .split('h')
            .skip(1)
            .filter_map(|s| s.split('v').next()?.parse::<usize>().ok())
            .sum();
        assert_eq!(drawn, dark);
        assert!(QrImage::new(&"x".repeat(3000)).is_err());
    }
}
