//! The streaming camt.053 reader: quick-xml events in, entries out, with a stack of element
//! names and the fields of the statement, entry and transaction being read as its only state.

use std::io::Read;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use super::build::{Builder, at, truncate};
use super::tags::Tag;
use super::{Camt053Error, Entry, Reason, Statement, Summary};
use crate::iso20022::text::LineCounter;

/// Deeper than any camt.053 (about 12 levels); a bound on the stack, whatever the input.
const MAX_DEPTH: usize = 64;
/// Longer than any text element we read (`AddtlNtryInf` is 500 characters at most).
const MAX_TEXT: usize = 8 * 1024;
const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.";

/// A statement file read one transaction at a time: an iterator of `Result<Entry, _>` that
/// ends after the first error (see the module's notes on validating first).
///
/// ```
/// use eposta_formats::iso20022::camt053::Reader;
/// # let file: &[u8] = include_bytes!("../../../testdata/camt053/v02-statement.xml");
/// let mut reader = Reader::new(file);
/// while let Some(entry) = reader.next() {
///     let entry = entry?;
///     let statement = reader.statement().expect("an entry belongs to a statement");
///     println!("{} {} {:?}", statement.id, entry.amount, entry.reference());
/// }
/// # Ok::<(), eposta_formats::iso20022::camt053::Camt053Error>(())
/// ```
pub struct Reader<R: Read> {
    xml: quick_xml::Reader<LineCounter<R>>,
    pub(super) buf: Vec<u8>,
    pub(super) stack: Vec<Tag>,
    pub(super) text: String,
    root_done: bool,
    version: Option<String>,
    pub(super) state: Builder,
    done: bool,
}

impl<R: Read> Reader<R> {
    /// A reader of the statement file `input` (any `Read`; it is buffered here).
    pub fn new(input: R) -> Reader<R> {
        let mut xml = quick_xml::Reader::from_reader(LineCounter::new(input));
        let config = xml.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.check_comments = true;
        Reader {
            xml,
            buf: Vec::with_capacity(1024),
            stack: Vec::with_capacity(16),
            text: String::with_capacity(256),
            root_done: false,
            version: None,
            state: Builder::default(),
            done: false,
        }
    }

    /// The header of the statement of the entry last returned (and, once the file is read,
    /// of the last statement).
    pub fn statement(&self) -> Option<&Statement> {
        self.state.header.as_ref()
    }

    /// `GrpHdr/MsgId`, once read (before the first entry).
    pub fn message_id(&self) -> Option<&str> {
        self.state.message_id.as_deref()
    }

    /// The version from the namespace (`001.02`), once the root element is read.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Reads events until an entry is ready or the document ends.
    fn advance(&mut self) -> Result<Option<Entry>, Camt053Error> {
        loop {
            if let Some(e) = self.state.ready.take() {
                return Ok(Some(e));
            }
            let start = self.xml.get_ref().position();
            match self.step() {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(mut e) => {
                    // Errors of the XML itself at the start of the event; others (line 0)
                    // where the reader stands.
                    e.line = match e.reason {
                        Reason::Io(_) | Reason::Xml(_) if e.line == 0 => {
                            self.xml.get_ref().line_at(start)
                        }
                        _ if e.line == 0 => self.xml.get_ref().line(),
                        _ => e.line,
                    };
                    return Err(e);
                }
            }
        }
    }

