//! IPS QR codes made by our generator, drawn by our renderer, then photographed badly on
//! purpose (scaled, turned, laid on printed paper, blurred, noisy, unevenly lit, in
//! perspective, saved as JPEG) and read back. No photograph licensed for reuse was found in a
//! package registry, so every picture is made here, from a seed, the same on every run.

use super::*;
use crate::ips::{IpsFields, IpsQr, Kind};
use crate::qr::{QUIET_ZONE, QrImage};

/// A realistic bill's code: Cyrillic payee (UTF-8), payer on three lines, model 97.
fn bill() -> String {
    let mut f = IpsFields::new(
        Kind::Pr,
        "160-5100000000-02",
        "ЈКП Инфостан технологије\nЖоржа Клемансоа 19\nБеоград",
        1_234_567,
    );
    f.payer = Some("Петар Петровић\nКнеза Милоша 10\n11000 Београд".into());
    f.payment_code = Some("289".into());
    f.purpose = Some("Рачун за јануар 2025".into());
    f.reference = Some("97 14123412".into());
    IpsQr::new(&f).expect("a valid code").to_string()
}

/// The code as pixels, `module` pixels a module, quiet zone included.
fn drawn(text: &str, module: usize) -> Grey {
    let qr = QrImage::new(text).expect("fits");
    let side = (qr.width() + 2 * QUIET_ZONE) * module;
    let mut pixels = vec![255u8; side * side];
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = (x / module, y / module);
            if mx >= QUIET_ZONE && my >= QUIET_ZONE && qr.is_dark(mx - QUIET_ZONE, my - QUIET_ZONE)
            {
                pixels[y * side + x] = 0;
            }
        }
    }
    Grey {
        width: side,
        height: side,
        pixels,
    }
}

/// A small deterministic generator (64-bit LCG, high bits), for noise and clutter.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }
}

fn sample(g: &Grey, x: f32, y: f32, fill: u8) -> u8 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: f32, yi: f32| -> f32 {
        if xi < 0.0 || yi < 0.0 || xi >= g.width as f32 || yi >= g.height as f32 {
            f32::from(fill)
        } else {
            f32::from(g.pixels[yi as usize * g.width + xi as usize])
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
    let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
    (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
}

/// A `width` × `height` picture whose pixel (x, y) shows `g` at `source(x, y)`, bilinear.
fn mapped(g: &Grey, width: usize, height: usize, source: impl Fn(f32, f32) -> (f32, f32)) -> Grey {
    let mut pixels = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let (sx, sy) = source(x as f32 + 0.5, y as f32 + 0.5);
            pixels.push(sample(g, sx - 0.5, sy - 0.5, 255));
        }
    }
    Grey {
        width,
        height,
        pixels,
    }
}

fn scaled(g: &Grey, factor: f32) -> Grey {
    let w = (g.width as f32 * factor).round() as usize;
    let h = (g.height as f32 * factor).round() as usize;
    mapped(g, w, h, |x, y| (x / factor, y / factor))
}

/// Turned by `degrees` about its centre, on a canvas large enough for the corners.
fn rotated(g: &Grey, degrees: f32) -> Grey {
    let (s, c) = degrees.to_radians().sin_cos();
    let side = ((g.width.max(g.height) as f32) * (s.abs() + c.abs())).ceil() as usize;
    let (cx, cy) = (g.width as f32 / 2.0, g.height as f32 / 2.0);
    let half = side as f32 / 2.0;
    mapped(g, side, side, |x, y| {
        let (dx, dy) = (x - half, y - half);
        (c * dx + s * dy + cx, -s * dx + c * dy + cy)
    })
}

/// Photographed at an angle: a true perspective (the page's top edge 20 % narrower than its
/// bottom, and shifted sideways), as a homography maps a plane seen from elsewhere.
fn in_perspective(g: &Grey) -> Grey {
    let (w, h) = (g.width as f32, g.height as f32);
    // Where the source corners land: top-left, top-right, bottom-right, bottom-left.
    let dst = [
        (0.12 * w, 0.05 * h),
        (0.92 * w, 0.0),
        (w, h),
        (0.0, 0.95 * h),
    ];
    let src = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let m = homography(dst, src);
    mapped(g, g.width, g.height, |x, y| {
        let d = m[6] * x + m[7] * y + 1.0;
        (
            (m[0] * x + m[1] * y + m[2]) / d,
            (m[3] * x + m[4] * y + m[5]) / d,
        )
    })
}

