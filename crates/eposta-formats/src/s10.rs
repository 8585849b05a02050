//! UPU S10 item identifiers (`RA123456785RS`): two letters (the service indicator), eight
//! serial digits, a check digit, and the ISO 3166-1 alpha-2 code of the issuing country.
//!
//! The check digit (UPU S10-12): weights 8 6 4 2 3 5 9 7 over the serial, then
//! 11 − (sum mod 11), where 10 becomes 0 and 11 becomes 5. Service indicators starting with
//! J, K, S, T or W are reserved and refused; F, I, O, X and Y are not allocated in S10-12,
//! so they are accepted with a warning.

use std::fmt;

use crate::countries::is_iso_country;

const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];

/// Why a text is not an S10 identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S10Error {
    #[error("must be 13 characters: two letters, nine digits, two letters")]
    Format,
    #[error(
        "service indicator {0} is reserved (first letters J, K, S, T and W are never assigned)"
    )]
    ReservedServiceIndicator(String),
    #[error("check digit {found}, expected {expected}")]
    CheckDigit { found: u8, expected: u8 },
    #[error("{0} is not an ISO 3166-1 country code")]
    Country(String),
    #[error("serial must be 0 to 99999999")]
    Serial,
}

/// Something worth saying about a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S10Warning {
    /// The service indicator's first letter (F, I, O, X, Y) is not allocated in S10-12.
    UnallocatedServiceIndicator(String),
}

impl fmt::Display for S10Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            S10Warning::UnallocatedServiceIndicator(si) => {
                write!(f, "service indicator {si} is not allocated in S10-12")
            }
        }
    }
}

/// A valid S10 identifier, stored in its canonical form: 13 upper-case characters, no spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct S10([u8; 13]);

/// A parsed identifier and any warning about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub id: S10,
    pub warning: Option<S10Warning>,
}

/// The check digit of an eight-digit serial.
pub fn check_digit(serial: u32) -> u8 {
    let mut digits = [0u8; 8];
    let mut rest = serial;
    for d in digits.iter_mut().rev() {
        *d = (rest % 10) as u8;
        rest /= 10;
    }
    check_digit_of(&digits)
}

