//! The installation's receipt keys: the signing key, derived from `EPOSTA_SECRET_KEY` and
//! the key generation (so every process of one installation signs alike and nothing is
//! stored), and the public keys that verify: the current one and those kept in
//! `EPOSTA_PAYMENTS_RECEIPT_OLD_KEYS` after a rotation. Published at `/receipts/keys.json`.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use eposta_kernel::config::Config;
use eposta_kernel::signing::{self, JwkSet, KeyStatus, PublicKey, SigningKey};
use eposta_kernel::web::error::PageError;
use eposta_kernel::{App, Error};
use secrecy::{ExposeSecret, SecretString};

/// The highest key generation: rotations are rare, and a typo of many digits should stop
/// start-up rather than sign with a key nobody expects.
pub const MAX_GENERATION: u32 = 1_000;

/// The HKDF label of a generation's key. Fixed forever: changing it changes every key.
pub fn label(generation: u32) -> String {
    format!("eposta/payments/receipts/ed25519/generation-{generation}")
}

/// The keys of one installation.
#[derive(Debug)]
pub struct ReceiptKeys {
    signing: SigningKey,
    /// The current public key first, then the old ones, without repeats.
    verifying: Vec<PublicKey>,
}

impl ReceiptKeys {
    /// The keys of `secret` at `generation`, trusting `old` keys too.
    pub fn new(secret: &[u8], generation: u32, old: Vec<PublicKey>) -> ReceiptKeys {
        let signing = SigningKey::derive(secret, &label(generation));
        let mut verifying = vec![signing.public().clone()];
        for key in old {
            if !verifying.contains(&key) {
                verifying.push(key);
            }
        }
        ReceiptKeys { signing, verifying }
    }

    /// The keys the settings describe; the error names the setting that is wrong.
    pub fn from_config(config: &Config, secret: &SecretString) -> Result<ReceiptKeys, Error> {
        let generation = config.payments_receipt_key_generation;
        if !(1..=MAX_GENERATION).contains(&generation) {
            return Err(Error::Config(format!(
                "EPOSTA_PAYMENTS_RECEIPT_KEY_GENERATION must be from 1 to {MAX_GENERATION}, not {generation}"
            )));
        }
        let old =
            signing::parse_key_list(&config.payments_receipt_old_keys).map_err(|(n, e)| {
                Error::Config(format!(
                    "EPOSTA_PAYMENTS_RECEIPT_OLD_KEYS: key {n} cannot be read: {e}"
                ))
            })?;
        Ok(ReceiptKeys::new(
            secret.expose_secret().as_bytes(),
            generation,
            old,
        ))
    }

    /// This app's keys, derived once per process.
    pub fn for_app(app: &App) -> Result<Arc<ReceiptKeys>, Error> {
        let cache = app.local::<Cached>();
        let mut slot = cache
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(keys) = slot.as_ref() {
            return Ok(keys.clone());
        }
        let keys = Arc::new(ReceiptKeys::from_config(&app.config, &app.secret)?);
        *slot = Some(keys.clone());
        Ok(keys)
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The keys whose receipts verify: the current one first.
    pub fn verifying_keys(&self) -> &[PublicKey] {
        &self.verifying
    }

    /// The published set: the current key, then the retired ones.
    pub fn jwk_set(&self) -> JwkSet {
        JwkSet {
            keys: self
                .verifying
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    k.jwk(if i == 0 {
                        KeyStatus::Current
                    } else {
                        KeyStatus::Retired
                    })
                })
                .collect(),
        }
    }
}

#[derive(Default)]
struct Cached(Mutex<Option<Arc<ReceiptKeys>>>);

/// Checks the receipt settings; `eposta serve` calls it (through the capability's
/// `check_config`) so that a bad key stops start-up naming the setting.
pub fn check_config(config: &Config) -> Result<(), Error> {
    ReceiptKeys::from_config(config, &SecretString::from("check only")).map(|_| ())
}

/// `GET /receipts/keys.json`: the public keys as a JWK Set (RFC 7517, 8037), cacheable for
/// an hour.
pub(crate) async fn keys_json(State(app): State<App>) -> Result<Response, PageError> {
    let keys = ReceiptKeys::for_app(&app)?;
    let body = serde_json::to_string_pretty(&keys.jwk_set())
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("keys.json")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_secret_and_generation_give_one_key_everywhere() {
        let a = ReceiptKeys::new(b"secret of the installation, 32+ chars", 1, vec![]);
        let b = ReceiptKeys::new(b"secret of the installation, 32+ chars", 1, vec![]);
        let next = ReceiptKeys::new(b"secret of the installation, 32+ chars", 2, vec![]);
        assert_eq!(a.signing_key().public(), b.signing_key().public());
        assert_ne!(a.signing_key().public(), next.signing_key().public());
        // The receipt key is not the kernel's other keys: its label is its own.
        let other = SigningKey::derive(b"secret of the installation, 32+ chars", "something else");
        assert_ne!(a.signing_key().public(), other.public());
    }

    #[test]
    fn a_rotation_keeps_the_old_key_verifying_and_publishes_both() {
        let secret = b"secret of the installation, 32+ chars";
        let old = ReceiptKeys::new(secret, 1, vec![]);
        let old_public = old.signing_key().public().clone();
        let config = Config {
            payments_receipt_key_generation: 2,
            payments_receipt_old_keys: format!(
                "{}, {}",
                old_public.to_base64url(),
                old_public.to_base64url()
            ),
            ..Config::default()
        };
        let keys = ReceiptKeys::from_config(
            &config,
            &SecretString::from(String::from_utf8(secret.to_vec()).expect("UTF-8")),
        )
        .expect("valid settings");
        assert_eq!(keys.verifying_keys().len(), 2, "the repeat is kept once");
        assert_eq!(keys.verifying_keys()[1], old_public);
        assert_ne!(keys.signing_key().public(), &old_public);
        let set = keys.jwk_set();
        assert_eq!(set.keys[0].status, KeyStatus::Current);
        assert_eq!(set.keys[0].kid, *keys.signing_key().id());
        assert_eq!(set.keys[1].status, KeyStatus::Retired);
        assert_eq!(set.keys[1].kid, *old_public.id());
    }

    #[test]
    fn bad_settings_name_themselves() {
        for (config, setting) in [
            (
                Config {
                    payments_receipt_key_generation: 0,
                    ..Config::default()
                },
                "EPOSTA_PAYMENTS_RECEIPT_KEY_GENERATION",
            ),
            (
                Config {
                    payments_receipt_old_keys: "AAAA, not-a-key!".into(),
                    ..Config::default()
                },
                "EPOSTA_PAYMENTS_RECEIPT_OLD_KEYS: key 1",
            ),
        ] {
            let err = check_config(&config)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(setting), "{err}");
        }
        assert!(check_config(&Config::default()).is_ok());
    }
}