    /// Reads and handles one event; `false` at the end of the file. Errors carry line 0
    /// unless they know better (see `advance`).
    fn step(&mut self) -> Result<bool, Camt053Error> {
        self.buf.clear();
        let event = match self.xml.read_event_into(&mut self.buf) {
            Ok(e) => e,
            Err(quick_xml::Error::Io(e)) => return Err(at(0, Reason::Io(e.to_string()))),
            Err(e) => return Err(at(0, Reason::Xml(crate::iso20022::xml::describe_error(&e)))),
        };
        match event {
            Event::Start(start) => {
                // Owned before the borrow of `buf` ends: the tag and the attributes we use.
                let tag = Tag::of(start.name().as_ref());
                let root = self.stack.is_empty();
                let attrs = Attrs::of(tag, &start, root).map_err(|r| at(0, r))?;
                // The line of what the builder remembers (the `>` of its start tag).
                let line = match tag {
                    Tag::Stmt | Tag::Bal | Tag::Ntry | Tag::TxDtls => self.xml.get_ref().line(),
                    _ if root => self.xml.get_ref().line(),
                    _ => 0,
                };
                self.on_start(tag, attrs, line)?;
            }
            Event::End(_) => self.on_end()?,
            Event::Text(t) => {
                if self.text.is_empty() && t.bytes().all(|b| b.is_ascii_whitespace()) {
                    return Ok(true);
                }
                push_text(&mut self.text, &self.stack, &t.xml10_content())?;
            }
            Event::CData(t) => push_text(&mut self.text, &self.stack, &t.xml10_content())?,
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => {
                            let why = "an entity other than the five of XML";
                            return Err(at(0, Reason::Xml(why.into())));
                        }
                    },
                    Err(e) => return Err(at(0, Reason::Xml(e.to_string()))),
                };
                push_text(&mut self.text, &self.stack, c.encode_utf8(&mut [0; 4]))?;
            }
            Event::DocType(_) => {
                return Err(at(0, Reason::Xml("a DOCTYPE is not allowed".into())));
            }
            Event::Eof => {
                let line = self.xml.get_ref().line();
                self.at_eof(line)?;
                return Ok(false);
            }
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
        Ok(true)
    }

    fn at_eof(&mut self, line: u64) -> Result<(), Camt053Error> {
        if let Some(open) = self.stack.last() {
            return Err(at(
                line,
                Reason::Xml(format!("the file ends inside {open:?}: cut off?")),
            ));
        }
        if !self.root_done {
            return Err(at(line, Reason::NotCamt053("no Document element".into())));
        }
        if self.state.statements == 0 {
            return Err(at(line, Reason::Missing("BkToCstmrStmt/Stmt")));
        }
        Ok(())
    }

    fn on_start(&mut self, tag: Tag, attrs: Attrs, line: u64) -> Result<(), Camt053Error> {
        let depth = self.stack.len();
        if depth >= MAX_DEPTH {
            return Err(at(line, Reason::TooDeep(MAX_DEPTH)));
        }
        self.text.clear();
        match depth {
            0 => {
                if self.root_done {
                    return Err(at(line, Reason::Xml("a second root element".into())));
                }
                if tag != Tag::Document {
                    return Err(at(
                        line,
                        Reason::NotCamt053("the root element is not Document".into()),
                    ));
                }
                let ns = attrs.namespace.unwrap_or_default();
                let version = ns
                    .strip_prefix(NAMESPACE)
                    .and_then(|v| v.strip_prefix("001."))
                    .filter(|v| v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit()));
                let Some(version) = version else {
                    return Err(at(
                        line,
                        Reason::NotCamt053(format!(
                            "namespace {:?}, expected {NAMESPACE}001.NN",
                            truncate(&ns, 80)
                        )),
                    ));
                };
                self.version = Some(format!("001.{version}"));
            }
            1 if tag != Tag::BkToCstmrStmt => {
                return Err(at(
                    line,
                    Reason::NotCamt053("Document does not hold BkToCstmrStmt".into()),
                ));
            }
            _ => self.state.start(&self.stack, tag, line)?,
        }
        if tag == Tag::Amt {
            self.state.ccy = attrs.currency;
        }
        self.stack.push(tag);
        Ok(())
    }

    fn on_end(&mut self) -> Result<(), Camt053Error> {
        let result = self.state.end(&self.stack, self.text.trim());
        self.text.clear();
        self.stack.pop();
        if self.stack.is_empty() {
            self.root_done = true;
        }
        result
    }
}

/// Collects the text of the element being read, within bounds. Leading white space is
/// dropped at once (values are trimmed anyway): most text events of a pretty-printed file
/// are the indentation between elements.
fn push_text(text: &mut String, stack: &[Tag], s: &str) -> Result<(), Camt053Error> {
    if text.is_empty() && s.bytes().all(|b| b.is_ascii_whitespace()) {
        return Ok(());
    }
    if stack.is_empty() {
        return Err(at(0, Reason::Xml("text outside the root element".into())));
    }
    if text.len() + s.len() > MAX_TEXT {
        return Err(at(0, Reason::TooLong(MAX_TEXT)));
    }
    text.push_str(s);
    Ok(())
}

/// The attributes of a start tag that the reader uses, copied out of the event.
#[derive(Default)]
struct Attrs {
    /// The namespace of the root element.
    namespace: Option<String>,
    /// `Ccy` of an `Amt`.
    currency: Option<String>,
}

impl Attrs {
    fn of(tag: Tag, start: &BytesStart<'_>, root: bool) -> Result<Attrs, Reason> {
        let mut attrs = Attrs::default();
        if !(root || tag == Tag::Amt) {
            return Ok(attrs);
        }
        let name = start.name();
        let prefix = name.prefix().map(|p| p.as_ref().to_owned());
        for a in start.attributes() {
            let a = a.map_err(|e| Reason::Xml(e.to_string()))?;
            let key = a.key.as_ref();
            let value = || {
                a.normalized_value(XmlVersion::Implicit1_0)
                    .map(|v| v.into_owned())
                    .map_err(|e| Reason::Xml(e.to_string()))
            };
            if root {
                let is_ns = match &prefix {
                    None => key == "xmlns",
                    Some(p) => key.strip_prefix("xmlns:") == Some(p.as_str()),
                };
                if is_ns {
                    attrs.namespace = Some(value()?);
                }
            } else if key == "Ccy" {
                attrs.currency = Some(value()?);
            }
        }
        Ok(attrs)
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Entry, Camt053Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(mut e)) => {
                e.statement = self.state.header.as_ref().map_or(0, |h| h.index);
                Some(Ok(e))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl<R: Read> std::iter::FusedIterator for Reader<R> {}

/// The first pass: reads the whole file and checks everything the [`Reader`] checks,
/// keeping per statement only its header and totals. `Ok` means a second reader over the
/// same bytes will yield every entry without an error (unless the bytes change).
pub fn validate<R: Read>(input: R) -> Result<Summary, Camt053Error> {
    let mut reader = Reader::new(input);
    reader.state.totals = Some(Vec::new());
    for entry in reader.by_ref() {
        entry?;
    }
    Ok(Summary {
        message_id: reader.state.message_id.clone().unwrap_or_default(),
        version: reader.version.clone().unwrap_or_default(),
        statements: reader.state.totals.take().unwrap_or_default(),
    })
}
