//! ISO 20022 messages of bill payments (feature `iso20022`): bank statements read for
//! reconciliation (`camt.053`, [`camt053`]) and remittance batches written for the bank
//! (`pain.001.001.03`, [`pain001`], and the same batch as CSV, [`csv`]).
//!
//! Amounts are integer hundredths of the currency unit (para for RSD), parsed from and
//! printed as the decimal text of the XML (`1025.50`), never through a float. What is read
//! and written, the versions and the sources are in `docs/iso20022.md`.

pub mod camt053;
pub mod csv;
pub mod pain001;
pub mod pain002;
mod text;
mod xml;

#[cfg(test)]
mod tests;

use std::fmt;

use crate::account::AccountNumber;

/// The largest amount printed or read, in hundredths: 10¹⁶ − 1 units with two decimals, so
/// that it fits the schemas' 18 total digits and an `i64` sum of many of them is checked.
pub const MAX_AMOUNT: i64 = 999_999_999_999_999_999;

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// The Serbian dinar.
    pub const RSD: Currency = Currency(*b"RSD");
    pub const EUR: Currency = Currency(*b"EUR");

    /// Three upper-case letters (`RSD`); whether ISO 4217 lists them is not checked.
    pub fn parse(s: &str) -> Option<Currency> {
        let b: [u8; 3] = s.as_bytes().try_into().ok()?;
        b.iter().all(u8::is_ascii_uppercase).then_some(Currency(b))
    }

    pub fn as_str(&self) -> &str {
        // Only upper-case ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

/// An amount: hundredths of the currency unit (para for RSD) and the currency. Never
/// negative; the direction is [`CreditDebit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount {
    pub para: i64,
    pub currency: Currency,
}

impl fmt::Display for Amount {
    /// `1025.50 RSD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", format_amount(self.para), self.currency)
    }
}

/// Why a text is not an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("must be digits with an optional decimal point (1025.50)")]
    Syntax,
    #[error("has more than two decimals that are not zero (not a whole para)")]
    Precision,
    #[error("is larger than 9999999999999999.99")]
    TooLarge,
}

/// Parses the decimal text of an ISO 20022 amount (`1025.5`, `1025.50`, `1025`, `0.10000`)
/// into hundredths, exactly: digits, then optionally a point and up to five decimals
/// (the schemas' `fractionDigits`), of which only the first two may be non-zero. No sign,
/// exponent, comma or spaces (the schema's `xs:decimal` allows surrounding whitespace and
/// leading `+`; banks do not write them and we refuse them).
pub fn parse_amount(s: &str) -> Result<i64, AmountError> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) {
        return Err(AmountError::Syntax);
    }
    let frac = match frac {
        Some(f) if f.is_empty() || f.len() > 5 || !digits(f) => return Err(AmountError::Syntax),
        Some(f) => f.as_bytes(),
        None => &[],
    };
    if frac.iter().skip(2).any(|&b| b != b'0') {
        return Err(AmountError::Precision);
    }
    let whole = whole.trim_start_matches('0');
    // 16 integer digits at most: the limit, and no overflow below.
    if whole.len() > 16 {
        return Err(AmountError::TooLarge);
    }
    let units = whole
        .bytes()
        .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
    let tenths = frac.first().map_or(0, |d| i64::from(d - b'0'));
    let hundredths = frac.get(1).map_or(0, |d| i64::from(d - b'0'));
    Ok(units * 100 + tenths * 10 + hundredths)
}

/// Prints hundredths as the schemas' decimal text, always with two decimals: `102550` →
/// `1025.50`, `5` → `0.05`. Negative values print with a minus sign (never in a message).
pub fn format_amount(para: i64) -> String {
    let sign = if para < 0 { "-" } else { "" };
    let abs = para.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Credit (money in) or debit (money out), `CRDT` / `DBIT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreditDebit {
    Credit,
    Debit,
}

impl CreditDebit {
    pub fn parse(s: &str) -> Option<CreditDebit> {
        match s {
            "CRDT" => Some(CreditDebit::Credit),
            "DBIT" => Some(CreditDebit::Debit),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            CreditDebit::Credit => "CRDT",
            CreditDebit::Debit => "DBIT",
        }
    }

    /// `para` for a credit, `−para` for a debit.
    pub fn signed(self, para: i64) -> i64 {
        match self {
            CreditDebit::Credit => para,
            CreditDebit::Debit => -para,
        }
    }
}

/// A calendar date (`xs:date` without a time zone), years 1000 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// A date that exists; `None` otherwise.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if (year.is_multiple_of(4) && !year.is_multiple_of(100))
                || year.is_multiple_of(400) =>
            {
                29
            }
            2 => 28,
            _ => return None,
        };
        ((1000..=9999).contains(&year) && (1..=days).contains(&day)).then_some(Date {
            year,
            month,
            day,
        })
    }

    /// `YYYY-MM-DD`, exactly.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u16> {
            b[r].iter().try_fold(0u16, |n, &d| {
                d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
            })
        };
        Date::new(
            num(0..4)?,
            u8::try_from(num(5..7)?).ok()?,
            u8::try_from(num(8..10)?).ok()?,
        )
    }

    /// The date of an `xs:dateTime` (`2026-11-25T10:15:00+01:00`): its first ten
    /// characters, when a `T` and a time follow.
    pub fn of_date_time(s: &str) -> Option<Date> {
        if s.len() < 19 || s.as_bytes()[10] != b'T' {
            return None;
        }
        Date::parse(s.get(..10)?)
    }

    pub fn year(&self) -> u16 {
        self.year
    }
    pub fn month(&self) -> u8 {
        self.month
    }
    pub fn day(&self) -> u8 {
        self.day
    }
}

impl fmt::Display for Date {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Checks an `xs:dateTime` as the messages use it: `YYYY-MM-DDThh:mm:ss`, optional
/// fraction of a second, optional `Z` or `±hh:mm`.
pub fn is_date_time(s: &str) -> bool {
    let Some(rest) = s.get(19..) else {
        return false;
    };
    let b = s.as_bytes();
    let two = |i: usize, max: u8| {
        b[i].is_ascii_digit()
            && b[i + 1].is_ascii_digit()
            && (b[i] - b'0') * 10 + (b[i + 1] - b'0') <= max
    };
    if Date::of_date_time(s).is_none()
        || !(two(11, 23) && b[13] == b':' && two(14, 59) && b[16] == b':' && two(17, 59))
    {
        return false;
    }
    let rest = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return false;
            }
            &r[n..]
        }
        None => rest,
    };
    match rest.as_bytes() {
        [] | [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

/// An account as a message identifies it: an IBAN, or another identifier (`Othr/Id`; for
/// Serbian accounts the 18 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountId {
    Iban(String),
    Other(String),
}

impl AccountId {
    /// The Serbian account it names, if any: an RS IBAN, or 18 digits (or the dashed form)
    /// with a valid control.
    pub fn serbian(&self) -> Option<AccountNumber> {
        match self {
            AccountId::Iban(iban) => AccountNumber::from_iban(iban).ok(),
            AccountId::Other(id) => AccountNumber::parse(id).ok(),
        }
    }

    /// The identifier as written.
    pub fn as_str(&self) -> &str {
        match self {
            AccountId::Iban(s) | AccountId::Other(s) => s,
        }
    }
}
