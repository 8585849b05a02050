//! The two typefaces embedded in ePošta's PDFs (Noto Sans Regular and Bold, cut down to the
//! letters Serbian and its neighbours need, see `fonts/README.md`): glyph lookup and text
//! widths.

use std::sync::LazyLock;

use ttf_parser::{Face, GlyphId};

use super::PdfError;

/// Which face a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// One parsed face and the metrics the PDF font descriptor needs.
pub struct Typeface {
    pub(crate) data: &'static [u8],
    pub(crate) face: Face<'static>,
    /// The PostScript name, e.g. `NotoSans-Bold`.
    pub(crate) name: &'static str,
    pub(crate) weight: u16,
    units_per_em: f32,
    /// Drawn for characters the face lacks, so a document never fails on an unusual name.
    fallback: (GlyphId, char),
}

struct Typefaces {
    regular: Typeface,
    bold: Typeface,
}

static REGULAR: &[u8] = include_bytes!("../../fonts/NotoSans-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../fonts/NotoSans-Bold.ttf");

static TYPEFACES: LazyLock<Result<Typefaces, String>> = LazyLock::new(|| {
    Ok(Typefaces {
        regular: Typeface::parse(REGULAR, "NotoSans-Regular", 400)?,
        bold: Typeface::parse(BOLD, "NotoSans-Bold", 700)?,
    })
});

impl Typeface {
    fn parse(data: &'static [u8], name: &'static str, weight: u16) -> Result<Self, String> {
        let face = Face::parse(data, 0).map_err(|e| format!("{name}: {e}"))?;
        let fallback = face
            .glyph_index('?')
            .map(|g| (g, '?'))
            .ok_or_else(|| format!("{name} has no question mark"))?;
        Ok(Typeface {
            data,
            units_per_em: f32::from(face.units_per_em()),
            face,
            name,
            weight,
            fallback,
        })
    }

    pub fn get(weight: Weight) -> Result<&'static Typeface, PdfError> {
        let faces = TYPEFACES.as_ref().map_err(|e| PdfError::Font(e.clone()))?;
        Ok(match weight {
            Weight::Regular => &faces.regular,
            Weight::Bold => &faces.bold,
        })
    }

    /// The glyph for `c` and the character it stands for in extracted text: `c` itself, or
    /// the fallback question mark when the face lacks it.
    pub(crate) fn glyph(&self, c: char) -> (GlyphId, char) {
        match self.face.glyph_index(c) {
            Some(g) => (g, c),
            None => self.fallback,
        }
    }

    /// Advance width of a glyph in thousandths of the font size (PDF glyph space).
    pub(crate) fn advance(&self, g: GlyphId) -> f32 {
        f32::from(self.face.glyph_hor_advance(g).unwrap_or(0)) * 1000.0 / self.units_per_em
    }

    /// Width of `text` at `size` points, in points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c).0))
            .sum::<f32>()
            * size
            / 1000.0
    }

    /// A font-unit metric in thousandths of the font size.
    pub(crate) fn scaled(&self, v: i16) -> f32 {
        f32::from(v) * 1000.0 / self.units_per_em
    }
}

/// Makes user text printable on one line: control characters become spaces, runs of white
/// space collapse, and the Serbian letters typed as a base letter plus a combining accent
/// (as some systems send them) are joined into the single letters the font has.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let join: Option<fn(char) -> Option<char>> = match c {
            '\u{030C}' => Some(caron),
            '\u{0301}' => Some(acute),
            _ => None,
        };
        if let Some(join) = join {
            // A mark the font cannot join is dropped: a bare letter reads better than a
            // mark drawn beside it.
            if let Some(base) = out.pop() {
                out.push(join(base).unwrap_or(base));
            }
        } else if c.is_whitespace() || c.is_control() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

fn caron(base: char) -> Option<char> {
    Some(match base {
        'c' => 'č',
        'C' => 'Č',
        's' => 'š',
        'S' => 'Š',
        'z' => 'ž',
        'Z' => 'Ž',
        _ => return None,
    })
}

fn acute(base: char) -> Option<char> {
    Some(match base {
        'c' => 'ć',
        'C' => 'Ć',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_faces_have_every_serbian_letter() {
        let letters = "čćšžđČĆŠŽĐабвгдђежзијклљмнњопрстћуфхцчџшАБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШ№€";
        for weight in [Weight::Regular, Weight::Bold] {
            let face = Typeface::get(weight).expect("embedded font parses");
            for c in letters.chars() {
                assert_eq!(face.glyph(c).1, c, "{} lacks {c}", face.name);
                assert!(face.advance(face.glyph(c).0) > 0.0);
            }
            // Latin A and Cyrillic А are different glyphs, so extracted text keeps its script.
            assert_ne!(face.glyph('A').0, face.glyph('А').0);
            assert_eq!(face.glyph('漢').1, '?');
        }
    }

    #[test]
    fn widths_grow_with_text_and_size() {
        let face = Typeface::get(Weight::Regular).expect("embedded font parses");
        let w = face.width("Београд", 10.0);
        assert!(w > 20.0 && w < 60.0, "{w}");
        assert!((face.width("Београд", 20.0) - 2.0 * w).abs() < 0.01);
        assert!(
            Typeface::get(Weight::Bold)
                .expect("parses")
                .width("Београд", 10.0)
                > w
        );
    }

    #[test]
    fn clean_makes_one_printable_line() {
        assert_eq!(clean("  Kneza\tMihaila\r\n 6 "), "Kneza Mihaila 6");
        assert_eq!(clean("Sc\u{030C}epanovic\u{0301}"), "Sčepanović");
        assert_eq!(clean("Z\u{030C}arko"), "Žarko");
        assert_eq!(clean("a\u{030C}"), "a");
        assert_eq!(clean("\u{0301}x"), "x");
    }
}
