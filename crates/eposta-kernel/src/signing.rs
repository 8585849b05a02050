//! Ed25519 signing keys derived from the installation's secret, so that every process of one
//! installation signs alike and anyone holding the public key verifies offline; public keys
//! with their key ids, in the text forms people and tools exchange (base64url, PEM, JWK).
//! Pure: no IO. Receipts are the first user (`docs/receipts.md`).
//!
//! A key is HKDF-SHA256 (RFC 5869) of the secret with a label naming its purpose, so keys of
//! different purposes (or generations) are unrelated, and the secret itself never signs.
//! Ed25519 comes from `ring`, which rustls already brings: no new crypto dependency.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The HKDF salt of every ePošta signing key: fixed, so that one secret and one label give
/// one key everywhere.
const SALT: &[u8] = b"ePosta signing keys";

/// What comes before the raw key in a DER SubjectPublicKeyInfo of an Ed25519 key (RFC 8410):
/// SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (33 bytes) }.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Bytes of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// Why a public key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not base64 or PEM")]
    Encoding,
    #[error(
        "an Ed25519 public key is 32 bytes (or a 44-byte SubjectPublicKeyInfo); this is {0} bytes"
    )]
    Length(usize),
    #[error("not an Ed25519 key (its SubjectPublicKeyInfo names another algorithm)")]
    Algorithm,
}

/// The first 8 bytes of the SHA-256 of a raw public key, as 16 lower-case hex digits: short
/// enough for a token, long enough that two keys of one installation never share it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    fn of(public: &[u8; 32]) -> KeyId {
        KeyId(hex::encode(&Sha256::digest(public)[..8]))
    }

    /// Reads a key id as tokens carry it; `None` unless 16 lower-case hex digits.
    pub fn parse(s: &str) -> Option<KeyId> {
        (s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| KeyId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Ed25519 public key and its id.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    bytes: [u8; 32],
    id: KeyId,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} {})", self.id, self.to_base64url())
    }
}

impl PublicKey {
    pub fn from_bytes(bytes: [u8; 32]) -> PublicKey {
        PublicKey {
            id: KeyId::of(&bytes),
            bytes,
        }
    }

    /// Reads a key as people paste it: the 32 raw bytes in base64url or standard base64
    /// (padded or not), the same wrapped in a DER SubjectPublicKeyInfo (what `openssl pkey
    /// -pubout -outform DER | base64` prints), or that as a PEM `PUBLIC KEY` block.
    pub fn parse(text: &str) -> Result<PublicKey, KeyError> {
        let text = text.trim();
        let body: String = if text.starts_with("-----BEGIN PUBLIC KEY-----") {
            text.lines()
                .filter(|l| !l.starts_with("-----"))
                .flat_map(str::chars)
                .filter(|c| !c.is_whitespace())
                .collect()
        } else {
            text.to_owned()
        };
        let trimmed = body.trim_end_matches('=');
        let bytes = URL_SAFE_NO_PAD
            .decode(trimmed)
            .or_else(|_| STANDARD_NO_PAD.decode(trimmed))
            .map_err(|_| KeyError::Encoding)?;
        let raw: &[u8] = match bytes.len() {
            32 => &bytes,
            44 if bytes[..12] == SPKI_PREFIX => &bytes[12..],
            44 => return Err(KeyError::Algorithm),
            n => return Err(KeyError::Length(n)),
        };
        let mut key = [0u8; 32];
        key.copy_from_slice(raw);
        Ok(PublicKey::from_bytes(key))
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The raw key in base64url without padding (43 characters), as JWK's `x`.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes)
    }

    /// A PEM `PUBLIC KEY` block (SubjectPublicKeyInfo), which `openssl pkeyutl -verify
    /// -pubin -inkey` reads.
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.bytes);
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der)
        )
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.bytes)
            .verify(message, signature)
            .is_ok()
    }

    /// The key as a JSON Web Key (RFC 8037: `kty` OKP, `crv` Ed25519), with its PEM form
    /// beside it for tools that read no JWK.
    pub fn jwk(&self, status: KeyStatus) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            alg: "EdDSA".into(),
            key_use: "sig".into(),
            kid: self.id.clone(),
            x: self.to_base64url(),
            pem: self.to_pem(),
            status,
        }
    }
}

