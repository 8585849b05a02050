//! NBS IPS QR strings: the text inside the QR code printed on Serbian bills (type PR) and
//! shown at points of sale (PT, PK) and in web shops (EK). Parse and validate them, and
//! generate them from fields.
//!
//! Rules (NBS: the IPS QR decision, Prilog 1, quoted in medigeek/php-ips-qr-code; the NBS
//! "Preporuke" 1–9; research/payments.md §1, open points in §8):
//! - `TAG:value` fields separated by `|`, split on the first `:` only (values may hold `:`);
//!   no leading or trailing `|`, no blank before the first tag or after the last value, no
//!   empty field, no empty optional tag (`|S:|` is wrong: leave the tag out).
//! - Tags in the fixed order K V C R N I O P SF S M JS RK RO RL RP, each at most once. Whether
//!   the NBS validator enforces the order is unverified (§8.2); we do, and generation never
//!   breaks it.
//! - Mandatory: K, V, C, R, N and I always; SF for PR (NBS generator guidance); M for PT, PK
//!   and EK (implementations: ArtBIT, Lotus015). The full per-type matrix of Prilog 1 was
//!   not available (§8.2).
//! - K is PR, PT, PK or EK; V is 01; C is 1 (UTF-8). R and O are exactly 18 digits with a
//!   valid control (see [`crate::account`]). N 1–70 characters, P up to 70, each at most three
//!   lines (newline U+000A; a CR before it is accepted and dropped); S up to 35, RL up to 140,
//!   one line each. Lengths count characters, not bytes (unverified, §1.4).
//! - I: `RSD`, 1–12 integer digits, a comma, 0–2 decimals; no thousands separator; at most
//!   `RSD999999999999,99`. Zero (`RSD0,`) only on PR invoices, at least 0,01 elsewhere. Held
//!   as an integer count of para, never a float.
//! - SF: see [`crate::payment_code`]. M: 4 digits (ISO 18245). JS: the payer's one-time code,
//!   5 digits in the implementations but "10an" in the decision text (§8.4), so 1–10 letters
//!   or digits. RK: 1–8 letters or digits. RO: model and reference (see [`crate::reference`]),
//!   model 97 without dashes; parsed up to 35 characters, generated up to 25 (the limit the
//!   NBS validator is reported to apply, §8.1). RP: 19 characters, terminal id (8 letters or
//!   digits), year (2 digits), day of the year (001–366), transaction number (6 digits).
//! - Parsing accepts any Unicode letter; generation ([`IpsQr::new`]) allows only Serbian
//!   Latin and Cyrillic, ASCII letters, digits, space and the NBS special characters (§1.4).
//!
//! Every error names the tag and the rule broken ([`IpsError`]); when a string breaks
//! several rules, the error is the first one met reading it from the left.

mod build;
mod parse;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt::{self, Write as _};

pub use build::IpsFields;

use crate::account::{AccountError, AccountNumber};
use crate::payment_code::{PaymentCode, PaymentCodeError};
use crate::reference::{Reference, ReferenceError};

/// The largest amount, in para: RSD 999.999.999.999,99.
pub const MAX_AMOUNT_PARA: i64 = 99_999_999_999_999;
/// The longest RO when generating (the longest accepted when parsing is 35).
pub const MAX_RO_GENERATED: usize = 25;

/// What the code is for (tag K).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// PR: printed on the payee's invoice.
    Pr,
    /// PT: shown by the merchant at a point of sale.
    Pt,
    /// PK: shown by the buyer at a point of sale.
    Pk,
    /// EK: a web shop.
    Ek,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pr => "PR",
            Kind::Pt => "PT",
            Kind::Pk => "PK",
            Kind::Ek => "EK",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "PR" => Kind::Pr,
            "PT" => Kind::Pt,
            "PK" => Kind::Pk,
            "EK" => Kind::Ek,
            _ => return None,
        })
    }
}

/// The tags, in their fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tag {
    K,
    V,
    C,
    R,
    N,
    I,
    O,
    P,
    Sf,
    S,
    M,
    Js,
    Rk,
    Ro,
    Rl,
    Rp,
}

