//! Labels read back by third-party tools: poppler's `pdftotext` finds the text in both
//! scripts, `pdfinfo` the page size, and `zbarimg` decodes the barcodes from a 300 dpi
//! rendering (`pdftoppm`). Missing tools fail under CI and are reported elsewhere.

use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use eposta_formats::s10::S10;
use eposta_kernel::testing::peer_available;
use eposta_postal::labels::{
    Address, Error, LabelData, MAX_LABELS, code128, label_pdf, labels_pdf,
};

const INSTALL: &str = "apt-get install poppler-utils zbar-tools";

/// Whether every tool in `tools` runs here (see `peer_available`).
fn tools(test: &str, tools: &[&str]) -> bool {
    tools.iter().all(|tool| {
        let found = Command::new(tool).arg("-v").output().is_ok();
        peer_available(test, found, tool, INSTALL)
    })
}

/// Runs a poppler tool; it must succeed without a word on standard error, where poppler
/// reports syntax errors and damaged fonts.
fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd} {args:?} failed: {stderr}");
    assert!(stderr.is_empty(), "{cmd} {args:?} complained: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn id(s: &str) -> S10 {
    S10::parse(s).expect("valid S10").id
}

/// A Latin sender and a Cyrillic recipient, together holding č ć š ž đ and the Serbian
/// Cyrillic letters.
fn sample() -> LabelData {
    LabelData {
        tracking_number: id("RA123456785RS"),
        booking_code: "BK4F7Q9M2X".into(),
        product: "Paket do 2 kg".into(),
        weight_g: 1250,
        options: vec![
            "Otkupnina 1.500,00 RSD".into(),
            "Povratnica".into(),
            "SMS obaveštenje".into(),
        ],
        sender: Address {
            name: "Đurđa Šušić".into(),
            street: "Čačanska".into(),
            number: "12a".into(),
            postal_code: "31210".into(),
            place: "Požega".into(),
            phone: Some("+381 64 1234567".into()),
        },
        recipient: Address {
            name: "Љубица Ђорђевић-Жујовић".into(),
            street: "Кнеза Михаила".into(),
            number: "6".into(),
            postal_code: "11000".into(),
            place: "Београд".into(),
            phone: Some("+381 11 3210000".into()),
        },
        date: NaiveDate::from_ymd_opt(2026, 3, 15).expect("date"),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_str().expect("UTF-8 path").to_owned()
}

/// The symbols zbar finds on page `page` rendered at 300 dpi, as `TYPE:data`, sorted.
/// Only Code 128 and QR are enabled, so that text is never misread as another symbology.
fn barcodes(dir: &Path, pdf: &str, page: usize) -> Vec<String> {
    let png = dir.join(format!("page-{page}"));
    let png = png.to_str().expect("UTF-8 path");
    let p = page.to_string();
    run(
        "pdftoppm",
        &[
            "-r",
            "300",
            "-png",
            "-singlefile",
            "-f",
            &p,
            "-l",
            &p,
            pdf,
            png,
        ],
    );
    let mut found: Vec<String> = zbar(&format!("{png}.png"))
        .lines()
        .map(str::to_owned)
        .collect();
    found.sort();
    found
}

fn zbar(image: &str) -> String {
    let out = Command::new("zbarimg")
        .args([
            "-q",
            "-Sdisable",
            "-Scode128.enable",
            "-Sqrcode.enable",
            image,
        ])
        .output()
        .expect("zbarimg runs");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn the_text_reads_back_in_both_scripts() {
    const TEST: &str = "the_text_reads_back_in_both_scripts";
    let pdf = label_pdf(&sample()).expect("renders");
    if !tools(TEST, &["pdftotext", "pdfinfo"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "label.pdf", &pdf);
    let text = run("pdftotext", &["-enc", "UTF-8", &file, "-"]);
    for expected in [
        "RA 123 456 785 RS",
        "Đurđa Šušić",
        "Čačanska 12a",
        "31210 Požega",
        "Љубица Ђорђевић-Жујовић",
        "Кнеза Михаила 6",
        "11000 Београд",
        "Paket do 2 kg",
        "1,25 kg",
        "15.03.2026.",
        "Otkupnina 1.500,00 RSD",
        "SMS obaveštenje",
        "BK4F7Q9M2X",
        "+381 11 3210000",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
}

#[test]
fn the_page_is_100_by_150_mm() {
    const TEST: &str = "the_page_is_100_by_150_mm";
    let pdf = label_pdf(&sample()).expect("renders");
    if !tools(TEST, &["pdfinfo"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let info = run("pdfinfo", &[&write(dir.path(), "label.pdf", &pdf)]);
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in:\n{info}"))
            .trim()
            .to_owned()
    };
    assert_eq!(field("Pages:"), "1");
    // "283.465 x 425.197 pts"
    let size = field("Page size:");
    let pts: Vec<f64> = size
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let mm: Vec<f64> = pts.iter().map(|p| p * 25.4 / 72.0).collect();
    assert_eq!(mm.len(), 2, "{size}");
    assert!(
        (mm[0] - 100.0).abs() < 0.01 && (mm[1] - 150.0).abs() < 0.01,
        "{size}"
    );
}

#[test]
fn the_barcodes_decode_to_the_identifier_and_the_booking_code() {
    const TEST: &str = "the_barcodes_decode_to_the_identifier_and_the_booking_code";
    let pdf = label_pdf(&sample()).expect("renders");
    if !tools(TEST, &["pdftoppm", "zbarimg"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "label.pdf", &pdf);
    assert_eq!(
        barcodes(dir.path(), &file, 1),
        ["CODE-128:RA123456785RS", "QR-Code:BK4F7Q9M2X"]
    );
}

/// Measured on a 300 dpi rendering: the narrow bar is at least 0.33 mm, the bars at least
/// 12.5 mm high, and 10 narrow bars of white lie either side (S10 §1.5, ISO/IEC 15417).
#[test]
fn the_code128_has_the_s10_dimensions() {
    const TEST: &str = "the_code128_has_the_s10_dimensions";
    const DPI: f64 = 300.0;
    let pdf = label_pdf(&sample()).expect("renders");
    if !tools(TEST, &["pdftoppm"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "label.pdf", &pdf);
    let out = dir.path().join("gray");
    let out = out.to_str().expect("UTF-8 path");
    run(
        "pdftoppm",
        &["-r", "300", "-gray", "-singlefile", &file, out],
    );
    let image = Gray::read(&format!("{out}.pgm"));
    let mm = |px: usize| px as f64 * 25.4 / DPI;

    // The barcode is where many dark runs repeat unchanged 5 mm further down (text and the
    // QR code's modules change sooner).
    let (row, bars) = (0..image.height - 60)
        .map(|y| (y, image.dark_runs(y)))
        .find(|(y, runs)| runs.len() > 20 && *runs == image.dark_runs(y + 60))
        .expect("a barcode");
    // Three bars a symbol, four in the stop.
    assert_eq!(bars.len(), 13 * 3 + 4, "row {row}: {bars:?}");
    let (left, right) = (bars[0].0, bars[bars.len() - 1].1);
    let x = mm(right - left) / 156.0;
    assert!(x >= 0.33, "X = {x:.3} mm");
    let narrowest = bars.iter().map(|(a, b)| b - a).min().expect("bars");
    assert!(
        mm(narrowest) >= 0.33 * 0.9,
        "narrowest bar {:.3} mm",
        mm(narrowest)
    );
    assert!(mm(left) >= 10.0 * x, "left quiet zone {:.2} mm", mm(left));
    assert!(mm(image.width - right) >= 10.0 * x, "right quiet zone");
    // Nothing else within the quiet zones, on any row the bars cover.
    let (a, b) = bars[0];
    let column = (a + b) / 2;
    let top = (0..=row)
        .rev()
        .take_while(|&y| image.dark(column, y))
        .last()
        .expect("bar");
    let bottom = (row..image.height)
        .take_while(|&y| image.dark(column, y))
        .last()
        .expect("bar");
    let height = mm(bottom - top + 1);
    assert!(height >= 12.5, "bars {height:.2} mm high");
    let quiet = (10.0 * x * DPI / 25.4) as usize;
    for y in top..=bottom {
        let dark = image.dark_runs(y);
        assert_eq!(dark.first().map(|r| r.0), Some(left), "row {y}");
        assert!(
            dark.iter().all(|&(a, b)| a + quiet >= left && b <= right),
            "row {y}"
        );
    }
}

/// A binary greyscale PGM (P5), as `pdftoppm -gray` writes it.
struct Gray {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Gray {
    fn read(path: &str) -> Gray {
        let data = std::fs::read(path).expect("read PGM");
        // Header: "P5", width, height, maximum value, each followed by white space.
        let mut fields = Vec::new();
        let mut pos = 0;
        while fields.len() < 4 {
            while data[pos].is_ascii_whitespace() {
                pos += 1;
            }
            let start = pos;
            while !data[pos].is_ascii_whitespace() {
                pos += 1;
            }
            fields.push(String::from_utf8_lossy(&data[start..pos]).into_owned());
        }
        assert_eq!(fields[0], "P5");
        let width: usize = fields[1].parse().expect("width");
        let height: usize = fields[2].parse().expect("height");
        let pixels = data[pos + 1..].to_vec();
        assert_eq!(pixels.len(), width * height);
        Gray {
            width,
            height,
            pixels,
        }
    }

    fn dark(&self, x: usize, y: usize) -> bool {
        self.pixels[y * self.width + x] < 128
    }

    /// The dark runs of row `y` as [start, end) pixel ranges.
    fn dark_runs(&self, y: usize) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let mut x = 0;
        while x < self.width {
            if self.dark(x, y) {
                let start = x;
                while x < self.width && self.dark(x, y) {
                    x += 1;
                }
                runs.push((start, x));
            } else {
                x += 1;
            }
        }
        runs
    }
}

#[test]
fn a_batch_has_a_page_per_label_in_order() {
    const TEST: &str = "a_batch_has_a_page_per_label_in_order";
    let items = [
        ("RA123456785RS", "Петар Петровић", "BK-0001"),
        ("EE876543216CA", "Jovana Marković", "BK-0002"),
        ("CP000000155RS", "Милош Ђокић", "BK-0003"),
    ];
    let labels: Vec<LabelData> = items
        .iter()
        .map(|&(s10, name, code)| {
            let mut l = sample();
            l.tracking_number = id(s10);
            l.recipient.name = name.into();
            l.booking_code = code.into();
            l
        })
        .collect();
    let pdf = labels_pdf(&labels).expect("renders");
    // The fonts are embedded once for the whole batch.
    assert_eq!(count(&pdf, b"/FontFile2"), 2);
    if !tools(TEST, &["pdfinfo", "pdftotext", "pdftoppm", "zbarimg"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "batch.pdf", &pdf);
    assert!(run("pdfinfo", &[&file]).contains("Pages:           3"));
    for (k, (s10, name, code)) in items.iter().enumerate() {
        let page = (k + 1).to_string();
        let text = run(
            "pdftotext",
            &["-enc", "UTF-8", "-f", &page, "-l", &page, &file, "-"],
        );
        assert!(text.contains(&id(s10).grouped()), "page {page}:\n{text}");
        assert!(text.contains(name), "page {page}:\n{text}");
        assert_eq!(
            barcodes(dir.path(), &file, k + 1),
            [format!("CODE-128:{s10}"), format!("QR-Code:{code}")]
        );
    }
}

/// Every symbol value a label can hold (data in sets B and C, the set changes, and every
/// check value 0–102) drawn as a bitmap and decoded by zbar: the pattern table is the
/// standard's, not merely consistent with itself.
#[test]
fn every_code128_pattern_decodes_with_zbar() {
    const TEST: &str = "every_code128_pattern_decodes_with_zbar";
    let printable: String = (' '..='~').collect();
    let pairs: String = (0..100).map(|n| format!("{n:02}")).collect();
    let mut texts = vec![printable, format!("A{pairs}B")];
    let mut checks = [false; 103];
    for a in 'A'..='Z' {
        for b in ' '..='~' {
            let text = format!("S{a}{b}");
            let symbols = code128::encode(&text).expect("encodes");
            let check = usize::from(symbols[symbols.len() - 2]);
            if !checks[check] {
                checks[check] = true;
                texts.push(text);
            }
        }
    }
    assert!(checks.iter().all(|&c| c), "some check value never came up");
    if !tools(TEST, &["zbarimg"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for (k, text) in texts.iter().enumerate() {
        let image = pbm(&code128::modules(&code128::encode(text).expect("encodes")));
        let file = write(dir.path(), &format!("c{k}.pbm"), &image);
        assert_eq!(zbar(&file), format!("CODE-128:{text}\n"), "{text:?}");
    }
}

#[test]
fn rendering_is_deterministic_and_refuses_bad_batches() {
    let a = label_pdf(&sample()).expect("renders");
    assert!(a.starts_with(b"%PDF-"));
    assert_eq!(a, label_pdf(&sample()).expect("renders"));
    assert!(matches!(labels_pdf(&[]), Err(Error::NoLabels)));
    let too_many = vec![sample(); MAX_LABELS + 1];
    assert!(matches!(labels_pdf(&too_many), Err(Error::TooManyLabels(n)) if n == MAX_LABELS + 1));
    let mut long = sample();
    long.booking_code = "B".repeat(65);
    assert!(matches!(
        label_pdf(&long),
        Err(Error::BookingCodeTooLong(65))
    ));
}

/// A plain PBM bitmap of barcode modules: 3 pixels a module, 60 high, 10-module quiet zones.
fn pbm(modules: &[bool]) -> Vec<u8> {
    const SCALE: usize = 3;
    let quiet = vec![false; 10];
    let row: String = quiet
        .iter()
        .chain(modules)
        .chain(&quiet)
        .flat_map(|&m| std::iter::repeat_n(if m { '1' } else { '0' }, SCALE))
        .collect();
    let width = row.len();
    let mut out = format!("P1\n{width} 60\n");
    for _ in 0..60 {
        out.push_str(&row);
        out.push('\n');
    }
    out.into_bytes()
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}
