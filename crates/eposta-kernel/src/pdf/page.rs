//! A small page writer on top of `pdf-writer`: pages drawn in millimetres from the top-left
//! corner, text in the two embedded faces (subset to the glyphs the document uses, with a
//! ToUnicode map so text can be searched, copied and read aloud), QR codes as rectangles,
//! compressed streams.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use subsetter::GlyphRemapper;

use qrcode::{Color, EcLevel, QrCode};

use super::PdfError;
use super::fonts::{Typeface, Weight};

/// Points per millimetre.
pub const MM: f32 = 72.0 / 25.4;
/// A QR code's quiet zone, in modules (ISO/IEC 18004 asks for 4).
const QR_QUIET: usize = 4;

const SYSTEM_INFO: SystemInfo<'static> = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// The glyphs a document uses from one face.
struct FontUse {
    face: &'static Typeface,
    resource: Name<'static>,
    remapper: GlyphRemapper,
    /// The character each new glyph id stands for, indexed by the new id (0 is .notdef).
    chars: Vec<Option<char>>,
}

impl FontUse {
    fn new(weight: Weight, resource: Name<'static>) -> Result<Self, PdfError> {
        Ok(FontUse {
            face: Typeface::get(weight)?,
            resource,
            remapper: GlyphRemapper::new(),
            chars: vec![None],
        })
    }

    /// The text as two-byte glyph ids of the subset (the Identity-H encoding).
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let (glyph, shown) = self.face.glyph(c);
            let new = self.remapper.remap(glyph.0);
            let slot = usize::from(new);
            if slot >= self.chars.len() {
                self.chars.resize(slot + 1, None);
            }
            self.chars[slot].get_or_insert(shown);
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }
}

/// A document being drawn, page by page.
pub struct Document {
    width_mm: f32,
    height_mm: f32,
    regular: FontUse,
    bold: FontUse,
    /// Compressed content streams, one per page.
    pages: Vec<Vec<u8>>,
    title: String,
    subject: Option<String>,
    /// Entries of our own in the document information dictionary, e.g. a receipt's token.
    info: Vec<(&'static str, String)>,
}

/// One page's drawing operations. Coordinates are millimetres from the top-left corner;
/// text is placed by its baseline.
pub struct Page<'d> {
    doc: &'d mut Document,
    content: Content,
}

impl Document {
    pub fn new(width_mm: f32, height_mm: f32, title: String) -> Result<Self, PdfError> {
        Ok(Document {
            width_mm,
            height_mm,
            regular: FontUse::new(Weight::Regular, Name(b"F1"))?,
            bold: FontUse::new(Weight::Bold, Name(b"F2"))?,
            pages: Vec::new(),
            title,
            subject: None,
            info: Vec::new(),
        })
    }

    /// The document's subject, which viewers show among its properties.
    pub fn subject(&mut self, subject: String) {
        self.subject = Some(subject);
    }

    /// An entry of our own in the document information dictionary (`pdfinfo -custom` lists
    /// it); for data a program reads back out of the file. `key` is a PDF name: ASCII
    /// letters and digits.
    pub fn info(&mut self, key: &'static str, value: String) {
        self.info.push((key, value));
    }

    pub fn page(&mut self) -> Page<'_> {
        Page {
            doc: self,
            content: Content::new(),
        }
    }

    /// Writes the whole file.
    pub fn finish(self) -> Result<Vec<u8>, PdfError> {
        let mut pdf = Pdf::new();
        let mut alloc = Ref::new(1);
        let catalog = alloc.bump();
        let tree = alloc.bump();
        let info = alloc.bump();
        let fonts = [&self.regular, &self.bold].map(|f| (f, FontRefs::new(&mut alloc)));
        let pages: Vec<(Ref, Ref)> = self
            .pages
            .iter()
            .map(|_| (alloc.bump(), alloc.bump()))
            .collect();

        pdf.catalog(catalog).pages(tree).lang(TextStr("sr"));
        let mut document_info = pdf.document_info(info);
        document_info
            .title(TextStr(&self.title))
            .producer(TextStr("ePošta"));
        if let Some(subject) = &self.subject {
            document_info.subject(TextStr(subject));
        }
        for (key, value) in &self.info {
            document_info.pair(Name(key.as_bytes()), TextStr(value));
        }
        document_info.finish();
        pdf.pages(tree)
            .kids(pages.iter().map(|&(page, _)| page))
            .count(i32::try_from(pages.len()).map_err(|_| PdfError::TooManyPages(pages.len()))?);

        let media = Rect::new(0.0, 0.0, self.width_mm * MM, self.height_mm * MM);
        for (&(page_id, content_id), stream) in pages.iter().zip(&self.pages) {
            let mut page = pdf.page(page_id);
            page.media_box(media).parent(tree).contents(content_id);
            let mut resources = page.resources();
            let mut font_dict = resources.fonts();
            for (font, refs) in &fonts {
                font_dict.pair(font.resource, refs.type0);
            }
            font_dict.finish();
            resources.finish();
            page.finish();
            pdf.stream(content_id, stream).filter(Filter::FlateDecode);
        }
        for (font, refs) in &fonts {
            write_font(&mut pdf, font, refs)?;
        }
        Ok(pdf.finish())
    }
}

