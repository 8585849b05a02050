//! Serbian payment-account numbers (broj tekućeg/platnog računa): 18 digits, a 3-digit bank
//! code, a 13-digit account and 2 control digits, and their IBAN (`RS35…`).
//!
//! The control digits are ISO 7064 MOD 97-10: `CC = 98 − (first 16 digits × 100 mod 97)`
//! (NBS decision on payment-order forms, as quoted by ArtBIT/ips-qr-code and
//! todorowww/banking-srb; research/payments.md §2.1). The issue's "valid when the number mod
//! 97 is 1" is the same test except for three aliases: `00`, `01` and `99` also leave
//! remainder 1 when the correct digits are `97`, `98` and `02`, but `98 − x` never yields them.
//! We compare the digits with the computed ones, so `200-123456-00` (correct control 97) is
//! refused, as the shared vectors require.
//!
//! Accepted input: exactly 18 digits, or the printed form with two dashes
//! (`840-955845-10`: 3 digits, 1 to 13 digits padded on the left with zeros, 2 digits).
//! Shorter forms without dashes (`12345682`) are refused: where the bank code ends and how
//! many zeros are missing is a guess.

use std::fmt;

/// Why a text is not an account number. Never echoes the number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("must be 18 digits, or bank-account-control with dashes (840-955845-10)")]
    Format,
    #[error(
        "a short form without dashes is ambiguous: write it as 18 digits or with dashes (840-955845-10)"
    )]
    AmbiguousShortForm,
    #[error("the middle part has more than 13 digits")]
    AccountTooLong,
    #[error("control digits {found:02}, expected {expected:02} (ISO 7064 MOD 97-10)")]
    Control { found: u8, expected: u8 },
    #[error("an IBAN here must be RS, two check digits and 18 digits")]
    IbanFormat,
    #[error("IBAN check digits {found:02}, expected {expected:02}")]
    IbanCheck { found: u8, expected: u8 },
}

/// A valid account number, held as its 18 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountNumber([u8; 18]);

/// `98 − (n × 100 mod 97)`: the ISO 7064 MOD 97-10 check digits of the digit string whose
/// remainder mod 97 is `rem` (always 2 to 98).
pub(crate) fn mod97_check(rem: u32) -> u8 {
    (98 - (rem * 100) % 97) as u8
}

/// The remainder mod 97 of a string of ASCII digits, with no overflow whatever its length.
pub(crate) fn mod97_digits(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0u32, |r, &d| (r * 10 + u32::from(d - b'0')) % 97)
}

