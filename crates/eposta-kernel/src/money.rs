//! Money as an integer count of the minor unit (para for RSD) with its currency; never floats.

use std::fmt;

use serde::{Deserialize, Serialize};

/// ISO 4217 currencies ePošta handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Currency {
    RSD,
    EUR,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::RSD => "RSD",
            Currency::EUR => "EUR",
        }
    }
}

/// An amount: `minor` units (para, cent) of `currency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

/// Adding amounts of different currencies, or overflowing i64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {0} and {1}")]
    CurrencyMismatch(&'static str, &'static str),
    #[error("amount out of range")]
    Overflow,
}

impl Money {
    pub const fn rsd(para: i64) -> Self {
        Self {
            minor: para,
            currency: Currency::RSD,
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(
                self.currency.code(),
                other.currency.code(),
            ));
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    pub fn checked_mul(self, n: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(n).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    /// `percent_bp` of this amount in basis points (2000 = 20 %), rounded half away from zero
    /// to the minor unit; how VAT is computed.
    pub fn percent(self, percent_bp: i64) -> Result<Money, MoneyError> {
        let product = i128::from(self.minor) * i128::from(percent_bp);
        let half = 5_000i128 * product.signum();
        let minor = (product + half) / 10_000;
        let minor = i64::try_from(minor).map_err(|_| MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }
}

impl fmt::Display for Money {
    /// Serbian notation: `1.234,50 RSD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let units = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, ch) in units.chars().enumerate() {
            if i > 0 && (units.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        write!(
            f,
            "{sign}{grouped},{:02} {}",
            abs % 100,
            self.currency.code()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_serbian_notation() {
        assert_eq!(Money::rsd(0).to_string(), "0,00 RSD");
        assert_eq!(Money::rsd(5).to_string(), "0,05 RSD");
        assert_eq!(Money::rsd(123_450).to_string(), "1.234,50 RSD");
        assert_eq!(Money::rsd(-100_000_000).to_string(), "-1.000.000,00 RSD");
    }

    #[test]
    fn refuses_mixed_currencies_and_overflow() {
        let eur = Money {
            minor: 1,
            currency: Currency::EUR,
        };
        assert_eq!(
            Money::rsd(1).checked_add(eur),
            Err(MoneyError::CurrencyMismatch("RSD", "EUR"))
        );
        assert_eq!(
            Money::rsd(i64::MAX).checked_add(Money::rsd(1)),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn percent_rounds_half_away_from_zero() {
        // 20 % VAT of 0,03 RSD is 0,006 → 0,01
        assert_eq!(Money::rsd(3).percent(2000), Ok(Money::rsd(1)));
        // 20 % of 0,02 is 0,004 → 0,00
        assert_eq!(Money::rsd(2).percent(2000), Ok(Money::rsd(0)));
        // exactly half: 10 % of 0,05 = 0,005 → 0,01
        assert_eq!(Money::rsd(5).percent(1000), Ok(Money::rsd(1)));
        assert_eq!(Money::rsd(-5).percent(1000), Ok(Money::rsd(-1)));
    }

    proptest! {
        #[test]
        fn addition_is_commutative(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000_000i64..1_000_000_000) {
            prop_assert_eq!(Money::rsd(a).checked_add(Money::rsd(b)), Money::rsd(b).checked_add(Money::rsd(a)));
        }
    }
}
