//! SMS text: which encoding a text needs, how many segments it takes, and the bytes of
//! each segment for SMPP's `short_message` (research/sms.md §1 "Templates and content" for
//! the counting rules GOV.UK Notify bills by, §3 "SMPP 3.4 essentials" for `data_coding`
//! and the concatenation headers).
//!
//! - **GSM-7** (`data_coding` 0x00, the SMSC's default alphabet) when every character is in
//!   the GSM 03.38 default alphabet or its extension table (`^{}\[~]|€` and form feed, two
//!   septets each: the escape 0x1B and the character). The bytes are *unpacked* septets, one
//!   per octet, as SMPP takes them; the SMSC packs them for the air.
//! - **UCS-2** (`data_coding` 0x08) otherwise: any Cyrillic, Serbian Latin `č ć š ž đ`,
//!   emoji. The bytes are UTF-16 big-endian; a character outside the Basic Multilingual Plane
//!   (most emoji) is a surrogate pair, two units, which handsets show although strict UCS-2
//!   has no such thing. Nothing is ever replaced by `?`: a text either fits GSM-7 exactly or
//!   goes as UCS-2, and [`encode_as`] refuses GSM-7 for a text it cannot carry, naming the
//!   character.
//! - **Segments**: one segment carries 160 septets or 70 units. A longer text is split into
//!   parts that each begin with a concatenation header (UDH): with an 8-bit reference
//!   `05 00 03 ref total seq` (6 octets), leaving 153 septets or 67 units; with a 16-bit
//!   reference `06 08 04 ref_hi ref_lo total seq` (7 octets), leaving 152 septets or 66 units
//!   (140 octets less the header; for GSM-7 the header is padded to a septet boundary).
//!   A part never ends inside an escape pair or a surrogate pair: the split is between
//!   characters. At most 255 parts (the header's one-octet count).
//!
//! [`translit`] is the optional transliteration of Serbian letters to the GSM alphabet.

mod gsm;
pub mod translit;

pub use gsm::{Septets, char_of, extension_char_of, septets};

/// The two encodings an SMS goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GSM 03.38 default alphabet, SMPP `data_coding` 0x00.
    Gsm7,
    /// UTF-16 big-endian (called UCS-2 by SMPP), `data_coding` 0x08.
    Ucs2,
}

impl Encoding {
    /// SMPP's `data_coding` for this encoding.
    pub fn data_coding(self) -> u8 {
        match self {
            Encoding::Gsm7 => 0x00,
            Encoding::Ucs2 => 0x08,
        }
    }

    /// What one unconcatenated message holds: 160 septets or 70 units.
    pub fn single_limit(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    /// What one part of a concatenated message holds with the given kind of reference.
    pub fn part_limit(self, reference: Reference) -> usize {
        match (self, reference) {
            (Encoding::Gsm7, Reference::Eight(_)) => 153,
            (Encoding::Gsm7, Reference::Sixteen(_)) => 152,
            (Encoding::Ucs2, Reference::Eight(_)) => 67,
            (Encoding::Ucs2, Reference::Sixteen(_)) => 66,
        }
    }

    /// The units (septets or UTF-16 code units) `c` takes, or `None` if it cannot be carried.
    pub fn units(self, c: char) -> Option<usize> {
        match self {
            Encoding::Gsm7 => septets(c).map(Septets::count),
            Encoding::Ucs2 => Some(c.len_utf16()),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }
}

/// The concatenation reference of a long message: the same in every part of it, different
/// between long messages to the same phone in flight at the same time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// IEI 0x00, `05 00 03 ref total seq`.
    Eight(u8),
    /// IEI 0x08, `06 08 04 ref_hi ref_lo total seq`.
    Sixteen(u16),
}

/// Why a text cannot be sent as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error(
        "{0:?} is not in the GSM 7-bit alphabet; send the text as UCS-2 or replace the character"
    )]
    NotGsm(char),
    #[error("the text needs {0} segments; one message has at most 255")]
    TooManySegments(usize),
}