impl AccountNumber {
    /// Parses an account as people and files write it: 18 digits, or the dashed form.
    /// Surrounding spaces are ignored.
    pub fn parse(input: &str) -> Result<AccountNumber, AccountError> {
        let s = input.trim();
        if s.contains('-') {
            let mut parts = s.split('-');
            let (Some(bank), Some(middle), Some(control), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(AccountError::Format);
            };
            let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            if bank.len() != 3 || control.len() != 2 || !digits(bank) || !digits(middle) {
                return Err(AccountError::Format);
            }
            if !digits(control) {
                return Err(AccountError::Format);
            }
            if middle.len() > 13 {
                return Err(AccountError::AccountTooLong);
            }
            let mut b = [b'0'; 18];
            b[..3].copy_from_slice(bank.as_bytes());
            b[16 - middle.len()..16].copy_from_slice(middle.as_bytes());
            b[16..].copy_from_slice(control.as_bytes());
            return AccountNumber::from_digits(&b);
        }
        let bytes = s.as_bytes();
        if !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit) {
            return match <&[u8; 18]>::try_from(bytes) {
                Ok(b) => AccountNumber::from_digits(b),
                Err(_) if bytes.len() < 18 => Err(AccountError::AmbiguousShortForm),
                Err(_) => Err(AccountError::Format),
            };
        }
        Err(AccountError::Format)
    }

    /// Checks exactly 18 ASCII bytes: digits with the right control digits. The only form
    /// allowed inside an IPS QR code (tags R and O).
    pub fn from_digits(b: &[u8; 18]) -> Result<AccountNumber, AccountError> {
        if !b.iter().all(u8::is_ascii_digit) {
            return Err(AccountError::Format);
        }
        // 16 digits fit in a u64; one remainder instead of a loop with a division per digit.
        let body = b[..16]
            .iter()
            .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        let expected = mod97_check((body % 97) as u32);
        let found = (b[16] - b'0') * 10 + (b[17] - b'0');
        if found != expected {
            return Err(AccountError::Control { found, expected });
        }
        Ok(AccountNumber(*b))
    }

    /// Builds the account of a bank code (0 to 999) and account number (0 to 10¹³ − 1),
    /// computing the control digits. `None` when a part is out of range.
    pub fn new(bank: u16, account: u64) -> Option<AccountNumber> {
        if bank > 999 || account >= 10_000_000_000_000 {
            return None;
        }
        let text = format!("{bank:03}{account:013}");
        let mut b = [0u8; 18];
        b[..16].copy_from_slice(text.as_bytes());
        let check = mod97_check(mod97_digits(&b[..16]));
        b[16] = b'0' + check / 10;
        b[17] = b'0' + check % 10;
        Some(AccountNumber(b))
    }

    /// Parses an RS IBAN (`RS35840000074222184357`; spaces and lower case are fine) and checks
    /// both its check digits (ISO 13616) and the account's own.
    pub fn from_iban(input: &str) -> Result<AccountNumber, AccountError> {
        let compact: Vec<u8> = input
            .bytes()
            .filter(|b| *b != b' ')
            .map(|b| b.to_ascii_uppercase())
            .collect();
        let Some((b"RS", rest)) = compact.split_first_chunk::<2>() else {
            return Err(AccountError::IbanFormat);
        };
        if rest.len() != 20 || !rest.iter().all(u8::is_ascii_digit) {
            return Err(AccountError::IbanFormat);
        }
        let digits: &[u8; 18] = rest[2..].try_into().map_err(|_| AccountError::IbanFormat)?;
        let found = (rest[0] - b'0') * 10 + (rest[1] - b'0');
        let expected = iban_check(digits);
        if found != expected {
            return Err(AccountError::IbanCheck { found, expected });
        }
        AccountNumber::from_digits(digits)
    }

    /// The 18 digits: the electronic form, the only one allowed in IPS QR codes.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The printed form: `840-955845-10`, leading zeros of the middle part dropped (one digit
    /// is always kept).
    pub fn dashed(&self) -> String {
        let s = self.as_str();
        let middle = s[3..16].trim_start_matches('0');
        let middle = if middle.is_empty() { "0" } else { middle };
        format!("{}-{middle}-{}", &s[..3], &s[16..])
    }

    /// The 3-digit bank code (200 is Banka Poštanska štedionica, 840 the Treasury).
    pub fn bank(&self) -> &str {
        &self.as_str()[..3]
    }

    /// The IBAN, `RS` + check digits + the 18 digits, without spaces. For every valid
    /// account the check digits are 35, because the account already leaves remainder 1.
    pub fn iban(&self) -> String {
        let check = iban_check(&self.0);
        format!("RS{check:02}{}", self.as_str())
    }
}

/// ISO 13616 check digits for an RS IBAN of these 18 digits: `98 − (digits ‖ "RS" ‖ "00" mod
/// 97)`, the letters R = 27 and S = 28.
fn iban_check(digits: &[u8; 18]) -> u8 {
    let r = mod97_digits(digits);
    let r = mod97_digits_from(r, b"2728");
    mod97_check(r)
}

fn mod97_digits_from(start: u32, digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(start, |r, &d| (r * 10 + u32::from(d - b'0')) % 97)
}