impl Tag {
    pub const ALL: [Tag; 16] = [
        Tag::K,
        Tag::V,
        Tag::C,
        Tag::R,
        Tag::N,
        Tag::I,
        Tag::O,
        Tag::P,
        Tag::Sf,
        Tag::S,
        Tag::M,
        Tag::Js,
        Tag::Rk,
        Tag::Ro,
        Tag::Rl,
        Tag::Rp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tag::K => "K",
            Tag::V => "V",
            Tag::C => "C",
            Tag::R => "R",
            Tag::N => "N",
            Tag::I => "I",
            Tag::O => "O",
            Tag::P => "P",
            Tag::Sf => "SF",
            Tag::S => "S",
            Tag::M => "M",
            Tag::Js => "JS",
            Tag::Rk => "RK",
            Tag::Ro => "RO",
            Tag::Rl => "RL",
            Tag::Rp => "RP",
        }
    }

    pub fn from_name(name: &str) -> Option<Tag> {
        // On bytes: a match on &str compares with memcmp, arm by arm.
        Some(match name.as_bytes() {
            b"K" => Tag::K,
            b"V" => Tag::V,
            b"C" => Tag::C,
            b"R" => Tag::R,
            b"N" => Tag::N,
            b"I" => Tag::I,
            b"O" => Tag::O,
            b"P" => Tag::P,
            b"S" => Tag::S,
            b"M" => Tag::M,
            [a, b] => match (a, b) {
                (b'S', b'F') => Tag::Sf,
                (b'J', b'S') => Tag::Js,
                (b'R', b'K') => Tag::Rk,
                (b'R', b'O') => Tag::Ro,
                (b'R', b'L') => Tag::Rl,
                (b'R', b'P') => Tag::Rp,
                _ => return None,
            },
            _ => return None,
        })
    }

    /// Whether a code of this kind must have this tag.
    pub fn mandatory_for(self, kind: Kind) -> bool {
        match self {
            Tag::K | Tag::V | Tag::C | Tag::R | Tag::N | Tag::I => true,
            Tag::Sf => kind == Kind::Pr,
            Tag::M => kind != Kind::Pr,
            _ => false,
        }
    }
}

/// The rule a string breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The text is not UTF-8 (C:1 requires it).
    NotUtf8,
    /// The string starts with `|`, a blank or a newline.
    Leading,
    /// Something follows the last value: a `|`, a blank or a newline.
    Trailing,
    /// Two `|` with nothing between them.
    EmptyField,
    /// A field without `:` after its tag.
    NoColon,
    Unknown,
    Duplicate,
    /// The tag comes after a tag that the fixed order puts after it.
    OutOfOrder {
        after: &'static str,
    },
    Missing {
        kind: &'static str,
    },
    /// `TAG:` with no value.
    Empty,
    /// The value's fixed form (K, V, C, M, RK, JS, RP, R, O, I).
    Form(&'static str),
    Account(AccountError),
    ZeroAmount,
    TooLong {
        max: usize,
    },
    TooManyLines,
    EmptyLine,
    /// A newline in a tag that allows none.
    Newline,
    ControlCharacter,
    /// `|` inside a value given to the generator.
    Separator,
    /// A character the generator does not put into codes.
    Character(char),
    PaymentCode(PaymentCodeError),
    Reference(ReferenceError),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::NotUtf8 => f.write_str("the text is not UTF-8 (C:1 means UTF-8)"),
            Rule::Leading => {
                f.write_str("the string must start with K: (no leading |, blank or empty line)")
            }
            Rule::Trailing => {
                f.write_str("nothing may follow the last value (no trailing |, blank or newline)")
            }
            Rule::EmptyField => f.write_str("empty field: two | with nothing between them"),
            Rule::NoColon => f.write_str("a field is a tag, ':' and a value; no ':' found"),
            Rule::Unknown => {
                f.write_str("not an IPS QR tag (K V C R N I O P SF S M JS RK RO RL RP)")
            }
            Rule::Duplicate => f.write_str("appears twice"),
            Rule::OutOfOrder { after } => write!(
                f,
                "out of order: must come before {after} (K V C R N I O P SF S M JS RK RO RL RP)"
            ),
            Rule::Missing { kind } => write!(f, "missing; mandatory for {kind}"),
            Rule::Empty => f.write_str("empty; leave out a tag that has no value"),
            Rule::Form(what) => f.write_str(what),
            Rule::Account(e) => write!(f, "account: {e}"),
            Rule::ZeroAmount => {
                f.write_str("zero is allowed only on invoices (PR); at least RSD0,01")
            }
            Rule::TooLong { max } => write!(f, "longer than {max} characters"),
            Rule::TooManyLines => f.write_str("more than three lines"),
            Rule::EmptyLine => f.write_str("an empty line"),
            Rule::Newline => f.write_str("a newline is allowed only in N and P"),
            Rule::ControlCharacter => {
                f.write_str("control characters are not allowed (only the newline, in N and P)")
            }
            Rule::Separator => f.write_str("'|' is never allowed inside a value"),
            Rule::Character(c) => write!(
                f,
                "the character {c:?} is not allowed (Serbian Latin and Cyrillic, ASCII letters, digits and the NBS special characters)"
            ),
            Rule::PaymentCode(e) => write!(f, "payment code: {e}"),
            Rule::Reference(e) => write!(f, "reference: {e}"),
        }
    }
}

