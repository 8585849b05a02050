//! Phone numbers for SMS: the text a person typed (or a CSV cell) to an E.164 number
//! ([`Msisdn`], `+3816…`) that can receive an SMS.
//!
//! Accepted forms: digits with spaces, dashes and parentheses, optionally one leading `+`.
//! Any other character is refused, naming it (GOV.UK Notify's strict character check,
//! `notifications_utils/recipient_validation/phone_number.py`, research/sms.md §1 "Phone
//! numbers"). Then:
//!
//! - `0…` (one leading zero) is a Serbian national number: `064 123 4567` → `+381641234567`;
//! - `00…` and `+…` carry a country code: `00381 64…`, `+381 (64) 123-4567`;
//! - digits with no `0` or `+` in front are read as a number with its country code, as a
//!   spreadsheet leaves `+381641234567` once it has dropped the `+`: `381641234567`.
//!
//! Serbian numbers (+381) must be mobile: the national significant number matches
//! `6(?:[0-689]|7\d)\d{6,7}`, i.e. 060–066, 068 and 069 followed by 6 or 7 digits, and 067x
//! followed by 6 or 7 digits (Google's libphonenumber metadata 9.0.33, territory RS,
//! `<mobile>`, which follows RATEL's numbering plan; the research file does not list the
//! ranges). Landlines (`011…`, `021…`), free phone `0800`, premium `090x` and the rest are
//! refused with a reason. The emergency numbers 112, 192, 193 and 194 are refused as such.
//!
//! Other countries are checked against libphonenumber's metadata through the `phonenumber`
//! crate: the number must be valid and of type mobile (or "fixed line or mobile", where the
//! plan cannot tell, as in the USA). The crate adds about 22 s to a clean debug build of this
//! crate on the 2-core development machine (measured: `cargo build -p eposta-sms` with and
//! without it; regex, serde and syn were partly built already) and about 42 s to a build of
//! it alone from nothing. That buys every country's plan, kept up to date by Google, which a
//! table of our own would not be.
//!
//! A phone number is personal data: `Debug` masks it and no error carries any digit of it.

use std::fmt;

/// Why a text is not a phone number that can receive an SMS. No variant carries a digit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error(
        "the phone number has a character that is not allowed: {0:?} (only digits, spaces, dashes, parentheses and a leading +)"
    )]
    UnknownCharacter(char),
    #[error("the phone number has a + that is not at its start")]
    MisplacedPlus,
    #[error("the phone number is too short")]
    TooShort,
    #[error("the phone number is too long")]
    TooLong,
    #[error("{0} is an emergency number; SMS cannot be sent to it")]
    EmergencyNumber(&'static str),
    #[error("the country code is not one in use")]
    UnsupportedCountryCode,
    #[error("not a mobile number: {0}")]
    NotAMobile(NotMobile),
    #[error("not a valid phone number of its country")]
    Invalid,
}

/// What a number that cannot receive SMS is instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotMobile {
    Landline,
    TollFree,
    PremiumRate,
    /// Shared cost, personal, VoIP, pager, UAN, voicemail and other service numbers.
    Service,
}

impl fmt::Display for NotMobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotMobile::Landline => "a landline cannot receive SMS",
            NotMobile::TollFree => "a free phone number cannot receive SMS",
            NotMobile::PremiumRate => "a premium-rate number cannot receive SMS",
            NotMobile::Service => "a service number cannot receive SMS",
        })
    }
}

/// A number that can receive SMS, in E.164 (`+` and up to 15 digits).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn(String);

const SERBIA: &str = "381";
const EMERGENCY: [&str; 4] = ["112", "192", "193", "194"];

