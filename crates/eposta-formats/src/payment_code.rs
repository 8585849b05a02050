//! Payment codes (šifra plaćanja): three digits, the first the form of payment (1 cash,
//! 2 non-cash), the other two the basis (osnov). NBS, IPS QR decision Prilog 1, tag SF; the
//! code list is Prilog 3 of the NBS decision on payment-order forms (research/payments.md
//! §1.8). Codes 3xx and 9xx exist on payment orders but not in IPS QR codes, so they are
//! refused here.

use std::fmt;

/// Why a text is not a payment code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentCodeError {
    #[error("must be three digits")]
    Format,
    #[error("the first digit must be 1 (cash) or 2 (non-cash)")]
    Form,
}

/// The form of payment: the code's first digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentForm {
    /// 1: gotovinski.
    Cash,
    /// 2: bezgotovinski.
    NonCash,
}

/// A valid payment code, 100 to 299.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaymentCode(u16);

impl PaymentCode {
    pub fn parse(s: &str) -> Result<PaymentCode, PaymentCodeError> {
        let b = s.as_bytes();
        let [f, x, y] = b else {
            return Err(PaymentCodeError::Format);
        };
        if !b.iter().all(u8::is_ascii_digit) {
            return Err(PaymentCodeError::Format);
        }
        if !matches!(f, b'1' | b'2') {
            return Err(PaymentCodeError::Form);
        }
        Ok(PaymentCode(
            u16::from(f - b'0') * 100 + u16::from(x - b'0') * 10 + u16::from(y - b'0'),
        ))
    }

    pub fn form(self) -> PaymentForm {
        if self.0 < 200 {
            PaymentForm::Cash
        } else {
            PaymentForm::NonCash
        }
    }

    /// The basis (osnov), the last two digits.
    pub fn basis(self) -> u8 {
        (self.0 % 100) as u8
    }

    /// What the basis means, for the few the research names (§1.8: 89, 21, 53). Provisional:
    /// not yet checked against Prilog 3, so not for showing to users as the official name.
    pub fn basis_description(self) -> Option<&'static str> {
        match self.basis() {
            89 => Some("transakcije po nalogu građana (transactions ordered by citizens)"),
            21 => Some(
                "promet robe i usluga, finalna potrošnja (goods and services, final consumption; utilities)",
            ),
            53 => Some("javni prihodi, except withholding taxes (public revenues)"),
            _ => None,
        }
    }

    pub fn number(self) -> u16 {
        self.0
    }
}

impl fmt::Display for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        let c = PaymentCode::parse("289").expect("valid");
        assert_eq!(
            (c.form(), c.basis(), c.to_string()),
            (PaymentForm::NonCash, 89, "289".into())
        );
        assert!(c.basis_description().is_some());
        let c = PaymentCode::parse("189").expect("valid");
        assert_eq!(c.form(), PaymentForm::Cash);
        assert_eq!(PaymentCode::parse("123").map(PaymentCode::basis), Ok(23));
        for (bad, e) in [
            ("389", PaymentCodeError::Form),
            ("021", PaymentCodeError::Form),
            ("921", PaymentCodeError::Form),
            ("28", PaymentCodeError::Format),
            ("2890", PaymentCodeError::Format),
            ("2a9", PaymentCodeError::Format),
            ("", PaymentCodeError::Format),
            ("٢٨٩", PaymentCodeError::Format),
        ] {
            assert_eq!(PaymentCode::parse(bad), Err(e), "{bad}");
        }
        for n in 100..300 {
            let c = PaymentCode::parse(&n.to_string()).expect("valid");
            assert_eq!(c.number(), n);
        }
    }
}