/// Why a string is not a valid IPS QR code: the tag and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsError {
    /// The tag's name (`SF`), or what stood where a tag was expected for unknown tags.
    pub tag: Cow<'static, str>,
    pub rule: Rule,
}

impl IpsError {
    fn new(tag: Tag, rule: Rule) -> IpsError {
        IpsError {
            tag: Cow::Borrowed(tag.name()),
            rule,
        }
    }
}

impl fmt::Display for IpsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.tag, self.rule)
    }
}

impl std::error::Error for IpsError {}

/// A valid IPS QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsQr {
    kind: Kind,
    payee_account: AccountNumber,
    payee: String,
    amount_para: i64,
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

impl IpsQr {
    /// K.
    pub fn kind(&self) -> Kind {
        self.kind
    }
    /// R: the payee's account.
    pub fn payee_account(&self) -> &AccountNumber {
        &self.payee_account
    }
    /// N: the payee's name and seat, lines separated by `\n`.
    pub fn payee(&self) -> &str {
        &self.payee
    }
    /// I: the amount in para (RSD 1 = 100 para).
    pub fn amount_para(&self) -> i64 {
        self.amount_para
    }
    /// O: the payer's account.
    pub fn payer_account(&self) -> Option<&AccountNumber> {
        self.payer_account.as_ref()
    }
    /// P: the payer's name and address, lines separated by `\n`.
    pub fn payer(&self) -> Option<&str> {
        self.payer.as_deref()
    }
    /// SF.
    pub fn payment_code(&self) -> Option<PaymentCode> {
        self.payment_code
    }
    /// S: the purpose.
    pub fn purpose(&self) -> Option<&str> {
        self.purpose.as_deref()
    }
    /// M: the merchant category code.
    pub fn mcc(&self) -> Option<&str> {
        self.mcc.as_deref()
    }
    /// JS: the payer's one-time code.
    pub fn one_time_code(&self) -> Option<&str> {
        self.one_time_code.as_deref()
    }
    /// RK: the payer's reference.
    pub fn payer_reference(&self) -> Option<&str> {
        self.payer_reference.as_deref()
    }
    /// RO: model and reference number.
    pub fn reference(&self) -> Option<&Reference> {
        self.reference.as_ref()
    }
    /// RL: the payee's free-form reference.
    pub fn payee_reference(&self) -> Option<&str> {
        self.payee_reference.as_deref()
    }
    /// RP: the point-of-sale transaction reference.
    pub fn pos_reference(&self) -> Option<&str> {
        self.pos_reference.as_deref()
    }
}

/// `RSD1025,00`: the amount as tag I writes it (two decimals).
pub fn amount_text(para: i64) -> String {
    format!("RSD{},{:02}", para / 100, para % 100)
}

impl fmt::Display for IpsQr {
    /// The canonical string: tags in the fixed order, absent ones left out, amounts with two
    /// decimals, newlines as U+000A.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "K:{}|V:01|C:1|R:{}|N:{}|I:RSD{},{:02}",
            self.kind.as_str(),
            self.payee_account.as_str(),
            self.payee,
            self.amount_para / 100,
            self.amount_para % 100
        )?;
        let mut opt = |tag: &str, v: Option<&str>| -> fmt::Result {
            match v {
                Some(v) => {
                    f.write_char('|')?;
                    f.write_str(tag)?;
                    f.write_char(':')?;
                    f.write_str(v)
                }
                None => Ok(()),
            }
        };
        opt("O", self.payer_account.as_ref().map(AccountNumber::as_str))?;
        opt("P", self.payer.as_deref())?;
        let code = self.payment_code.map(|c| c.to_string());
        opt("SF", code.as_deref())?;
        opt("S", self.purpose.as_deref())?;
        opt("M", self.mcc.as_deref())?;
        opt("JS", self.one_time_code.as_deref())?;
        opt("RK", self.payer_reference.as_deref())?;
        let ro = self.reference.as_ref().map(Reference::ro);
        opt("RO", ro.as_deref())?;
        opt("RL", self.payee_reference.as_deref())?;
        opt("RP", self.pos_reference.as_deref())
    }
}