impl Page<'_> {
    /// Sets `text` (already cleaned to one line) with its baseline at `baseline` mm from the
    /// top.
    pub fn text(&mut self, weight: Weight, size: f32, x: f32, baseline: f32, text: &str) {
        if text.is_empty() {
            return;
        }
        let y = (self.doc.height_mm - baseline) * MM;
        let font = match weight {
            Weight::Regular => &mut self.doc.regular,
            Weight::Bold => &mut self.doc.bold,
        };
        let glyphs = font.encode(text);
        self.content
            .begin_text()
            .set_font(font.resource, size)
            .next_line(x * MM, y)
            .show(Str(&glyphs))
            .end_text();
    }

    /// Fills rectangles given as (x, top, width, height) in millimetres, in black.
    pub fn fill_rects(&mut self, rects: impl IntoIterator<Item = (f32, f32, f32, f32)>) {
        let height = self.doc.height_mm;
        let mut any = false;
        for (x, top, w, h) in rects {
            self.content
                .rect(x * MM, (height - top - h) * MM, w * MM, h * MM);
            any = true;
        }
        if any {
            self.content.fill_nonzero();
        }
    }

    /// A horizontal rule across the page at `y` mm from the top.
    pub fn rule(&mut self, x: f32, y: f32, width: f32, thickness: f32) {
        self.fill_rects([(x, y - thickness / 2.0, width, thickness)]);
    }

    /// A QR code of `data` (error correction level M) in a `size` mm square, quiet zone
    /// included, at `x`, `top`; dark modules are rectangles, one per horizontal run.
    pub fn qr_code(&mut self, data: &str, x: f32, top: f32, size: f32) -> Result<(), PdfError> {
        let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
            .map_err(|_| PdfError::QrTooLong(data.len()))?;
        let n = code.width();
        let module = size / (n + 2 * QR_QUIET) as f32;
        let dark: Vec<bool> = code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        let mut rects = Vec::new();
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if !dark[row * n + col] {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && dark[row * n + col] {
                    col += 1;
                }
                // A hair of overlap with the next row keeps renderers from drawing seams.
                rects.push((
                    x + (QR_QUIET + start) as f32 * module,
                    top + (QR_QUIET + row) as f32 * module,
                    (col - start) as f32 * module,
                    module + 0.01,
                ));
            }
        }
        self.fill_rects(rects);
        Ok(())
    }

    pub fn finish(self) {
        let raw = self.content.finish();
        self.doc.pages.push(deflate(raw.as_slice()));
    }
}

struct FontRefs {
    type0: Ref,
    cid: Ref,
    descriptor: Ref,
    file: Ref,
    to_unicode: Ref,
}

impl FontRefs {
    fn new(alloc: &mut Ref) -> Self {
        FontRefs {
            type0: alloc.bump(),
            cid: alloc.bump(),
            descriptor: alloc.bump(),
            file: alloc.bump(),
            to_unicode: alloc.bump(),
        }
    }
}

/// Writes one face as a Type 0 font with a TrueType CID font beneath it: the only way to
/// address more than 256 glyphs (Latin and Cyrillic together) with a searchable text layer.
fn write_font(pdf: &mut Pdf, font: &FontUse, refs: &FontRefs) -> Result<(), PdfError> {
    let face = font.face;
    let program = subsetter::subset(face.data, 0, &font.remapper)
        .map_err(|e| PdfError::Font(format!("{}: {e}", face.name)))?;
    let base_name = format!("{}+{}", subset_tag(&font.remapper), face.name);
    let base_name = Name(base_name.as_bytes());

    pdf.type0_font(refs.type0)
        .base_font(base_name)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(refs.cid)
        .to_unicode(refs.to_unicode);

    let widths: Vec<f32> = font
        .remapper
        .remapped_gids()
        .map(|old| face.advance(ttf_parser::GlyphId(old)))
        .collect();
    let mut cid = pdf.cid_font(refs.cid);
    cid.subtype(CidFontType::Type2)
        .base_font(base_name)
        .system_info(SYSTEM_INFO)
        .font_descriptor(refs.descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    cid.widths().consecutive(0, widths);
    cid.finish();

    let ttf = &face.face;
    let bbox = ttf.global_bounding_box();
    let ascent = face.scaled(ttf.ascender());
    pdf.font_descriptor(refs.descriptor)
        .name(base_name)
        // Symbolic: glyphs are addressed by id, not through a standard Latin encoding.
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(
            face.scaled(bbox.x_min),
            face.scaled(bbox.y_min),
            face.scaled(bbox.x_max),
            face.scaled(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(ascent)
        .descent(face.scaled(ttf.descender()))
        .cap_height(ttf.capital_height().map_or(ascent, |h| face.scaled(h)))
        .stem_v(10.0 + 0.244 * (f32::from(face.weight) - 50.0))
        .font_file2(refs.file);

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), SYSTEM_INFO);
    for (new, c) in font.chars.iter().enumerate() {
        if let (Some(c), Ok(new)) = (c, u16::try_from(new)) {
            cmap.pair(new, *c);
        }
    }
    pdf.stream(refs.to_unicode, &deflate(cmap.finish().as_slice()))
        .filter(Filter::FlateDecode);

    let length1 =
        i32::try_from(program.len()).map_err(|_| PdfError::Font("font too large".into()))?;
    pdf.stream(refs.file, &deflate(&program))
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), length1);
    Ok(())
}

/// Six capital letters naming a subset (PDF 32000 §9.6.4), derived from the glyphs it holds
/// so the same document always gives the same bytes.
fn subset_tag(remapper: &GlyphRemapper) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for g in remapper.remapped_gids() {
        for b in g.to_le_bytes() {
            hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    }
    (0..6)
        .map(|_| {
            let letter = char::from(b'A' + (hash % 26) as u8);
            hash /= 26;
            letter
        })
        .collect()
}

/// Level 1: a quarter less CPU than the default level 6 for a fifth more bytes (2.6 MB
/// instead of 2.1 MB for 1,000 labels), and a batch is rendered while the caller waits.
fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 1)
}
