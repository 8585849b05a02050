//! Reading QR codes from a photo or a scan of a bill: PNG or JPEG bytes in, the texts of the
//! QR codes found out. Still pure: bytes in memory, no files. Behind the `qr-decode` feature.
//!
//! # Why this stack
//!
//! - [`rqrr`](https://docs.rs/rqrr) (a port of quirc, 5,000 lines, two small dependencies)
//!   finds and reads the symbols. `rxing` (the ZXing port the issue names) is 85,000 lines
//!   and needs `regex`, `num` and, to read images at all, `image` and `imageproc`; it reads
//!   every barcode format, where a bill carries one QR code.
//! - [`png`](https://docs.rs/png) and [`zune-jpeg`](https://docs.rs/zune-jpeg) decode the
//!   two formats a phone or a scanner produces, with nothing else: the `image` crate would
//!   bring both plus colour management (`moxcms`) whatever its features.
//!
//! # Limits
//!
//! The dimensions are read from the header before anything is decoded, and an image larger
//! than [`MAX_SIDE`] pixels on a side or [`MAX_PIXELS`] in all is refused, so a small file
//! that claims a huge image (a decompression bomb) costs nothing. Decoded pixels are kept as
//! one byte of grey each; a photo larger than the detector needs is scaled down first
//! (averaging blocks of pixels, which also smooths sensor noise), and searched at a finer
//! scale only when the coarse one finds nothing.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

#[cfg(test)]
mod tests;

/// The longest side read, in pixels.
pub const MAX_SIDE: u32 = 12_000;
/// The most pixels read: 40 megapixels, above a 7,680 × 4,320 photo; a phone's usual photo
/// has 12.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The longest side the detector searches first. A QR code that fills a tenth of a photo's
/// width still has about 2 pixels per module at this size for the largest IPS codes.
const WORK_SIDE: usize = 1_600;
/// The longest side of the finer second search, when the first finds nothing.
const FINE_SIDE: usize = 3_200;

/// Why no text came out of an image. The messages are for the person who uploaded it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a PNG or JPEG image")]
    NotAnImage,
    #[error(
        "the image is {width} × {height} pixels; at most {MAX_SIDE} pixels on a side and \
         {MAX_PIXELS} in all are read"
    )]
    TooLarge { width: u32, height: u32 },
    #[error("the {format} image is damaged or unsupported: {reason}")]
    Damaged {
        format: &'static str,
        reason: String,
    },
    #[error("no QR code was found in the image")]
    NoQrCode,
    #[error(
        "a QR code was found but could not be read ({0}); a sharper photo, straight on and \
         closer, may help"
    )]
    Unreadable(String),
}

/// A greyscale picture, one byte a pixel (0 black, 255 white), row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grey {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) pixels: Vec<u8>,
}

/// The texts of the QR codes in a PNG or JPEG image, each once, in the order the detector
/// met them. A code whose bytes are not UTF-8 is read as ISO 8859-1, the QR default.
///
/// # Errors
///
/// [`DecodeError::NotAnImage`] for anything but PNG or JPEG, [`DecodeError::TooLarge`]
/// before decoding a huge image, [`DecodeError::Damaged`] for a broken file,
/// [`DecodeError::NoQrCode`] when nothing like a QR code is in it, and
/// [`DecodeError::Unreadable`] when one is but none could be read.
pub fn decode_image(bytes: &[u8]) -> Result<Vec<String>, DecodeError> {
    let grey = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(bytes)?
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        decode_jpeg(bytes)?
    } else {
        return Err(DecodeError::NotAnImage);
    };
    find_codes(&grey)
}

fn check_size(width: u32, height: u32) -> Result<(), DecodeError> {
    if width == 0 || height == 0 {
        return Err(DecodeError::Damaged {
            format: "image",
            reason: "it has no pixels".into(),
        });
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(DecodeError::TooLarge { width, height });
    }
    Ok(())
}

fn png_error(e: png::DecodingError) -> DecodeError {
    DecodeError::Damaged {
        format: "PNG",
        reason: e.to_string(),
    }
}

