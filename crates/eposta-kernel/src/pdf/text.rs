//! Setting text in a box: a column of lines from the top down, and long text fitted into
//! its room (smaller type first, then more lines, then an ellipsis).

use super::PdfError;
use super::fonts::{Typeface, Weight, clean};
use super::page::{MM, Page};

/// Line height as a multiple of the type size.
pub const LEADING: f32 = 1.2;

/// A column of lines set from the top down.
pub struct Flow {
    pub x: f32,
    pub width: f32,
    /// The baseline of the last line drawn (or the top of the block).
    pub y: f32,
}

impl Flow {
    pub fn new(x: f32, width: f32, top: f32) -> Self {
        Flow { x, width, y: top }
    }

    pub fn gap(&mut self, mm: f32) {
        self.y += mm;
    }

    /// One line, shrunk down to `min` points and then cut to fit.
    pub fn line(
        &mut self,
        page: &mut Page<'_>,
        weight: Weight,
        text: &str,
        size: f32,
        min: f32,
    ) -> Result<(), PdfError> {
        let face = Typeface::get(weight)?;
        let (size, text) = fit(face, &clean(text), size, min, self.width);
        self.y += size * LEADING / MM;
        page.text(weight, size, self.x, self.y, &text);
        Ok(())
    }

    /// Up to `max_lines` lines, at the largest size down to `min` at which the text fits.
    pub fn wrapped(
        &mut self,
        page: &mut Page<'_>,
        weight: Weight,
        text: &str,
        size: f32,
        min: f32,
        max_lines: usize,
    ) -> Result<(), PdfError> {
        let face = Typeface::get(weight)?;
        let (size, lines) = fit_lines(face, &clean(text), size, min, self.width, max_lines);
        for line in lines {
            self.y += size * LEADING / MM;
            page.text(weight, size, self.x, self.y, &line);
        }
        Ok(())
    }
}

/// The largest size from `size` down to `min` (in half points) at which `text` fits
/// `width` mm on one line; at `min`, the text cut short with an ellipsis.
pub fn fit(face: &Typeface, text: &str, size: f32, min: f32, width: f32) -> (f32, String) {
    let limit = width * MM;
    let mut s = size;
    while s >= min {
        if face.width(text, s) <= limit {
            return (s, text.to_owned());
        }
        s -= 0.5;
    }
    (min, ellipsize(face, text, min, limit))
}

/// Like [`fit`] over several lines, breaking between words (and inside a word too long for
/// a line).
pub fn fit_lines(
    face: &Typeface,
    text: &str,
    size: f32,
    min: f32,
    width: f32,
    max_lines: usize,
) -> (f32, Vec<String>) {
    let limit = width * MM;
    let mut s = size;
    while s >= min {
        let lines = wrap(face, text, s, limit);
        if lines.len() <= max_lines {
            return (s, lines);
        }
        s -= 0.5;
    }
    let mut lines = wrap(face, text, min, limit);
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            // The ellipsis says something was left out even when the last line is full.
            *last = ellipsize(face, &format!("{last}…"), min, limit);
        }
    }
    (min, lines)
}

fn wrap(face: &Typeface, text: &str, size: f32, limit: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if face.width(&candidate, size) <= limit {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        current = word.to_owned();
        while face.width(&current, size) > limit {
            let cut = longest_prefix(face, &current, size, limit);
            let rest = current.split_off(cut);
            lines.push(std::mem::replace(&mut current, rest));
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// The byte length of the longest prefix of `text` that fits (at least one character).
fn longest_prefix(face: &Typeface, text: &str, size: f32, limit: f32) -> usize {
    let mut end = 0;
    let mut width = 0.0;
    for (i, c) in text.char_indices() {
        width += face.advance(face.glyph(c).0) * size / 1000.0;
        if width > limit && i > 0 {
            return end;
        }
        end = i + c.len_utf8();
    }
    end
}

/// `text` cut so that it and a trailing ellipsis fit `limit` points.
fn ellipsize(face: &Typeface, text: &str, size: f32, limit: f32) -> String {
    if face.width(text, size) <= limit {
        return text.to_owned();
    }
    let mut cut = text.trim_end_matches('…').to_owned();
    while !cut.is_empty() && face.width(&format!("{cut}…"), size) > limit {
        cut.pop();
    }
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regular() -> &'static Typeface {
        Typeface::get(Weight::Regular).expect("embedded font parses")
    }

    #[test]
    fn fit_shrinks_then_cuts() {
        let f = regular();
        assert_eq!(fit(f, "Beograd", 10.0, 6.0, 50.0), (10.0, "Beograd".into()));
        let long = "Bulevar kralja Aleksandra ".repeat(3);
        let long = long.trim();
        let (size, text) = fit(f, long, 10.0, 8.0, 90.0);
        assert!(size < 10.0);
        assert!(f.width(&text, size) <= 90.0 * MM);
        let (size, text) = fit(f, long, 10.0, 9.0, 40.0);
        assert_eq!(size, 9.0);
        assert!(text.ends_with('…') && text.len() < long.len(), "{text}");
        assert!(f.width(&text, size) <= 40.0 * MM);
    }

    #[test]
    fn fit_lines_wraps_between_words_and_keeps_every_word_when_it_can() {
        let f = regular();
        let name = "Љубица Ђорђевић-Жујовић Петровић";
        let (size, lines) = fit_lines(f, name, 15.0, 10.0, 50.0, 2);
        assert!(lines.len() <= 2, "{lines:?}");
        assert_eq!(lines.join(" "), name);
        for l in &lines {
            assert!(f.width(l, size) <= 50.0 * MM);
        }
        // Too long even at the smallest size: two lines, the second ending in an ellipsis.
        let (size, lines) = fit_lines(f, &name.repeat(4), 15.0, 10.0, 50.0, 2);
        assert_eq!((size, lines.len()), (10.0, 2));
        assert!(lines[1].ends_with('…'));
        // One word wider than the line is broken inside.
        let word = "Ааааааааааааааааааааааааааааааааааааааааааааааа";
        let lines = wrap(f, word, 12.0, 30.0 * MM);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), word);
    }
}
