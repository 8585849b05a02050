//! A small indenting XML writer for the messages we produce: elements, one attribute at
//! most, escaped text. Enough for pain.001 and the test statements, with no tree in memory.
//! Also the wording of the readers' (camt.053, pain.002) XML errors, shared by both.

use std::io::{self, Write};

use crate::reference::Reference;

/// Whether a character may appear in XML 1.0 text (the `Char` production).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Writes `s` with `&`, `<`, `>`, `"` and `'` escaped (so it is safe in text and in
/// attribute values alike).
pub(crate) fn write_escaped<W: Write + ?Sized>(w: &mut W, s: &str) -> io::Result<()> {
    let mut rest = s;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        w.write_all(&rest.as_bytes()[..i])?;
        let entity: &[u8] = match rest.as_bytes()[i] {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            _ => b"&apos;",
        };
        w.write_all(entity)?;
        rest = &rest[i + 1..];
    }
    w.write_all(rest.as_bytes())
}

pub(crate) struct XmlWriter<W> {
    out: W,
    depth: usize,
}

impl<W: Write> XmlWriter<W> {
    /// Starts a UTF-8 document with its declaration.
    pub(crate) fn new(mut out: W) -> io::Result<Self> {
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
        Ok(XmlWriter { out, depth: 0 })
    }

    fn indent(&mut self) -> io::Result<()> {
        const SPACES: &[u8] = b"                                                                ";
        let n = (self.depth * 2).min(SPACES.len());
        self.out.write_all(&SPACES[..n])
    }

    /// `<tag>` on its own line; children follow.
    pub(crate) fn open(&mut self, tag: &str) -> io::Result<()> {
        self.open_attr(tag, None)
    }

    /// `<tag name="value">` on its own line.
    pub(crate) fn open_attr(&mut self, tag: &str, attr: Option<(&str, &str)>) -> io::Result<()> {
        self.indent()?;
        self.start_tag(tag, attr)?;
        self.out.write_all(b"\n")?;
        self.depth += 1;
        Ok(())
    }

    fn start_tag(&mut self, tag: &str, attr: Option<(&str, &str)>) -> io::Result<()> {
        write!(self.out, "<{tag}")?;
        if let Some((name, value)) = attr {
            write!(self.out, " {name}=\"")?;
            write_escaped(&mut self.out, value)?;
            self.out.write_all(b"\"")?;
        }
        self.out.write_all(b">")
    }

    pub(crate) fn close(&mut self, tag: &str) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        self.indent()?;
        writeln!(self.out, "</{tag}>")
    }

    /// `<tag>text</tag>` on one line.
    pub(crate) fn leaf(&mut self, tag: &str, text: &str) -> io::Result<()> {
        self.leaf_attr(tag, None, text)
    }

    pub(crate) fn leaf_attr(
        &mut self,
        tag: &str,
        attr: Option<(&str, &str)>,
        text: &str,
    ) -> io::Result<()> {
        self.indent()?;
        self.start_tag(tag, attr)?;
        write_escaped(&mut self.out, text)?;
        writeln!(self.out, "</{tag}>")
    }

    /// `<tag>text</tag>` unless `text` is `None`.
    pub(crate) fn opt_leaf(&mut self, tag: &str, text: Option<&str>) -> io::Result<()> {
        match text {
            Some(t) => self.leaf(tag, t),
            None => Ok(()),
        }
    }

    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// `Strd/CdtrRefInf` of a reference: the model as a proprietary type, the number as `Ref`
/// (what pain.001 and the test statements write; the statement reader accepts other forms).
pub(crate) fn creditor_reference<W: Write>(w: &mut XmlWriter<W>, r: &Reference) -> io::Result<()> {
    w.open("Strd")?;
    w.open("CdtrRefInf")?;
    w.open("Tp")?;
    w.open("CdOrPrtry")?;
    w.leaf("Prtry", &format!("{:02}", r.model().number()))?;
    w.close("CdOrPrtry")?;
    w.close("Tp")?;
    w.leaf("Ref", r.reference())?;
    w.close("CdtrRefInf")?;
    w.close("Strd")
}

/// A quick-xml error in words that cannot carry a party's data: a malformed tag made of
/// text (`<Nm>Petar <Petrović</Nm>`) has a "name" taken from a value, so only names that
/// look like element names are repeated.
pub(crate) fn describe_error(e: &quick_xml::Error) -> String {
    use quick_xml::errors::IllFormedError::{MismatchedEndTag, MissingEndTag, UnmatchedEndTag};
    let name = |n: &str| {
        let plain = n.len() <= 40
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'.'));
        if plain {
            format!("`{n}`")
        } else {
            "a malformed element".to_owned()
        }
    };
    match e {
        quick_xml::Error::IllFormed(MismatchedEndTag { expected, found }) => format!(
            "the end tag of {} where {} should end",
            name(found),
            name(expected)
        ),
        quick_xml::Error::IllFormed(UnmatchedEndTag(n)) => {
            format!("an end tag of {} that nothing opened", name(n))
        }
        quick_xml::Error::IllFormed(MissingEndTag(n)) => {
            format!("{} is not closed", name(n))
        }
        other => other.to_string(),
    }
}
