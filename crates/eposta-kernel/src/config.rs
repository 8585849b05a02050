//! One typed configuration, layered: defaults, then `eposta.toml` (or the file
//! `EPOSTA_CONFIG` names), then `EPOSTA_*` environment variables. Secrets are
//! [`SecretString`], so `Debug` never prints them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::Error;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Every setting of an ePošta process. The README's configuration table lists them all.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database, keys and objects live.
    pub data_dir: PathBuf,
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// `sqlite:…` or `postgres://…`; default: `sqlite:<data_dir>/eposta.db`.
    pub database_url: Option<SecretString>,
    /// Most connections each process opens.
    pub db_max_connections: u32,
    /// The address users reach ePošta at; used in e-mail links, and `https://` turns on
    /// `Secure` cookies.
    pub public_url: String,
    pub log_format: LogFormat,
    /// A tracing filter, for example `info` or `eposta_kernel=debug,info`.
    pub log: String,
    /// `smtp://user:pass@host:port` or `smtps://…`; without it e-mail stays in the outbox.
    pub smtp_url: Option<SecretString>,
    /// The sender of e-mails.
    pub mail_from: String,
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub body_limit: usize,
    /// Trust the first address of `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Background workers each process runs (`serve` and `worker`).
    pub workers: usize,
    /// Key for signing cookies and CSRF tokens; default: generated into `<data_dir>/keys`.
    pub secret_key: Option<SecretString>,
    /// The postal price list (TOML, the format of `crates/eposta-postal/tariff.example.toml`);
    /// default: that example, built in. The postal capability reads and checks it at start-up.
    pub postal_tariff: Option<PathBuf>,
    /// Let webhook endpoints be `http://` or `https://` on loopback (`localhost`,
    /// 127.0.0.0/8, `[::1]`); for development and tests. Off: only HTTPS to public hosts.
    pub webhooks_allow_loopback: bool,
    /// Days an item waits at a post office for its recipient before it goes back; named in
    /// the recipient's notice as the pickup deadline. The postal capability checks the range.
    pub postal_pickup_days: u32,
    /// The payment fee schedule (TOML, the format of
    /// `crates/eposta-payments/fees.example.toml`); default: that example, built in. The
    /// payments capability reads and checks it at start-up.
    pub payments_fees: Option<PathBuf>,
    /// ePošta's collection account, where citizens send IPS instant transfers (18 digits or
    /// the dashed form); default: an example account that is nobody's.
    pub payments_collection_account: String,
    /// The holder of the collection account as IPS QR codes name it (tag N, up to 70
    /// characters, at most three lines).
    pub payments_collection_name: String,
    /// The merchant category code in ePošta's IPS QR codes (tag M, four digits).
    pub payments_mcc: String,
    /// Minutes a card payment may wait on the acquirer's page before it expires.
    pub payments_card_minutes: u32,
    /// Hours an IPS payment may wait for its transfer to show on a bank statement.
    pub payments_ips_hours: u32,
    /// Serve the local test acquirer (`/test-acquirer/…`) and take card payments through it:
    /// for `serve --demo`, tests and development only, never in production.
    pub payments_test_acquirer: bool,
    /// Generation of the key that signs payment receipts (1, 2, …): the key is derived from
    /// `secret_key` and this number, so raising it gives a new key without a new secret. The
    /// payments capability checks it (`docs/receipts.md`).
    pub payments_receipt_key_generation: u32,
    /// Public keys of earlier receipt-signing keys whose receipts still verify, separated by
    /// commas or spaces (base64url, as `/receipts/keys.json` lists them).
    pub payments_receipt_old_keys: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            db_max_connections: 10,
            public_url: "http://127.0.0.1:8080".into(),
            log_format: LogFormat::Text,
            log: "info".into(),
            smtp_url: None,
            mail_from: "ePošta <noreply@eposta.localhost>".into(),
            body_limit: 2 * 1024 * 1024,
            trust_forwarded_for: false,
            workers: 2,
            secret_key: None,
            postal_tariff: None,
            webhooks_allow_loopback: false,
            postal_pickup_days: 15,
            payments_fees: None,
            payments_collection_account: EXAMPLE_COLLECTION_ACCOUNT.into(),
            payments_collection_name: "ePošta naplata (primer)".into(),
            payments_mcc: "9402".into(),
            payments_card_minutes: 90,
            payments_ips_hours: 72,
            payments_test_acquirer: false,
            payments_receipt_key_generation: 1,
            payments_receipt_old_keys: String::new(),
        }
    }
}