/// Reads a list of public keys separated by commas or white space (a setting's value); the
/// error names the position (from 1) of the key that could not be read.
pub fn parse_key_list(text: &str) -> Result<Vec<PublicKey>, (usize, KeyError)> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, s)| PublicKey::parse(s).map_err(|e| (i + 1, e)))
        .collect()
}

/// Whether a published key signs now or only verifies what it signed before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Current,
    Retired,
}

/// One key of a published key set: a JWK (RFC 7517, 8037) with two members of ours, `pem`
/// and `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub key_use: String,
    pub kid: KeyId,
    pub x: String,
    pub pem: String,
    pub status: KeyStatus,
}

/// A published set of keys, `{"keys": [...]}` as a JWK Set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// The keys of a set as read from a file (`eposta receipt verify --keys`); a key whose
    /// `kid` does not match its `x` is refused, so a set cannot lie about which key is which.
    pub fn public_keys(&self) -> Result<Vec<PublicKey>, String> {
        self.keys
            .iter()
            .map(|k| {
                if k.kty != "OKP" || k.crv != "Ed25519" {
                    return Err(format!("key {}: not an Ed25519 key", k.kid));
                }
                let key = PublicKey::parse(&k.x).map_err(|e| format!("key {}: {e}", k.kid))?;
                if key.id() != &k.kid {
                    return Err(format!(
                        "key {}: its id does not match its value ({})",
                        k.kid,
                        key.id()
                    ));
                }
                Ok(key)
            })
            .collect()
    }
}

/// A private Ed25519 key, derived from a secret. `Debug` shows only its id.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    public: PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.public.id)
    }
}