impl fmt::Display for AccountNumber {
    /// The printed, dashed form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dashed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every row of testdata/accounts.tsv (the shared vectors, serbian-formats.md §7.2).
    #[test]
    fn every_vector_of_accounts_tsv() {
        let mut rows = 0;
        for line in include_str!("../testdata/accounts.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("input\t"))
        {
            let cols: Vec<&str> = line.split('\t').collect();
            let (input, expected, digits) = (cols[0], cols[1], cols[2]);
            let got = AccountNumber::parse(input);
            let outcome = match &got {
                Ok(_) => "valid",
                Err(AccountError::Control { .. }) => "invalid-control",
                Err(AccountError::AmbiguousShortForm) => "invalid-ambiguous",
                Err(_) => "invalid-format",
            };
            assert_eq!(outcome, expected, "{input}: {got:?}");
            if let Ok(a) = got {
                assert_eq!(a.as_str(), digits, "{input}");
                assert_eq!(a.iban(), format!("RS35{digits}"), "{input}");
                assert_eq!(AccountNumber::parse(&a.dashed()), Ok(a));
                assert_eq!(AccountNumber::from_iban(&a.iban()), Ok(a));
            }
            rows += 1;
        }
        assert_eq!(rows, 29, "every row was read");
    }

    #[test]
    fn dashed_form_iban_and_construction() {
        let a = AccountNumber::parse("840-0000742221843-57").expect("valid");
        assert_eq!(a.as_str(), "840000074222184357");
        assert_eq!(a.dashed(), "840-742221843-57");
        assert_eq!(a.to_string(), "840-742221843-57");
        assert_eq!(a.bank(), "840");
        assert_eq!(a.iban(), "RS35840000074222184357");
        assert_eq!(
            AccountNumber::from_iban("rs35 8400 0007 4222 1843 57"),
            Ok(a)
        );
        assert_eq!(
            AccountNumber::from_iban("RS36840000074222184357"),
            Err(AccountError::IbanCheck {
                found: 36,
                expected: 35
            })
        );
        assert_eq!(
            AccountNumber::from_iban("DE35840000074222184357"),
            Err(AccountError::IbanFormat)
        );
        assert_eq!(
            AccountNumber::new(100, 1_234_567_890).map(|a| a.as_str().to_owned()),
            Some("100000123456789054".to_owned())
        );
        assert_eq!(
            AccountNumber::new(900, 54_321).map(|a| a.as_str().to_owned()),
            Some("900000000005432144".to_owned())
        );
        assert_eq!(AccountNumber::new(1000, 1), None);
        assert_eq!(
            AccountNumber::parse("160-5100-45"),
            Err(AccountError::Control {
                found: 45,
                expected: 5
            })
        );
        assert_eq!(
            AccountNumber::parse("160-12345678901234-45"),
            Err(AccountError::AccountTooLong)
        );
        let zero = AccountNumber::new(160, 0).expect("in range");
        assert_eq!(zero.dashed(), format!("160-0-{}", &zero.as_str()[16..]));
        assert_eq!(AccountNumber::parse(&zero.dashed()), Ok(zero));
    }

    #[test]
    fn errors_do_not_echo_the_number() {
        for bad in ["840000074222184358", "12345682", "840-7422218x3-57"] {
            let e = AccountNumber::parse(bad).expect_err("invalid").to_string();
            assert!(!e.contains(&bad[..8]), "{e}");
        }
    }

    proptest! {
        #[test]
        fn built_accounts_validate_in_every_form(bank in 0u16..1000, account in 0u64..10_000_000_000_000) {
            let a = AccountNumber::new(bank, account).expect("in range");
            prop_assert_eq!(AccountNumber::parse(a.as_str()), Ok(a));
            prop_assert_eq!(AccountNumber::parse(&a.dashed()), Ok(a));
            prop_assert_eq!(AccountNumber::from_iban(&a.iban()), Ok(a));
            prop_assert!(a.iban().starts_with("RS35"));
            prop_assert_eq!(mod97_digits(a.as_str().as_bytes()), 1);
        }

        #[test]
        fn any_text_is_judged_without_panicking(s in "\\PC{0,30}|[0-9]{3}-[0-9]{1,14}-[0-9]{2}|(RS|rs)[0-9 ]{18,24}") {
            if let Ok(a) = AccountNumber::parse(&s) {
                prop_assert_eq!(AccountNumber::parse(&a.dashed()), Ok(a));
            }
            if let Ok(a) = AccountNumber::from_iban(&s) {
                prop_assert_eq!(AccountNumber::parse(a.as_str()), Ok(a));
            }
        }

        #[test]
        fn one_changed_digit_is_always_caught(bank in 0u16..1000, account in 0u64..10_000_000_000_000, pos in 0usize..18, delta in 1u8..10) {
            let a = AccountNumber::new(bank, account).expect("in range");
            let mut b = a.0;
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            // 10^k is never 0 mod 97, and a change of one digit by 1..9 is not a multiple of 97,
            // except in the control digits where 00/97, 01/98 and 02/99 share a remainder;
            // the comparison of digits refuses those too.
            prop_assert!(AccountNumber::from_digits(&b).is_err());
        }
    }
}
