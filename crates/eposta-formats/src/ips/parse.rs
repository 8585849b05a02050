//! Reading an IPS QR string: one pass from the left, each field checked as it is met, so the
//! error is the first fault in reading order. Allocates only for the values it keeps.

use std::borrow::Cow;

use super::{IpsError, IpsQr, Kind, MAX_AMOUNT_PARA, Rule, Tag};
use crate::account::{AccountError, AccountNumber};
use crate::payment_code::PaymentCode;
use crate::reference::{self, Reference};

/// The fields read so far.
#[derive(Default)]
struct Fields {
    kind: Option<Kind>,
    payee_account: Option<AccountNumber>,
    payee: Option<String>,
    amount_para: Option<i64>,
    payer_account: Option<AccountNumber>,
    payer: Option<String>,
    payment_code: Option<PaymentCode>,
    purpose: Option<String>,
    mcc: Option<String>,
    one_time_code: Option<String>,
    payer_reference: Option<String>,
    reference: Option<Reference>,
    payee_reference: Option<String>,
    pos_reference: Option<String>,
}

/// What stood where a tag was expected, made safe to print on one line of a report: at most
/// eight characters, control characters as `?`.
fn shown(name: &str) -> Cow<'static, str> {
    let mut s: String = name
        .chars()
        .take(8)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if name.chars().nth(8).is_some() {
        s.push('…');
    }
    if s.is_empty() {
        s.push_str("(none)");
    }
    Cow::Owned(s)
}

/// Whether a field with this tag follows in `rest` (the string after the current field).
fn comes_later(rest: Option<&str>, tag: Tag) -> bool {
    let Some(rest) = rest else { return false };
    let name = tag.name();
    let at = |s: &str| s.starts_with(name) && s[name.len()..].starts_with(':');
    at(rest) || rest.match_indices('|').any(|(i, _)| at(&rest[i + 1..]))
}

impl IpsQr {
    /// Parses and validates an IPS QR string.
    pub fn parse(s: &str) -> Result<IpsQr, IpsError> {
        parse(s)
    }

    /// Parses bytes as read from a file or a scanner; they must be UTF-8 (C:1).
    pub fn parse_bytes(b: &[u8]) -> Result<IpsQr, IpsError> {
        match std::str::from_utf8(b) {
            Ok(s) => parse(s),
            Err(_) => Err(IpsError::new(Tag::C, Rule::NotUtf8)),
        }
    }
}