fn decode_png(bytes: &[u8]) -> Result<Grey, DecodeError> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    let header = decoder.read_header_info().map_err(png_error)?;
    check_size(header.width, header.height)?;
    // 8-bit samples whatever the file holds: palettes and 1-, 2- and 4-bit grey expanded,
    // 16-bit samples cut to their high byte, transparency as an alpha channel.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    // The decoder's own buffers: a few rows, and for an interlaced image the whole frame.
    decoder.set_limits(png::Limits {
        bytes: 8 * MAX_PIXELS as usize,
    });
    let mut reader = decoder.read_info().map_err(png_error)?;
    let (width, height) = (reader.info().width as usize, reader.info().height as usize);
    let (colour, _) = reader.output_color_type();
    let channels = colour.samples();
    let mut pixels = Vec::with_capacity(width * height);
    if reader.info().interlaced {
        // Interlaced rows arrive in seven passes; the whole frame is put together first.
        let size = reader.output_buffer_size().ok_or(DecodeError::TooLarge {
            width: width as u32,
            height: height as u32,
        })?;
        let mut frame = vec![0; size];
        let info = reader.next_frame(&mut frame).map_err(png_error)?;
        for row in frame.chunks_exact(info.line_size).take(height) {
            grey_row(row, channels, width, &mut pixels);
        }
    } else {
        while let Some(row) = reader.next_row().map_err(png_error)? {
            grey_row(row.data(), channels, width, &mut pixels);
        }
    }
    if pixels.len() != width * height {
        return Err(DecodeError::Damaged {
            format: "PNG",
            reason: "the image data ends early".into(),
        });
    }
    Ok(Grey {
        width,
        height,
        pixels,
    })
}

/// Appends one row of 8-bit samples as grey: luma by ITU-R BT.601 weights, and transparent
/// pixels shown over white, as a viewer shows them.
fn grey_row(row: &[u8], channels: usize, width: usize, out: &mut Vec<u8>) {
    for px in row.chunks_exact(channels).take(width) {
        let (luma, alpha) = match *px {
            [g] => (u32::from(g), 255),
            [g, a] => (u32::from(g), u32::from(a)),
            [r, g, b] => (luma(r, g, b), 255),
            [r, g, b, a] => (luma(r, g, b), u32::from(a)),
            _ => (255, 255),
        };
        let shown = (luma * alpha + 255 * (255 - alpha)) / 255;
        out.push(shown.min(255) as u8);
    }
}

fn luma(r: u8, g: u8, b: u8) -> u32 {
    (299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000
}

fn decode_jpeg(bytes: &[u8]) -> Result<Grey, DecodeError> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    use zune_jpeg::JpegDecoder;

    let damaged = |e: zune_jpeg::errors::DecodeErrors| DecodeError::Damaged {
        format: "JPEG",
        reason: e.to_string(),
    };
    // JPEG's own limit (65,535 a side), so that the size is judged below, with its message.
    let options = DecoderOptions::default()
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX))
        .jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(damaged)?;
    let info = decoder.info().ok_or_else(|| DecodeError::Damaged {
        format: "JPEG",
        reason: "no image header".into(),
    })?;
    let (width, height) = (info.width as usize, info.height as usize);
    check_size(width as u32, height as u32)?;
    let pixels = decoder.decode().map_err(damaged)?;
    if pixels.len() != width * height {
        return Err(DecodeError::Damaged {
            format: "JPEG",
            reason: "the decoder gave an unexpected number of pixels".into(),
        });
    }
    Ok(Grey {
        width,
        height,
        pixels,
    })
}

impl Grey {
    /// The picture scaled down by `factor` in both directions, each pixel the mean of a
    /// `factor` × `factor` block (the blocks at the right and bottom edges may be smaller).
    pub(crate) fn shrunk(&self, factor: usize) -> Grey {
        if factor <= 1 {
            return self.clone();
        }
        let width = self.width.div_ceil(factor);
        let height = self.height.div_ceil(factor);
        let mut sums = vec![0u32; width];
        let mut counts = vec![0u32; width];
        let mut pixels = Vec::with_capacity(width * height);
        for band in self.pixels.chunks(self.width * factor) {
            sums.fill(0);
            counts.fill(0);
            for row in band.chunks_exact(self.width) {
                for (x, &p) in row.iter().enumerate() {
                    sums[x / factor] += u32::from(p);
                    counts[x / factor] += 1;
                }
            }
            pixels.extend(
                sums.iter()
                    .zip(&counts)
                    .map(|(&s, &n)| ((s + n / 2) / n.max(1)) as u8),
            );
        }
        Grey {
            width,
            height,
            pixels,
        }
    }
}

/// What one search of one scale gave.
enum Found {
    Texts(Vec<String>),
    /// Symbols were found, none could be read: the first reason.
    Unreadable(String),
    Nothing,
}