/// The collection account ePošta starts with: valid, and nobody's (bank code 200, account
/// 123456789). The payments capability warns at start-up while it is in use.
pub const EXAMPLE_COLLECTION_ACCOUNT: &str = "200-0000123456789-02";

/// Environment variables that start with `EPOSTA_` but are not settings.
const NOT_SETTINGS: &[&str] = &["CONFIG", "TEST_PG_URL"];

impl Config {
    /// Loads the layers. `file` is the TOML file to read if it exists.
    pub fn load(file: Option<&Path>) -> Result<Self, Error> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("EPOSTA_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("eposta.toml"));
        let config: Config = Figment::new()
            .merge(Toml::file(&file))
            .merge(Env::prefixed("EPOSTA_").filter(|k| {
                !NOT_SETTINGS
                    .iter()
                    .any(|n| k.as_str().eq_ignore_ascii_case(n))
            }))
            .extract()
            .map_err(|e| Error::Config(describe(&e)))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), Error> {
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(Error::Config(
                "EPOSTA_PUBLIC_URL must start with http:// or https://".into(),
            ));
        }
        if let Some(url) = &self.database_url {
            crate::db::Backend::from_url(url.expose_secret())?;
        }
        crate::notify::email::check_config(self)?;
        if self.body_limit < 1024 {
            return Err(Error::Config(
                "EPOSTA_BODY_LIMIT must be at least 1024 bytes".into(),
            ));
        }
        Ok(())
    }

    /// The database URL, defaulting to the SQLite file in the data directory.
    pub fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(url) => url.clone(),
            None => SecretString::from(format!(
                "sqlite://{}",
                self.data_dir.join("eposta.db").display()
            )),
        }
    }

    /// The database URL with any password replaced, for log lines.
    pub fn database_url_redacted(&self) -> String {
        redact_url(self.database_url().expose_secret())
    }

    /// Cookies get `Secure` when users reach us over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

fn describe(e: &figment::Error) -> String {
    let key = e.path.join(".");
    let key = if key.is_empty() {
        String::new()
    } else {
        format!(
            "EPOSTA_{} (or `{key}` in eposta.toml): ",
            key.to_uppercase()
        )
    };
    format!("{key}{}", e.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show_in_debug() {
        let config = Config {
            database_url: Some(SecretString::from("postgres://u:hunter2@db/eposta")),
            smtp_url: Some(SecretString::from("smtp://u:hunter3@mail")),
            secret_key: Some(SecretString::from("k3y-material")),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("hunter3"), "{shown}");
        assert!(!shown.contains("k3y-material"), "{shown}");
        assert_eq!(config.database_url_redacted(), "postgres://u:***@db/eposta");
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let config = Config::default();
        assert_eq!(
            config.database_url().expose_secret(),
            "sqlite://./data/eposta.db"
        );
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment::Jail fixes the closure's error type"
    )]
    fn layers_file_then_environment_and_names_bad_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("eposta.toml", "listen = \"0.0.0.0:9000\"\nworkers = 4\n")?;
            jail.set_env("EPOSTA_WORKERS", "7");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.listen.port(), 9000);
            assert_eq!(c.workers, 7);
            jail.set_env("EPOSTA_LISTEN", "not an address");
            let err = Config::load(None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("EPOSTA_LISTEN"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn checks_mail_settings_only_when_smtp_is_set() {
        let c = Config {
            mail_from: "nobody".into(),
            ..Config::default()
        };
        assert!(c.check().is_ok(), "without SMTP the sender is unused");
        let c = Config {
            smtp_url: Some(SecretString::from("smtp://127.0.0.1:2525")),
            ..Config::default()
        };
        assert!(c.check().is_ok(), "the default sender is an address");
        let c = Config {
            smtp_url: Some(SecretString::from("smtp://127.0.0.1:2525")),
            mail_from: "nobody".into(),
            ..Config::default()
        };
        let err = c.check().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("EPOSTA_MAIL_FROM"), "{err}");
        let c = Config {
            smtp_url: Some(SecretString::from("gopher://u:hunter4@mail")),
            ..Config::default()
        };
        let err = c.check().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("EPOSTA_SMTP_URL"), "{err}");
        assert!(!err.contains("hunter4"), "{err}");
    }

    #[test]
    fn rejects_unknown_database_scheme() {
        let c = Config {
            database_url: Some(SecretString::from("mysql://x")),
            ..Config::default()
        };
        assert!(c.check().is_err());
    }
}