fn parse(s: &str) -> Result<IpsQr, IpsError> {
    match s.chars().next() {
        None => {
            return Err(IpsError::new(Tag::K, Rule::Missing { kind: "every code" }));
        }
        Some(c) if c == '|' || c.is_whitespace() => {
            return Err(IpsError::new(Tag::K, Rule::Leading));
        }
        Some(_) => {}
    }
    let mut f = Fields::default();
    let mut last: Option<Tag> = None;
    let mut rest = s;
    loop {
        // A short scan: fields are a few dozen bytes, too short for memchr's set-up to pay.
        let (field, next) = match rest.bytes().position(|b| b == b'|') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let before = last.map_or(Tag::K, |t| t);
        if field.is_empty() {
            let rule = if next.is_none() {
                Rule::Trailing
            } else {
                Rule::EmptyField
            };
            return Err(IpsError::new(before, rule));
        }
        let Some((name, value)) = field
            .bytes()
            .position(|b| b == b':')
            .map(|i| (&field[..i], &field[i + 1..]))
        else {
            return Err(IpsError {
                tag: shown(field),
                rule: Rule::NoColon,
            });
        };
        let Some(tag) = Tag::from_name(name) else {
            return Err(IpsError {
                tag: shown(name),
                rule: Rule::Unknown,
            });
        };
        if let Some(l) = last {
            if tag == l {
                return Err(IpsError::new(tag, Rule::Duplicate));
            }
            if tag < l {
                return Err(IpsError::new(tag, Rule::OutOfOrder { after: l.name() }));
            }
        }
        // Mandatory tags passed over: missing, unless they come later (out of order, and
        // reported as such when reached).
        let from = last.map_or(0, |l| l as usize + 1);
        for &skipped in &Tag::ALL[from..tag as usize] {
            let mandatory = match f.kind {
                Some(kind) => skipped.mandatory_for(kind),
                None => skipped == Tag::K,
            };
            if mandatory && !comes_later(next, skipped) {
                let kind = f.kind.map_or("every code", Kind::as_str);
                return Err(IpsError::new(skipped, Rule::Missing { kind }));
            }
        }
        if next.is_none() && value.ends_with(char::is_whitespace) {
            return Err(IpsError::new(tag, Rule::Trailing));
        }
        if value.is_empty() {
            return Err(IpsError::new(tag, Rule::Empty));
        }
        read_value(&mut f, tag, value).map_err(|rule| IpsError::new(tag, rule))?;
        last = Some(tag);
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    let kind = f.kind.unwrap_or(Kind::Pr);
    let from = last.map_or(0, |l| l as usize + 1);
    if let Some(&missing) = Tag::ALL[from..].iter().find(|t| t.mandatory_for(kind)) {
        return Err(IpsError::new(
            missing,
            Rule::Missing {
                kind: kind.as_str(),
            },
        ));
    }
    let (Some(kind), Some(payee_account), Some(payee), Some(amount_para)) =
        (f.kind, f.payee_account, f.payee, f.amount_para)
    else {
        // Unreachable: the mandatory tags were checked above.
        return Err(IpsError::new(Tag::K, Rule::Missing { kind: "every code" }));
    };
    Ok(IpsQr {
        kind,
        payee_account,
        payee,
        amount_para,
        payer_account: f.payer_account,
        payer: f.payer,
        payment_code: f.payment_code,
        purpose: f.purpose,
        mcc: f.mcc,
        one_time_code: f.one_time_code,
        payer_reference: f.payer_reference,
        reference: f.reference,
        payee_reference: f.payee_reference,
        pos_reference: f.pos_reference,
    })
}

fn read_value(f: &mut Fields, tag: Tag, v: &str) -> Result<(), Rule> {
    match tag {
        Tag::K => {
            f.kind = Some(Kind::parse(v).ok_or(Rule::Form("must be PR, PT, PK or EK"))?);
        }
        Tag::V if v != "01" => return Err(Rule::Form("must be 01")),
        Tag::C if v != "1" => return Err(Rule::Form("must be 1 (UTF-8)")),
        Tag::V | Tag::C => {}
        Tag::R => f.payee_account = Some(account(v)?),
        Tag::O => f.payer_account = Some(account(v)?),
        Tag::N => f.payee = Some(text(v, 70, true)?),
        Tag::P => f.payer = Some(text(v, 70, true)?),
        Tag::S => f.purpose = Some(text(v, 35, false)?),
        Tag::Rl => f.payee_reference = Some(text(v, 140, false)?),
        Tag::I => f.amount_para = Some(amount(v, f.kind.unwrap_or(Kind::Pr))?),
        Tag::Sf => f.payment_code = Some(PaymentCode::parse(v).map_err(Rule::PaymentCode)?),
        Tag::M => {
            if v.len() != 4 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Rule::Form(
                    "must be 4 digits (ISO 18245 merchant category code)",
                ));
            }
            f.mcc = Some(v.to_owned());
        }
        Tag::Js => {
            if v.len() > 10 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(Rule::Form("must be 1 to 10 letters or digits"));
            }
            f.one_time_code = Some(v.to_owned());
        }
        Tag::Rk => {
            if v.len() > 8 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(Rule::Form("must be 1 to 8 letters or digits"));
            }
            f.payer_reference = Some(v.to_owned());
        }
        Tag::Ro => {
            if v.len() > reference::MAX_LEN && v.chars().count() > reference::MAX_LEN {
                return Err(Rule::TooLong {
                    max: reference::MAX_LEN,
                });
            }
            f.reference = Some(Reference::parse_ro(v).map_err(Rule::Reference)?);
        }
        Tag::Rp => {
            pos_reference(v)?;
            f.pos_reference = Some(v.to_owned());
        }
    }
    Ok(())
}

fn account(v: &str) -> Result<AccountNumber, Rule> {
    const FORM: Rule = Rule::Form("must be exactly 18 digits (no dashes or spaces)");
    let b: &[u8; 18] = v.as_bytes().try_into().map_err(|_| FORM)?;
    AccountNumber::from_digits(b).map_err(|e| match e {
        AccountError::Format => FORM,
        e => Rule::Account(e),
    })
}