/// The check digit of the serial's eight digits (values 0 to 9, not ASCII).
fn check_digit_of(digits: &[u8; 8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    match 11 - (sum % 11) {
        10 => 0,
        11 => 5,
        c => c as u8,
    }
}

/// Whether parsing skips this byte: the spaces and tabs people type between the groups of
/// `RA 123 456 785 RS`.
pub fn is_separator(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn reserved(first: u8) -> bool {
    matches!(first, b'J' | b'K' | b'S' | b'T' | b'W')
}

fn unallocated(first: u8) -> bool {
    matches!(first, b'F' | b'I' | b'O' | b'X' | b'Y')
}

impl S10 {
    /// Parses user input: spaces are removed and letters upper-cased first.
    pub fn parse(input: &str) -> Result<Checked, S10Error> {
        S10::parse_bytes(input.as_bytes())
    }

    /// Parses user input given as bytes that need not be UTF-8 (lines of a file), exactly as
    /// [`S10::parse`] does.
    pub fn parse_bytes(input: &[u8]) -> Result<Checked, S10Error> {
        // The usual case, 13 bytes without separators, with no loop that can branch.
        if let Ok(exact) = <&[u8; 13]>::try_from(input)
            && !exact.iter().any(|&b| is_separator(b))
        {
            return S10::parse_canonical(&exact.map(|b| b.to_ascii_uppercase()));
        }
        let mut buf = [0u8; 13];
        let mut n = 0;
        for &b in input {
            if is_separator(b) {
                continue;
            }
            if n == 13 {
                return Err(S10Error::Format);
            }
            buf[n] = b.to_ascii_uppercase();
            n += 1;
        }
        if n != 13 {
            return Err(S10Error::Format);
        }
        S10::parse_canonical(&buf)
    }

    /// Parses exactly 13 bytes that are already upper case and free of spaces (the fast
    /// path for bulk checks).
    pub fn parse_canonical(b: &[u8; 13]) -> Result<Checked, S10Error> {
        let letters = |x: &[u8]| x.iter().all(u8::is_ascii_uppercase);
        if !letters(&b[0..2]) || !b[2..11].iter().all(u8::is_ascii_digit) || !letters(&b[11..13]) {
            return Err(S10Error::Format);
        }
        let si = || String::from_utf8_lossy(&b[0..2]).into_owned();
        if reserved(b[0]) {
            return Err(S10Error::ReservedServiceIndicator(si()));
        }
        let mut digits = [0u8; 8];
        for (d, &ascii) in digits.iter_mut().zip(&b[2..10]) {
            *d = ascii - b'0';
        }
        let expected = check_digit_of(&digits);
        let found = b[10] - b'0';
        if found != expected {
            return Err(S10Error::CheckDigit { found, expected });
        }
        if !is_iso_country([b[11], b[12]]) {
            return Err(S10Error::Country(
                String::from_utf8_lossy(&b[11..13]).into_owned(),
            ));
        }
        let warning = unallocated(b[0]).then(|| S10Warning::UnallocatedServiceIndicator(si()));
        Ok(Checked {
            id: S10(*b),
            warning,
        })
    }

    /// Builds the identifier for a serial, computing its check digit. The service indicator
    /// must be two letters and not reserved; the country an ISO code.
    pub fn new(service_indicator: &str, serial: u32, country: &str) -> Result<S10, S10Error> {
        if serial > 99_999_999 {
            return Err(S10Error::Serial);
        }
        let text = format!(
            "{service_indicator}{serial:08}{}{country}",
            check_digit(serial)
        );
        if text.len() != 13 {
            return Err(S10Error::Format);
        }
        let mut b = [0u8; 13];
        b.copy_from_slice(text.as_bytes());
        S10::parse_canonical(&b).map(|c| c.id)
    }

    /// The canonical form, `RA123456785RS`: what barcodes and the database hold.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters and digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The human-readable grouping printed under barcodes: `RA 123 456 785 RS`.
    pub fn grouped(&self) -> String {
        let s = self.as_str();
        format!(
            "{} {} {} {} {}",
            &s[0..2],
            &s[2..5],
            &s[5..8],
            &s[8..11],
            &s[11..13]
        )
    }

    pub fn service_indicator(&self) -> &str {
        &self.as_str()[0..2]
    }

    pub fn serial(&self) -> u32 {
        self.0[2..10]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    }

    pub fn country(&self) -> &str {
        &self.as_str()[11..13]
    }
}

impl fmt::Display for S10 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every row of testdata/s10.tsv (copied from the team's shared test vectors; sources in
    /// its header).
    #[test]
    fn every_vector_of_s10_tsv() {
        let table = include_str!("../testdata/s10.tsv");
        let mut rows = 0;
        for line in table
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("id\t"))
        {
            let mut cols = line.split('\t');
            let (id, expected) = (cols.next().unwrap_or(""), cols.next().unwrap_or(""));
            let got = S10::parse(id);
            let outcome = match &got {
                Ok(Checked { warning: None, .. }) => "valid",
                Ok(Checked {
                    warning: Some(_), ..
                }) => "warn-si",
                Err(S10Error::CheckDigit { .. }) => "invalid-check",
                Err(S10Error::ReservedServiceIndicator(_)) => "invalid-si",
                Err(S10Error::Country(_)) => "invalid-country",
                Err(S10Error::Format | S10Error::Serial) => "invalid-format",
            };
            assert_eq!(outcome, expected, "{id:?}: {got:?}");
            rows += 1;
        }
        assert_eq!(rows, 27, "every row was read");
    }

    #[test]
    fn worked_examples_of_the_check_digit() {
        assert_eq!(check_digit(47_312_482), 9);
        assert_eq!(check_digit(12_345_678), 5);
        assert_eq!(check_digit(12_310_000), 0, "10 becomes 0");
        assert_eq!(check_digit(0), 5, "11 becomes 5");
        assert_eq!(check_digit(28_704_377), 5);
    }

    #[test]
    fn builds_and_groups() {
        let id = S10::new("RA", 12_345_678, "RS").expect("valid");
        assert_eq!(id.as_str(), "RA123456785RS");
        assert_eq!(id.grouped(), "RA 123 456 785 RS");
        assert_eq!(
            (id.service_indicator(), id.serial(), id.country()),
            ("RA", 12_345_678, "RS")
        );
        assert_eq!(
            S10::new("SA", 1, "RS"),
            Err(S10Error::ReservedServiceIndicator("SA".into()))
        );
        assert_eq!(S10::new("RA", 100_000_000, "RS"), Err(S10Error::Serial));
        assert_eq!(S10::new("RA", 1, "XX"), Err(S10Error::Country("XX".into())));
    }

    proptest! {
        #[test]
        fn every_generated_identifier_validates(
            si in "[A-IL-RU-VX-Z][A-Z]", serial in 0u32..100_000_000, country in prop::sample::select(vec!["RS", "GB", "US", "CF", "AD"])
        ) {
            let id = S10::new(&si, serial, country).expect("generated identifiers are valid");
            let again = S10::parse(&id.grouped().to_lowercase()).expect("round trip");
            prop_assert_eq!(again.id, id);
            prop_assert_eq!(again.id.serial(), serial);
        }

        #[test]
        fn a_changed_serial_digit_is_caught_unless_the_folding_hides_it(serial in 0u32..100_000_000, pos in 2usize..10, delta in 1u8..10) {
            let id = S10::new("RA", serial, "RS").expect("valid");
            let mut b = *id.as_str().as_bytes().first_chunk::<13>().expect("13 bytes");
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let changed_serial = b[2..10].iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            // Weights 8 6 4 2 3 5 9 7 are all prime to 11, so one changed digit always changes
            // the weighted sum mod 11; only folding 10 to 0 and 11 to 5 can make two sums
            // share a check digit, and exactly then the change goes unseen.
            let weighted = |s: u32| (0..8).map(|i| (s / 10u32.pow(7 - i)) % 10 * WEIGHTS[i as usize]).sum::<u32>() % 11;
            prop_assert_ne!(weighted(serial), weighted(changed_serial));
            let folded_alike = check_digit(changed_serial) == check_digit(serial);
            let changed = S10::parse_canonical(&b);
            prop_assert_eq!(changed.is_ok(), folded_alike, "{:?}", changed);
        }
    }
}
