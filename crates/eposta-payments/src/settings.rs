//! The capability's settings (README, "Configuration"; docs/payments.md), read from the
//! kernel's `Config` and checked once at start-up so that a bad value stops `eposta serve`
//! with the name of the setting.

use chrono::Duration;
use eposta_formats::account::AccountNumber;
use eposta_formats::ips::{IpsFields, IpsQr, Kind};
use eposta_kernel::Error;
use eposta_kernel::config::{Config, EXAMPLE_COLLECTION_ACCOUNT};

use crate::fees::FeeSchedule;

/// Longest card deadline: a day.
pub const MAX_CARD_MINUTES: u32 = 24 * 60;
/// Longest IPS deadline: 30 days (statements may come late, but not that late).
pub const MAX_IPS_HOURS: u32 = 30 * 24;

/// Where IPS payments are sent: ePošta's collection account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub account: AccountNumber,
    /// The account holder as tag N names it.
    pub name: String,
    /// Tag M: the merchant category code.
    pub mcc: String,
    /// True while the account is the built-in example, which is nobody's.
    pub example: bool,
}

/// The collection account of the configuration.
pub fn collection(config: &Config) -> Result<Collection, Error> {
    let account = AccountNumber::parse(&config.payments_collection_account)
        .map_err(|e| Error::Config(format!("EPOSTA_PAYMENTS_COLLECTION_ACCOUNT: {e}")))?;
    let name = config.payments_collection_name.replace("\\n", "\n");
    Ok(Collection {
        example: AccountNumber::parse(EXAMPLE_COLLECTION_ACCOUNT) == Ok(account),
        account,
        name,
        mcc: config.payments_mcc.trim().to_owned(),
    })
}

/// How long a card payment may stay pending.
pub fn card_deadline(config: &Config) -> Duration {
    Duration::minutes(i64::from(config.payments_card_minutes))
}

/// How long an IPS payment may stay pending.
pub fn ips_deadline(config: &Config) -> Duration {
    Duration::hours(i64::from(config.payments_ips_hours))
}

/// Checks every payments setting: the fee file, the collection account, name and MCC (by
/// building an IPS QR code with them), and the deadlines. Warns about the example account
/// and about the test acquirer outside development.
pub fn check_config(config: &Config) -> Result<(), Error> {
    FeeSchedule::configured(config)?;
    let c = collection(config)?;
    let mut fields = IpsFields::new(Kind::Pt, c.account.as_str(), &c.name, 100);
    fields.mcc = Some(c.mcc.clone());
    IpsQr::new(&fields).map_err(|e| {
        let key = match e.tag.as_ref() {
            "N" => "EPOSTA_PAYMENTS_COLLECTION_NAME",
            "M" => "EPOSTA_PAYMENTS_MCC",
            _ => "EPOSTA_PAYMENTS_COLLECTION_ACCOUNT",
        };
        Error::Config(format!("{key}: {e}"))
    })?;
    if !(5..=MAX_CARD_MINUTES).contains(&config.payments_card_minutes) {
        return Err(Error::Config(format!(
            "EPOSTA_PAYMENTS_CARD_MINUTES must be from 5 to {MAX_CARD_MINUTES}, not {}",
            config.payments_card_minutes
        )));
    }
    if !(1..=MAX_IPS_HOURS).contains(&config.payments_ips_hours) {
        return Err(Error::Config(format!(
            "EPOSTA_PAYMENTS_IPS_HOURS must be from 1 to {MAX_IPS_HOURS}, not {}",
            config.payments_ips_hours
        )));
    }
    if c.example {
        tracing::warn!(
            "EPOSTA_PAYMENTS_COLLECTION_ACCOUNT is the built-in example account; set ePošta's real collection account before taking IPS payments"
        );
    }
    if config.payments_test_acquirer && config.secure_cookies() {
        tracing::warn!(
            "the test acquirer is on (EPOSTA_PAYMENTS_TEST_ACQUIRER) on an https address: anyone can pay with a test card; turn it off in production"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_the_example_is_recognised() {
        let config = Config::default();
        check_config(&config).expect("defaults");
        let c = collection(&config).expect("collection");
        assert!(c.example);
        assert_eq!(c.account.dashed(), "200-123456789-02");
        assert_eq!(card_deadline(&config), Duration::minutes(90));
        assert_eq!(ips_deadline(&config), Duration::hours(72));
    }

    #[test]
    fn bad_settings_are_named() {
        type Edit = fn(&mut Config);
        let cases: [(Edit, &str); 6] = [
            (
                |c| c.payments_collection_account = "200-123456789-03".into(),
                "EPOSTA_PAYMENTS_COLLECTION_ACCOUNT",
            ),
            (
                |c| c.payments_collection_name = "A|B".into(),
                "EPOSTA_PAYMENTS_COLLECTION_NAME",
            ),
            (|c| c.payments_mcc = "94".into(), "EPOSTA_PAYMENTS_MCC"),
            (
                |c| c.payments_card_minutes = 2,
                "EPOSTA_PAYMENTS_CARD_MINUTES",
            ),
            (|c| c.payments_ips_hours = 0, "EPOSTA_PAYMENTS_IPS_HOURS"),
            (
                |c| c.payments_fees = Some("/nonexistent/fees.toml".into()),
                "EPOSTA_PAYMENTS_FEES",
            ),
        ];
        for (edit, key) in cases {
            let mut config = Config::default();
            edit(&mut config);
            let err = check_config(&config).expect_err(key).to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
        let config = Config {
            payments_collection_account: "160-5100-05".into(),
            ..Config::default()
        };
        assert!(!collection(&config).expect("valid").example);
    }
}