/// A text value: at most `max` characters, and with `multiline` at most three lines.
/// Returns it with any CR before a newline dropped.
///
/// Works on the UTF-8 bytes (the hot path of every check): a character starts at every
/// byte that is not a continuation byte (`10xxxxxx`); the control characters are the ASCII
/// ones and U+0080–U+009F, encoded `C2 80` to `C2 9F`.
fn text(v: &str, max: usize, multiline: bool) -> Result<String, Rule> {
    let b = v.as_bytes();
    // The usual value: printable ASCII on one line, judged by its length alone.
    if b.iter().all(|&c| (0x20..0x7f).contains(&c)) {
        return if b.len() > max {
            Err(Rule::TooLong { max })
        } else {
            Ok(v.to_owned())
        };
    }
    let (mut chars, mut lines, mut line_len) = (0usize, 1u8, 0usize);
    let mut cr = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' | b'\r' if !multiline => return Err(Rule::Newline),
            b'\r' => {
                if b.get(i + 1) != Some(&b'\n') {
                    return Err(Rule::ControlCharacter);
                }
                cr = true;
            }
            b'\n' => {
                if line_len == 0 {
                    return Err(Rule::EmptyLine);
                }
                lines += 1;
                if lines > 3 {
                    return Err(Rule::TooManyLines);
                }
                line_len = 0;
                chars += 1;
            }
            0..=0x1f | 0x7f => return Err(Rule::ControlCharacter),
            0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => {
                return Err(Rule::ControlCharacter);
            }
            0x80..=0xbf => {}
            _ => {
                chars += 1;
                line_len += 1;
            }
        }
        i += 1;
    }
    if line_len == 0 {
        return Err(Rule::EmptyLine);
    }
    if chars > max {
        return Err(Rule::TooLong { max });
    }
    Ok(if cr {
        v.replace("\r\n", "\n")
    } else {
        v.to_owned()
    })
}

/// `RSD1025,00` → 102500 para.
pub(super) fn amount(v: &str, kind: Kind) -> Result<i64, Rule> {
    let Some(number) = v.strip_prefix("RSD") else {
        return Err(Rule::Form("must start with the currency RSD (RSD1025,00)"));
    };
    let Some((int, dec)) = number.split_once(',') else {
        return Err(Rule::Form(
            "the decimal comma is mandatory (RSD1025, or RSD1025,00)",
        ));
    };
    if int.is_empty() {
        return Err(Rule::Form(
            "the integer part is mandatory (RSD0,01, not RSD,01)",
        ));
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(dec) {
        return Err(Rule::Form(
            "digits, one decimal comma, no thousands separator (RSD1025,00)",
        ));
    }
    if int.len() > 12 {
        return Err(Rule::Form("at most 12 integer digits (RSD999999999999,99)"));
    }
    if dec.len() > 2 {
        return Err(Rule::Form("at most 2 decimals"));
    }
    let whole = int.bytes().fold(0i64, |n, b| n * 10 + i64::from(b - b'0'));
    let cents = match dec.as_bytes() {
        [] => 0,
        [d] => i64::from(d - b'0') * 10,
        [d, e] => i64::from(d - b'0') * 10 + i64::from(e - b'0'),
        _ => return Err(Rule::Form("at most 2 decimals")),
    };
    let para = whole * 100 + cents;
    if para == 0 && kind != Kind::Pr {
        return Err(Rule::ZeroAmount);
    }
    debug_assert!(para <= MAX_AMOUNT_PARA);
    Ok(para)
}

/// RP: terminal id (8 letters or digits), year (2), day of the year (3), transaction (6).
fn pos_reference(v: &str) -> Result<(), Rule> {
    const FORM: Rule = Rule::Form(
        "must be 19 characters: terminal id (8 letters or digits), year (2 digits), day of the year (001-366), transaction number (6 digits)",
    );
    let b = v.as_bytes();
    if b.len() != 19
        || !b[..8].iter().all(u8::is_ascii_alphanumeric)
        || !b[8..].iter().all(u8::is_ascii_digit)
    {
        return Err(FORM);
    }
    let day = b[10..13]
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if !(1..=366).contains(&day) {
        return Err(FORM);
    }
    Ok(())
}