impl SigningKey {
    /// The key of `label` under `secret`: the Ed25519 seed is HKDF-SHA256 with the salt
    /// `ePosta signing keys`, the secret as input key material and the label as info.
    pub fn derive(secret: &[u8], label: &str) -> SigningKey {
        let mut seed = [0u8; 32];
        let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, SALT).extract(secret);
        let info = [label.as_bytes()];
        // Both calls fail only for an output longer than 255 hash lengths; 32 bytes is one.
        prk.expand(&info, ring::hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut seed))
            .unwrap_or_else(|_| unreachable!("HKDF gives 32 bytes"));
        SigningKey::from_seed(&seed)
    }

    /// The key of a 32-byte seed (RFC 8032's private key).
    pub fn from_seed(seed: &[u8; 32]) -> SigningKey {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .unwrap_or_else(|_| unreachable!("every 32-byte seed is an Ed25519 key"));
        let mut public = [0u8; 32];
        public.copy_from_slice(pair.public_key().as_ref());
        SigningKey {
            pair,
            public: PublicKey::from_bytes(public),
        }
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    pub fn id(&self) -> &KeyId {
        &self.public.id
    }

    /// The Ed25519 signature of `message` (deterministic: the same message, the same bytes).
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut out = [0u8; SIGNATURE_LEN];
        out.copy_from_slice(self.pair.sign(message).as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1, test 1: the seed, its public key, and the signature of the empty
    /// message. Our Ed25519 is the standard one.
    #[test]
    fn rfc8032_test_vector_1() {
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .expect("hex")
                .try_into()
                .expect("32 bytes");
        let key = SigningKey::from_seed(&seed);
        assert_eq!(
            hex::encode(key.public().as_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = key.sign(b"");
        assert_eq!(
            hex::encode(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
             5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        assert!(key.public().verify(b"", &sig));
        assert!(!key.public().verify(b"x", &sig));
    }

    #[test]
    fn derivation_is_deterministic_and_separates_labels_and_secrets() {
        let a = SigningKey::derive(b"an installation secret of 32 chars", "receipts/1");
        let b = SigningKey::derive(b"an installation secret of 32 chars", "receipts/1");
        let other_label = SigningKey::derive(b"an installation secret of 32 chars", "receipts/2");
        let other_secret = SigningKey::derive(b"another installation secret 32 ch", "receipts/1");
        assert_eq!(a.public(), b.public());
        assert_eq!(a.sign(b"m"), b.sign(b"m"));
        assert_ne!(a.public(), other_label.public());
        assert_ne!(a.public(), other_secret.public());
        assert_ne!(a.id(), other_label.id());
    }

    /// HKDF-SHA256 as RFC 5869 §A.1 defines it (its first 32 output bytes), through the same
    /// calls `derive` makes: the derivation is the standard one, reproducible elsewhere.
    #[test]
    fn hkdf_matches_rfc5869_case_1() {
        let ikm = [0x0bu8; 22];
        let salt = hex::decode("000102030405060708090a0b0c").expect("hex");
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").expect("hex");
        let mut okm = [0u8; 32];
        ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, &salt)
            .extract(&ikm)
            .expand(&[&info], ring::hkdf::HKDF_SHA256)
            .and_then(|o| o.fill(&mut okm))
            .expect("32 bytes");
        assert_eq!(
            hex::encode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
    }

    #[test]
    fn key_id_is_the_first_8_bytes_of_sha256() {
        let key = SigningKey::from_seed(&[7; 32]);
        let digest = Sha256::digest(key.public().as_bytes());
        assert_eq!(key.id().as_str(), hex::encode(&digest[..8]));
        assert_eq!(KeyId::parse(key.id().as_str()), Some(key.id().clone()));
        for bad in [
            "",
            "0123456789ABCDEF",
            "0123456789abcde",
            "0123456789abcdefa",
        ] {
            assert_eq!(KeyId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn public_keys_read_in_every_form_they_are_written() {
        let key = SigningKey::from_seed(&[9; 32]);
        let public = key.public();
        let raw_std = STANDARD.encode(public.as_bytes());
        let mut spki = SPKI_PREFIX.to_vec();
        spki.extend_from_slice(public.as_bytes());
        for text in [
            public.to_base64url(),
            raw_std.clone(),
            raw_std.trim_end_matches('=').to_owned(),
            STANDARD.encode(&spki),
            public.to_pem(),
            format!("  {}\n", public.to_base64url()),
        ] {
            assert_eq!(PublicKey::parse(&text).as_ref(), Ok(public), "{text}");
        }
        assert_eq!(PublicKey::parse("not base64!"), Err(KeyError::Encoding));
        assert_eq!(
            PublicKey::parse(&URL_SAFE_NO_PAD.encode([1u8; 31])),
            Err(KeyError::Length(31))
        );
        let mut x25519 = spki.clone();
        x25519[8] = 0x6e;
        assert_eq!(
            PublicKey::parse(&STANDARD.encode(&x25519)),
            Err(KeyError::Algorithm)
        );
    }

    #[test]
    fn key_lists_and_key_sets() {
        let a = SigningKey::from_seed(&[1; 32]);
        let b = SigningKey::from_seed(&[2; 32]);
        let list = format!(
            "{}, {}\n",
            a.public().to_base64url(),
            b.public().to_base64url()
        );
        assert_eq!(
            parse_key_list(&list),
            Ok(vec![a.public().clone(), b.public().clone()])
        );
        assert_eq!(parse_key_list(""), Ok(vec![]));
        assert_eq!(
            parse_key_list(&format!("{} nonsense!", a.public().to_base64url())),
            Err((2, KeyError::Encoding))
        );

        let set = JwkSet {
            keys: vec![
                a.public().jwk(KeyStatus::Current),
                b.public().jwk(KeyStatus::Retired),
            ],
        };
        let json = serde_json::to_string(&set).expect("json");
        assert!(json.contains("\"kty\":\"OKP\"") && json.contains("\"use\":\"sig\""));
        let back: JwkSet = serde_json::from_str(&json).expect("reads back");
        assert_eq!(
            back.public_keys(),
            Ok(vec![a.public().clone(), b.public().clone()])
        );
        let mut lying = back.clone();
        lying.keys[0].kid = b.id().clone();
        assert!(lying.public_keys().is_err());
    }
}
