//! The public numbers a payment carries: its confirmation number (on pages, receipts and in
//! the API) and, for IPS payments, the model-97 reference of the transfer to ePošta's
//! collection account. Both are drawn at random; the database's unique indexes make them
//! unique, and a rare collision is drawn again.

use eposta_formats::reference::Reference;

/// Letters and digits without look-alikes (no 0, 1, I, O): what people read out and type.
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Characters of a confirmation number (60 bits).
pub const CONFIRMATION_LEN: usize = 12;
/// Digits of the body of a collection reference (after its two control digits).
pub const REFERENCE_DIGITS: usize = 13;

/// A confirmation number from 60 random bits: 12 characters of [`ALPHABET`].
pub fn confirmation_from(bits: u64) -> String {
    (0..CONFIRMATION_LEN)
        .map(|i| char::from(ALPHABET[((bits >> (5 * i)) & 31) as usize]))
        .collect()
}

/// A fresh confirmation number.
pub fn new_confirmation() -> String {
    confirmation_from(rand::random())
}

/// `K7QM-3XPA-9RTW`, easier to read out.
pub fn group_confirmation(code: &str) -> String {
    if code.len() == CONFIRMATION_LEN && code.is_ascii() {
        format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..])
    } else {
        code.to_owned()
    }
}

/// A typed confirmation number in any case, with or without dashes and spaces; `None` if it
/// cannot be one.
pub fn parse_confirmation(input: &str) -> Option<String> {
    let s: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (s.len() == CONFIRMATION_LEN && s.bytes().all(|b| ALPHABET.contains(&b))).then_some(s)
}

/// The model-97 reference whose body is the last [`REFERENCE_DIGITS`] decimal digits of
/// `n`: `97`, two control digits, 13 digits (17 characters in tag RO, within the 25 the
/// generator allows).
pub fn collection_reference_from(n: u64) -> Reference {
    let body = format!("{:013}", n % 10u64.pow(REFERENCE_DIGITS as u32));
    Reference::model97(&body)
        .unwrap_or_else(|_| unreachable!("13 decimal digits are a valid model-97 body"))
}

/// A fresh collection reference.
pub fn new_collection_reference() -> Reference {
    collection_reference_from(rand::random())
}

#[cfg(test)]
mod tests {
    use super::*;
    use eposta_formats::reference::Model;

    #[test]
    fn confirmation_numbers_use_the_alphabet_and_parse_back() {
        assert_eq!(confirmation_from(0), "222222222222");
        assert_eq!(confirmation_from(u64::MAX), "ZZZZZZZZZZZZ");
        let c = confirmation_from(0x0123_4567_89ab_cdef);
        assert_eq!(c.len(), 12);
        assert!(c.bytes().all(|b| ALPHABET.contains(&b)));
        let grouped = group_confirmation(&c);
        assert_eq!(grouped.len(), 14);
        assert_eq!(parse_confirmation(&grouped), Some(c.clone()));
        assert_eq!(parse_confirmation(&grouped.to_lowercase()), Some(c));
        for bad in ["", "K7QM-3XPA", "K7QM-3XPA-9RT0", "K7QM-3XPA-9RTWX"] {
            assert_eq!(parse_confirmation(bad), None, "{bad}");
        }
        assert_ne!(new_confirmation(), new_confirmation());
    }

    #[test]
    fn collection_references_are_checked_model_97() {
        let r = collection_reference_from(1234);
        assert_eq!(r.model(), Model::M97);
        assert_eq!(&r.reference()[2..], "0000000001234");
        // Parsed back from its RO form, as the bank statement gives it.
        assert_eq!(Reference::parse_ro(&r.ro()), Ok(r.clone()));
        assert_eq!(r.ro().len(), 17);
        let big = collection_reference_from(u64::MAX);
        assert_eq!(big.reference().len(), 15);
        assert!(Reference::parse(&big.to_string()).is_ok());
    }
}
