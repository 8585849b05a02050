//! The GSM 03.38 (3GPP TS 23.038 §6.2.1) default alphabet and its extension table.

/// The default alphabet: the character of each septet 0x00–0x7F. 0x1B is the escape to the
/// extension table (here a space that never matches: [`basic`] skips it).
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The escape septet that announces a character of the extension table.
pub const ESCAPE: u8 = 0x1B;

/// The extension table: each character and the septet that follows the escape. Each costs
/// two septets.
const EXTENSION: [(char, u8); 10] = [
    ('\u{0C}', 0x0A), // form feed
    ('^', 0x14),
    ('{', 0x28),
    ('}', 0x29),
    ('\\', 0x2F),
    ('[', 0x3C),
    ('~', 0x3D),
    (']', 0x3E),
    ('|', 0x40),
    ('€', 0x65),
];

/// A character's septets in the default alphabet: one, or the escape and one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Septets {
    Basic(u8),
    Extension(u8),
}

impl Septets {
    pub fn count(self) -> usize {
        match self {
            Septets::Basic(_) => 1,
            Septets::Extension(_) => 2,
        }
    }

    pub fn push_to(self, out: &mut Vec<u8>) {
        match self {
            Septets::Basic(s) => out.push(s),
            Septets::Extension(s) => out.extend([ESCAPE, s]),
        }
    }
}

/// The septets of `c`, or `None` when the default alphabet does not have it.
pub fn septets(c: char) -> Option<Septets> {
    if c == '\u{1B}' {
        return None;
    }
    if let Some(i) = basic(c) {
        return Some(Septets::Basic(i));
    }
    EXTENSION
        .iter()
        .find(|(e, _)| *e == c)
        .map(|(_, s)| Septets::Extension(*s))
}

fn basic(c: char) -> Option<u8> {
    // ASCII letters and digits sit at their ASCII codes; the rest is a short scan.
    if c.is_ascii_alphanumeric() {
        return u8::try_from(u32::from(c)).ok();
    }
    BASIC
        .iter()
        .position(|b| *b == c)
        .and_then(|i| u8::try_from(i).ok())
}

/// The character of a basic septet (for tests and for reading MO messages later).
pub fn char_of(septet: u8) -> Option<char> {
    BASIC
        .get(usize::from(septet))
        .copied()
        .filter(|c| *c != '\u{1B}')
}

/// The character of an extension septet (the one after the escape).
pub fn extension_char_of(septet: u8) -> Option<char> {
    EXTENSION
        .iter()
        .find(|(_, s)| *s == septet)
        .map(|(c, _)| *c)
}