/// The encoding a text needs: GSM-7 when every character is in the GSM alphabet, else UCS-2.
pub fn encode(text: &str) -> Encoding {
    if text.chars().all(|c| septets(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// The characters of `text` that are not in the GSM alphabet (each once, in order of first
/// appearance): what forces UCS-2, for a preview to point at.
pub fn non_gsm_chars(text: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if septets(c).is_none() && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// How much room a text takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub encoding: Encoding,
    /// Characters (Unicode scalar values) as a person counts them.
    pub characters: usize,
    /// Septets (GSM-7: extension characters count two) or UTF-16 code units (UCS-2).
    pub units: usize,
    /// Segments with an 8-bit concatenation reference (what is billed; Notify counts so).
    pub segments: usize,
}

/// Counts a text in the encoding it needs.
pub fn count(text: &str) -> Count {
    let encoding = encode(text);
    let units = text.chars().map(|c| encoding.units(c).unwrap_or(2)).sum();
    Count {
        encoding,
        characters: text.chars().count(),
        units,
        segments: segments_for(text, encoding, units, Reference::Eight(0)),
    }
}

/// The segments [`encode_as`] makes, without making them: a two-unit character that does not
/// fit at the end of a part opens the next one, so this is not always `ceil(units / limit)`.
fn segments_for(text: &str, encoding: Encoding, units: usize, reference: Reference) -> usize {
    if units <= encoding.single_limit() {
        return 1;
    }
    let limit = encoding.part_limit(reference);
    let (mut parts, mut used) = (1, 0);
    for c in text.chars() {
        let n = encoding.units(c).unwrap_or(2);
        if used + n > limit {
            parts += 1;
            used = 0;
        }
        used += n;
    }
    parts
}

/// One part of a message as SMPP sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The characters this part carries.
    pub text: String,
    /// The `short_message` octets: the UDH (if any), then the septets or UTF-16BE units.
    pub bytes: Vec<u8>,
    /// Septets or UTF-16 units of the text (without the header).
    pub units: usize,
    /// Whether `bytes` begin with a UDH: SMPP's `esm_class` then has UDHI (0x40) set.
    pub has_udh: bool,
}

/// Splits `text` into the segments of the encoding it needs ([`encode`]).
pub fn split(text: &str, reference: Reference) -> Result<(Encoding, Vec<Segment>), TextError> {
    let encoding = encode(text);
    Ok((encoding, encode_as(text, encoding, reference)?))
}

/// Splits `text` into segments of the given encoding. GSM-7 refuses a character outside the
/// GSM alphabet rather than send `?`.
pub fn encode_as(
    text: &str,
    encoding: Encoding,
    reference: Reference,
) -> Result<Vec<Segment>, TextError> {
    let mut units_of = Vec::with_capacity(text.len());
    for c in text.chars() {
        units_of.push(encoding.units(c).ok_or(TextError::NotGsm(c))?);
    }
    let total: usize = units_of.iter().sum();
    if total <= encoding.single_limit() {
        return Ok(vec![segment(text, encoding, None)]);
    }
    let limit = encoding.part_limit(reference);
    let mut parts: Vec<&str> = Vec::new();
    let (mut start, mut used) = (0, 0);
    for ((i, _), n) in text.char_indices().zip(&units_of) {
        if used + n > limit {
            parts.push(&text[start..i]);
            start = i;
            used = 0;
        }
        used += n;
    }
    parts.push(&text[start..]);
    let total_parts =
        u8::try_from(parts.len()).map_err(|_| TextError::TooManySegments(parts.len()))?;
    Ok(parts
        .iter()
        .zip(1..=total_parts)
        .map(|(part, seq)| segment(part, encoding, Some(udh(reference, total_parts, seq))))
        .collect())
}

fn udh(reference: Reference, total: u8, seq: u8) -> Vec<u8> {
    match reference {
        Reference::Eight(r) => vec![0x05, 0x00, 0x03, r, total, seq],
        Reference::Sixteen(r) => {
            let [hi, lo] = r.to_be_bytes();
            vec![0x06, 0x08, 0x04, hi, lo, total, seq]
        }
    }
}

fn segment(text: &str, encoding: Encoding, udh: Option<Vec<u8>>) -> Segment {
    let has_udh = udh.is_some();
    let mut bytes = udh.unwrap_or_default();
    let before = bytes.len();
    match encoding {
        Encoding::Gsm7 => {
            for c in text.chars() {
                if let Some(s) = septets(c) {
                    s.push_to(&mut bytes);
                }
            }
        }
        Encoding::Ucs2 => {
            for u in text.encode_utf16() {
                bytes.extend(u.to_be_bytes());
            }
        }
    }
    let units = match encoding {
        Encoding::Gsm7 => bytes.len() - before,
        Encoding::Ucs2 => (bytes.len() - before) / 2,
    };
    Segment {
        text: text.to_owned(),
        bytes,
        units,
        has_udh,
    }
}

#[cfg(test)]
mod tests;
