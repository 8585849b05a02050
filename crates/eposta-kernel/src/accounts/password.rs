//! Password hashing with Argon2id.
//!
//! Parameters: memory 19 MiB, 2 passes, 1 lane, the first of OWASP's recommended Argon2id
//! configurations (Password Storage Cheat Sheet); about 30 ms on one core of the CI machine.
//! Hashes are PHC strings, so the parameters travel with each hash and can be raised later
//! without invalidating old ones. Hashing runs on the blocking pool: it is CPU-bound.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .unwrap_or_else(|_| unreachable!("constant parameters are valid"));
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub async fn hash(password: SecretString) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(anyhow::anyhow!("argon2: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?
}

/// True when `password` matches the PHC string `hash`. A malformed stored hash is false.
pub async fn verify(password: SecretString, hash: String) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        argon2()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(|e| Error::Internal(e.into()))
}

/// A hash of a random password, verified against when the account does not exist, so that
/// a failed login takes as long either way.
pub static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(crate::ids::random_token().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id() {
        let h = hash(SecretString::from("correct horse battery"))
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(
            verify(SecretString::from("correct horse battery"), h.clone())
                .await
                .unwrap()
        );
        assert!(
            !verify(SecretString::from("correct horse batterz"), h)
                .await
                .unwrap()
        );
        assert!(
            !verify(SecretString::from("x"), "not a hash".into())
                .await
                .unwrap()
        );
    }
}