/// The homography taking the four points `from` to `to` (eight unknowns, Gaussian
/// elimination).
fn homography(from: [(f32, f32); 4], to: [(f32, f32); 4]) -> [f32; 8] {
    let mut a = [[0f64; 9]; 8];
    for (i, (&(x, y), &(u, v))) in from.iter().zip(&to).enumerate() {
        let (x, y, u, v) = (f64::from(x), f64::from(y), f64::from(u), f64::from(v));
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for col in 0..8 {
        let pivot = (col..8)
            .max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))
            .expect("rows");
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (cell, p) in row.iter_mut().zip(pivot_row).skip(col) {
                    *cell -= f * p;
                }
            }
        }
    }
    let mut m = [0f32; 8];
    for (i, v) in m.iter_mut().enumerate() {
        *v = (a[i][8] / a[i][i]) as f32;
    }
    m
}

/// A sheet of paper: off-white, lit from one side, with lines of "print" (dark dashes) and
/// the code pasted at (`left`, `top`).
fn on_paper(code: &Grey, width: usize, height: usize, left: usize, top: usize) -> Grey {
    let mut rng = Lcg(7);
    let mut pixels = Vec::with_capacity(width * height);
    for _ in 0..height {
        for x in 0..width {
            let light = 235.0 - 60.0 * (x as f32 / width as f32);
            pixels.push(light as u8);
        }
    }
    // Printed lines of words above and below the code.
    for line in (20..height.saturating_sub(20)).step_by(28) {
        let mut x = 20;
        while x + 60 < width {
            let word = 15 + (rng.next() % 50) as usize;
            if !(line + 12 > top && line < top + code.height + 12 && x + word > left) {
                for y in line..line + 10 {
                    for xx in x..x + word {
                        pixels[y * width + xx] = 40;
                    }
                }
            }
            x += word + 10;
        }
    }
    for y in 0..code.height {
        for x in 0..code.width {
            let p = code.pixels[y * code.width + x];
            let i = (top + y) * width + left + x;
            // Ink darkens the paper; white stays the paper's colour.
            pixels[i] = pixels[i].min(p.saturating_add(20));
        }
    }
    Grey {
        width,
        height,
        pixels,
    }
}

/// Box blur of radius `r`, three passes (close to a Gaussian).
fn blurred(g: &Grey, r: usize) -> Grey {
    let mut cur = g.clone();
    for _ in 0..3 {
        for horizontal in [true, false] {
            let mut next = cur.clone();
            for y in 0..cur.height {
                for x in 0..cur.width {
                    let (mut sum, mut n) = (0u32, 0u32);
                    for d in 0..=2 * r {
                        let (sx, sy) = if horizontal {
                            ((x + d).checked_sub(r), Some(y))
                        } else {
                            (Some(x), (y + d).checked_sub(r))
                        };
                        if let (Some(sx), Some(sy)) = (sx, sy)
                            && sx < cur.width
                            && sy < cur.height
                        {
                            sum += u32::from(cur.pixels[sy * cur.width + sx]);
                            n += 1;
                        }
                    }
                    next.pixels[y * cur.width + x] = (sum / n) as u8;
                }
            }
            cur = next;
        }
    }
    cur
}

/// Uniform noise of ± `amplitude` on every pixel.
fn noisy(g: &Grey, amplitude: i32, seed: u64) -> Grey {
    let mut rng = Lcg(seed);
    let pixels = g
        .pixels
        .iter()
        .map(|&p| {
            let n = (rng.next() % (2 * amplitude as u32 + 1)) as i32 - amplitude;
            (i32::from(p) + n).clamp(0, 255) as u8
        })
        .collect();
    Grey {
        pixels,
        ..g.clone()
    }
}