impl Msisdn {
    /// Reads a number as a person types it (see the module docs for the forms).
    pub fn parse(input: &str) -> Result<Msisdn, PhoneError> {
        let mut digits = String::with_capacity(input.len());
        let mut plus = false;
        for c in input.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' => {}
                '+' if digits.is_empty() && !plus => plus = true,
                '+' => return Err(PhoneError::MisplacedPlus),
                other => return Err(PhoneError::UnknownCharacter(other)),
            }
        }
        if digits.is_empty() {
            return Err(if plus {
                PhoneError::TooShort
            } else {
                PhoneError::Empty
            });
        }
        if let Some(e) = EMERGENCY.iter().find(|e| **e == digits) {
            return Err(PhoneError::EmergencyNumber(e));
        }
        let international = if plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_owned()
        } else if let Some(rest) = digits.strip_prefix('0') {
            format!("{SERBIA}{rest}")
        } else {
            digits
        };
        if international.starts_with('0') {
            // `+0…`, `000…`: no country code starts with 0.
            return Err(PhoneError::UnsupportedCountryCode);
        }
        if let Some(nsn) = international.strip_prefix(SERBIA) {
            serbian_mobile(nsn)?;
        } else {
            other_country(&international)?;
        }
        Ok(Msisdn(format!("+{international}")))
    }

    /// `+381641234567`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the `+`, as SMPP's `destination_addr` takes them (TON 1, NPI 1).
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    /// Whether the number is Serbian (+381).
    pub fn is_serbian(&self) -> bool {
        self.digits().starts_with(SERBIA)
    }

    /// `+38164*****67`: enough for a person to recognise, not enough to be personal data in a log.
    pub fn masked(&self) -> String {
        let n = self.0.chars().count();
        self.0
            .chars()
            .enumerate()
            .map(|(i, c)| if i < 6 || i + 2 >= n { c } else { '*' })
            .collect()
    }
}

impl fmt::Debug for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Msisdn({})", self.masked())
    }
}

impl std::str::FromStr for Msisdn {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Msisdn::parse(s)
    }
}

/// The national significant number (after +381) of a Serbian mobile.
fn serbian_mobile(nsn: &str) -> Result<(), PhoneError> {
    let b = nsn.as_bytes();
    let (min, max) = match b {
        [] => return Err(PhoneError::TooShort),
        [b'6', b'7', ..] => (9, 10),
        [b'6', b'0'..=b'6' | b'8' | b'9', ..] | [b'6'] => (8, 9),
        [b'8', b'0', b'0', ..] => return Err(PhoneError::NotAMobile(NotMobile::TollFree)),
        [b'9', b'0', b'0' | b'1' | b'6' | b'9', ..] | [b'7', b'8', ..] => {
            return Err(PhoneError::NotAMobile(NotMobile::PremiumRate));
        }
        [b'1'..=b'3', ..] => return Err(PhoneError::NotAMobile(NotMobile::Landline)),
        _ => return Err(PhoneError::NotAMobile(NotMobile::Service)),
    };
    if b.len() < min {
        Err(PhoneError::TooShort)
    } else if b.len() > max {
        Err(PhoneError::TooLong)
    } else {
        Ok(())
    }
}

fn other_country(international: &str) -> Result<(), PhoneError> {
    use phonenumber::{ParseError, Type};
    // E.164: at most 15 digits; the shortest plans (Niue, Saint Helena) have 4-digit national
    // numbers after a 3-digit code.
    if international.len() > 15 {
        return Err(PhoneError::TooLong);
    }
    if international.len() < 7 {
        return Err(PhoneError::TooShort);
    }
    let number = match phonenumber::parse(None, format!("+{international}")) {
        Ok(n) => n,
        Err(ParseError::InvalidCountryCode) => return Err(PhoneError::UnsupportedCountryCode),
        Err(ParseError::TooShortAfterIdd | ParseError::TooShortNsn) => {
            return Err(PhoneError::TooShort);
        }
        Err(ParseError::TooLong) => return Err(PhoneError::TooLong),
        Err(_) => return Err(PhoneError::Invalid),
    };
    if !number.is_valid() {
        return Err(PhoneError::Invalid);
    }
    match number.number_type(&phonenumber::metadata::DATABASE) {
        Type::Mobile | Type::FixedLineOrMobile => Ok(()),
        Type::FixedLine => Err(PhoneError::NotAMobile(NotMobile::Landline)),
        Type::TollFree => Err(PhoneError::NotAMobile(NotMobile::TollFree)),
        Type::PremiumRate => Err(PhoneError::NotAMobile(NotMobile::PremiumRate)),
        _ => Err(PhoneError::NotAMobile(NotMobile::Service)),
    }
}

#[cfg(test)]
#[path = "phone_tests.rs"]
mod tests;
