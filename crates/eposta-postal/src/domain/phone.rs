//! Serbian telephone numbers for notices to the recipient: mobile (06x) or landline (area
//! codes 010–039), typed in E.164 (`+381 64 123 4567`, `00381…`) or in the national form
//! (`064/123-4567`), and kept in E.164 (`+381641234567`).

use std::fmt;

/// A Serbian mobile or landline number in E.164. Its `Debug` hides the middle digits, so a
/// stray `{:?}` in a log line does not leak a whole number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Reads a number in E.164 or national form. Spaces, dashes, slashes, dots and
    /// parentheses are ignored; `+381 (0)64 …` is accepted as people write it.
    pub fn parse(input: &str) -> Option<Phone> {
        let s = input.trim();
        let (plus, rest) = match s.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '/' | '.' | '(' | ')' => {}
                _ => return None,
            }
        }
        let nsn = if plus {
            strip_trunk(digits.strip_prefix("381")?)
        } else if let Some(r) = digits.strip_prefix("00381") {
            strip_trunk(r)
        } else {
            // The national form always starts with the trunk prefix 0.
            digits.strip_prefix('0')?
        };
        let first = nsn.bytes().next()?;
        // 1x–3x: landlines (Belgrade 11, Novi Sad 21, Niš 18, …); 6x: mobile networks.
        // Toll-free (800), premium (9x) and other ranges cannot receive notices.
        let callable = matches!(first, b'1'..=b'3' | b'6');
        if !callable || !(8..=9).contains(&nsn.len()) {
            return None;
        }
        Some(Phone(format!("+381{nsn}")))
    }

    /// The number as stored: `+381641234567`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// `+381 (0)64 …`: a 0 after the country code is a habit, not part of the number.
fn strip_trunk(nsn: &str) -> &str {
    nsn.strip_prefix('0').unwrap_or(nsn)
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        let tail = &s[s.len().saturating_sub(2)..];
        write!(f, "Phone(+381…{tail})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_become_e164() {
        let cases = [
            ("+381 64 123 4567", "+381641234567"),
            ("+381641234567", "+381641234567"),
            ("00381 64 123 4567", "+381641234567"),
            ("064/123-4567", "+381641234567"),
            ("064 123 456", "+38164123456"),
            ("+381 (0)64 123 4567", "+381641234567"),
            ("(011) 3210-123", "+381113210123"),
            ("021.456.789", "+38121456789"),
            ("0230 12 345", "+38123012345"),
            ("  0677 123 456 ", "+381677123456"),
        ];
        for (input, stored) in cases {
            assert_eq!(
                Phone::parse(input).map(Phone::into_inner).as_deref(),
                Some(stored),
                "{input}"
            );
        }
    }

    #[test]
    fn other_numbers_are_refused() {
        for input in [
            "",
            "64 123 4567",        // no trunk prefix, no country code
            "+385 91 123 4567",   // Croatia
            "0800 100 100",       // toll-free
            "0900 123 456",       // premium
            "0700 123 456",       // personal numbers
            "064 12",             // too short
            "064 123 456 789",    // too long
            "064-123-ABCD",       // letters
            "+381",               // nothing after the country code
            "++381641234567",     // two pluses
            "0641234567 ext. 12", // not only a number
        ] {
            assert_eq!(Phone::parse(input), None, "{input}");
        }
    }

    #[test]
    fn debug_hides_the_number() {
        let p = Phone::parse("064 123 4567").expect("valid");
        let shown = format!("{p:?}");
        assert!(!shown.contains("1234567"), "{shown}");
        assert_eq!(shown, "Phone(+381…67)");
    }
}