fn png_of(g: &Grey, colour: png::ColorType, data: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, g.width as u32, g.height as u32);
    encoder.set_color(colour);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("header");
    writer.write_image_data(&data).expect("pixels");
    writer.finish().expect("finish");
    out
}

fn grey_png(g: &Grey) -> Vec<u8> {
    png_of(g, png::ColorType::Grayscale, g.pixels.clone())
}

/// The picture tinted (a warm indoor light), as a colour JPEG of this quality.
fn colour_jpeg(g: &Grey, quality: u8) -> Vec<u8> {
    let rgb: Vec<u8> = g
        .pixels
        .iter()
        .flat_map(|&p| [p, (f32::from(p) * 0.95) as u8, (f32::from(p) * 0.8) as u8])
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(
            &rgb,
            g.width as u16,
            g.height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("jpeg");
    out
}

#[test]
fn reads_the_generated_png_as_drawn() {
    let text = bill();
    let png = QrImage::new(&text).expect("fits").to_png(4).expect("png");
    assert_eq!(decode_image(&png), Ok(vec![text]));
}

#[test]
fn reads_codes_photographed_badly() {
    let text = bill();
    let code = drawn(&text, 6);
    let page = |c: &Grey| on_paper(c, c.width + 400, c.height + 500, 180, 260);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "scaled down to 3 px a module",
            grey_png(&scaled(&code, 0.5)),
        ),
        ("scaled up, uneven", grey_png(&scaled(&code, 1.37))),
        ("turned 4°", grey_png(&rotated(&code, 4.0))),
        ("turned -7°", grey_png(&rotated(&code, -7.0))),
        ("turned 90° and 3°", grey_png(&rotated(&code, 93.0))),
        ("on printed, unevenly lit paper", grey_png(&page(&code))),
        ("blurred (σ ≈ 0.23 module)", grey_png(&blurred(&code, 1))),
        ("noisy", grey_png(&noisy(&code, 60, 1))),
        (
            "turned, on paper, blurred and noisy",
            grey_png(&noisy(&blurred(&page(&rotated(&code, 3.0)), 1), 25, 2)),
        ),
        ("in perspective", grey_png(&in_perspective(&page(&code)))),
        ("JPEG, quality 85", colour_jpeg(&page(&code), 85)),
        (
            "JPEG, quality 40, turned and noisy",
            colour_jpeg(&noisy(&page(&rotated(&code, -5.0)), 20, 3), 40),
        ),
        (
            "a 12-megapixel photo (4000 × 3000) with the code in a corner",
            colour_jpeg(&on_paper(&scaled(&code, 1.5), 4000, 3000, 2900, 1900), 80),
        ),
    ];
    let mut failed = Vec::new();
    for (name, bytes) in &cases {
        match decode_image(bytes) {
            Ok(found) if found == [text.clone()] => {}
            other => failed.push(format!("{name}: {other:?}")),
        }
    }
    assert!(failed.is_empty(), "not read:\n{}", failed.join("\n"));
}

#[test]
fn colour_png_with_transparency_is_read_over_white() {
    let text = "K:PR|V:01|C:1|R:840000000095584510|N:Primalac|I:RSD1025,|SF:289";
    let code = drawn(text, 4);
    // Dark modules opaque blue, light ones fully transparent (black underneath).
    let rgba: Vec<u8> = code
        .pixels
        .iter()
        .flat_map(|&p| {
            if p == 0 {
                [10, 20, 90, 255]
            } else {
                [0, 0, 0, 0]
            }
        })
        .collect();
    let png = png_of(&code, png::ColorType::Rgba, rgba);
    assert_eq!(decode_image(&png), Ok(vec![text.to_owned()]));
}