/// Searches at a coarse scale, then (if that found nothing readable) at a finer one; at each
/// scale with rqrr's own thresholding (fast, along rows), then with ours (a local mean in two
/// dimensions, which reads blurred, noisy and unevenly lit photos that rqrr's misses), then
/// with ours after smoothing.
fn find_codes(grey: &Grey) -> Result<Vec<String>, DecodeError> {
    let longest = grey.width.max(grey.height);
    let mut factors = vec![longest.div_ceil(WORK_SIDE).max(1)];
    let fine = longest.div_ceil(FINE_SIDE).max(1);
    if fine < factors[0] {
        factors.push(fine);
    }
    let mut unreadable = None;
    for factor in factors {
        let scaled = grey.shrunk(factor);
        // About a twentieth of the picture: several modules of a code that fills it, and a
        // few finder patterns' width of one that fills a tenth of it.
        let radius = (scaled.width.min(scaled.height) / 20).max(8);
        let attempts: [&dyn Fn() -> Found; 3] = [
            &|| search(&scaled, None),
            &|| search(&scaled, Some(&scaled.binarized(radius, 5))),
            &|| {
                let smooth = scaled.smoothed();
                search(&smooth, Some(&smooth.binarized(radius, 5)))
            },
        ];
        for attempt in attempts {
            match attempt() {
                Found::Texts(texts) => return Ok(texts),
                Found::Unreadable(why) => {
                    unreadable.get_or_insert(why);
                }
                Found::Nothing => {}
            }
        }
    }
    Err(unreadable.map_or(DecodeError::NoQrCode, DecodeError::Unreadable))
}

impl Grey {
    /// The picture smoothed by a 3 × 3 box (sensor and JPEG noise averaged away).
    pub(crate) fn smoothed(&self) -> Grey {
        let (w, h) = (self.width, self.height);
        let mut pixels = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let (mut sum, mut n) = (0u32, 0u32);
                for yy in y.saturating_sub(1)..(y + 2).min(h) {
                    for xx in x.saturating_sub(1)..(x + 2).min(w) {
                        sum += u32::from(self.pixels[yy * w + xx]);
                        n += 1;
                    }
                }
                pixels[y * w + x] = (sum / n) as u8;
            }
        }
        Grey {
            width: w,
            height: h,
            pixels,
        }
    }

    /// Dark or light by the mean of the square of side `2 * radius + 1` around each pixel
    /// (from a summed-area table): dark when at least `percent` % below it. Follows uneven
    /// light, and puts a blurred edge where the mean crosses it, at the true edge.
    pub(crate) fn binarized(&self, radius: usize, percent: u64) -> Vec<bool> {
        let (w, h) = (self.width, self.height);
        let mut table = vec![0u64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0u64;
            for x in 0..w {
                row += u64::from(self.pixels[y * w + x]);
                table[(y + 1) * (w + 1) + x + 1] = table[y * (w + 1) + x + 1] + row;
            }
        }
        let mut dark = vec![false; w * h];
        for y in 0..h {
            let (y0, y1) = (y.saturating_sub(radius), (y + radius + 1).min(h));
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(radius), (x + radius + 1).min(w));
                let sum = table[y1 * (w + 1) + x1] + table[y0 * (w + 1) + x0]
                    - table[y0 * (w + 1) + x1]
                    - table[y1 * (w + 1) + x0];
                let n = ((x1 - x0) * (y1 - y0)) as u64;
                dark[y * w + x] =
                    u64::from(self.pixels[y * w + x]) * n * 100 < sum * (100 - percent);
            }
        }
        dark
    }
}

/// One search with rqrr, on the grey picture (thresholded by rqrr) or on a bitmap of it
/// (`true` dark). Its detector has panicked on odd images in the past (issues 3 and 9 of its
/// tracker), so a panic here is one more unreadable image, never a crashed request.
fn search(grey: &Grey, bitmap: Option<&[bool]>) -> Found {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut prepared = match bitmap {
            None => rqrr::PreparedImage::prepare_from_greyscale(grey.width, grey.height, |x, y| {
                grey.pixels[y * grey.width + x]
            }),
            Some(dark) => {
                rqrr::PreparedImage::prepare_from_bitmap(grey.width, grey.height, |x, y| {
                    dark[y * grey.width + x]
                })
            }
        };
        let mut texts: Vec<String> = Vec::new();
        let mut first_error = None;
        for grid in prepared.detect_grids() {
            let mut bytes = Vec::new();
            match grid.decode_to(&mut bytes) {
                Ok(_) => {
                    let text = String::from_utf8(bytes).unwrap_or_else(|e| {
                        e.into_bytes().iter().map(|&b| char::from(b)).collect()
                    });
                    if !texts.contains(&text) {
                        texts.push(text);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        match (texts.is_empty(), first_error) {
            (false, _) => Found::Texts(texts),
            (true, Some(e)) => Found::Unreadable(e),
            (true, None) => Found::Nothing,
        }
    }));
    outcome.unwrap_or_else(|_| Found::Unreadable("the detector failed on this image".into()))
}