#[test]
fn two_codes_in_one_picture_are_both_read_once_each() {
    let (a, b) = ("first code", "second code");
    let (ca, cb) = (drawn(a, 5), drawn(b, 5));
    let mut sheet = on_paper(&ca, ca.width * 2 + 300, ca.height + 200, 50, 100);
    let left = ca.width + 200;
    for y in 0..cb.height {
        for x in 0..cb.width {
            sheet.pixels[(100 + y) * sheet.width + left + x] = cb.pixels[y * cb.width + x];
        }
    }
    let mut found = decode_image(&grey_png(&sheet)).expect("both read");
    found.sort();
    assert_eq!(found, [a, b]);
}

#[test]
fn clear_errors_for_what_is_not_a_readable_code() {
    assert_eq!(decode_image(b""), Err(DecodeError::NotAnImage));
    assert_eq!(
        decode_image(b"%PDF-1.7\n%\xe2\xe3"),
        Err(DecodeError::NotAnImage)
    );
    assert_eq!(decode_image(b"GIF89a...."), Err(DecodeError::NotAnImage));

    // Paper with print but no code.
    let nothing = Grey {
        width: 1,
        height: 1,
        pixels: vec![255],
    };
    let no_code = on_paper(&nothing, 800, 600, 0, 0);
    assert_eq!(
        decode_image(&grey_png(&no_code)),
        Err(DecodeError::NoQrCode)
    );
    assert_eq!(
        decode_image(&colour_jpeg(&no_code, 80)),
        Err(DecodeError::NoQrCode)
    );

    // A PNG cut short, and one with a damaged chunk.
    let png = grey_png(&drawn("truncated", 4));
    match decode_image(&png[..png.len() / 2]) {
        Err(DecodeError::Damaged { format: "PNG", .. }) => {}
        other => panic!("a truncated PNG: {other:?}"),
    }
    let mut bad = png.clone();
    bad[40] ^= 0xFF;
    assert!(
        matches!(
            decode_image(&bad),
            Err(DecodeError::Damaged { format: "PNG", .. })
        ),
        "a corrupted PNG"
    );
    let jpeg = colour_jpeg(&drawn("truncated", 4), 90);
    assert!(matches!(
        decode_image(&jpeg[..20]),
        Err(DecodeError::Damaged { format: "JPEG", .. })
    ));
}

/// A valid PNG header that claims `width` × `height` pixels, with no pixels after it.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = grey_png(&drawn("bomb", 1));
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    // The IHDR's CRC over its type and data, so that only the size is "wrong".
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = u32::MAX;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[test]
fn huge_images_are_refused_from_their_header_before_decoding() {
    for (w, h) in [(100_000, 100_000), (12_001, 10), (8_000, 6_000)] {
        assert_eq!(
            decode_image(&png_claiming(w, h)),
            Err(DecodeError::TooLarge {
                width: w,
                height: h
            }),
            "{w} × {h}"
        );
    }
    // Within the limits the same header is read, and the missing pixels are the error.
    assert!(matches!(
        decode_image(&png_claiming(6_000, 4_000)),
        Err(DecodeError::Damaged { .. })
    ));

    // A JPEG whose frame header claims 60,000 × 60,000 pixels.
    let mut jpeg = colour_jpeg(&drawn("bomb", 2), 90);
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    jpeg[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
    assert_eq!(
        decode_image(&jpeg),
        Err(DecodeError::TooLarge {
            width: 60_000,
            height: 60_000
        })
    );
}

#[test]
fn a_photo_too_blurred_to_read_says_so() {
    // σ ≈ 0.4 module: zbarimg still reads this one; rqrr finds nothing. The person is asked
    // for a sharper photo, and nothing wrong is ever returned.
    let code = blurred(&drawn(&bill(), 6), 2);
    match decode_image(&grey_png(&code)) {
        Err(DecodeError::NoQrCode | DecodeError::Unreadable(_)) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn shrinking_averages_blocks() {
    let g = Grey {
        width: 3,
        height: 3,
        pixels: vec![0, 100, 200, 50, 150, 250, 10, 20, 30],
    };
    let s = g.shrunk(2);
    assert_eq!((s.width, s.height), (2, 2));
    // (0+100+50+150)/4, (200+250)/2, (10+20)/2, 30.
    assert_eq!(s.pixels, [75, 225, 15, 30]);
    assert_eq!(g.shrunk(1), g);
}
