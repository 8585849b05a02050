//! The signed code a receipt's QR carries: `EPR1.<payload>.<signature>`, both parts
//! base64url without padding; the payload is the claims' canonical JSON
//! ([`super::claims`]), the signature Ed25519 over the ASCII text before the second dot
//! (`EPR1.<payload>`), so the version is signed too. Anyone with the public key verifies it
//! offline; `docs/receipts.md` shows how with `openssl` alone.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use eposta_kernel::signing::{KeyId, PublicKey, SIGNATURE_LEN, SigningKey};

use super::claims::ReceiptClaims;
use super::data::{ReceiptData, ReceiptError};

/// The first part of every code of this format, version 1.
pub const PREFIX: &str = "EPR1";
/// The longest code accepted, in bytes: a receipt's claims with the longest names fit about
/// twice over; anything longer is not ours.
pub const MAX_TOKEN: usize = 2_048;

/// Why a code is not a valid receipt. The four kinds are told apart so that a person (and
/// `eposta receipt verify`) can say what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not a receipt code at all, an unknown version, or parts that cannot be read.
    #[error("not a valid receipt code: {0}")]
    Format(String),
    /// Well formed, but signed by a key this verifier does not trust (another installation,
    /// or a key retired and dropped).
    #[error("signed with key {0}, which is not a known ePošta receipt key")]
    UnknownKey(KeyId),
    /// The signature part is not an Ed25519 signature (wrong length).
    #[error("the signature is not an Ed25519 signature")]
    BadSignature,
    /// A known key's signature that does not match the content: something in the code was
    /// changed after ePošta signed it.
    #[error("the content does not match its signature: the receipt was changed")]
    ChangedContent,
}

/// Signs the receipt of `data` with `key`: its code, ready for the QR.
pub fn sign(data: &ReceiptData, key: &SigningKey) -> Result<String, ReceiptError> {
    data.check()?;
    let token = seal(&data.claims(key.id().clone()), key);
    if token.len() > MAX_TOKEN {
        return Err(ReceiptError::Invalid {
            field: "payee_name",
            reason: "the receipt's code would be too long",
        });
    }
    Ok(token)
}

/// The code of these claims, signed by `key` as they are (tests sign claims that name
/// another key, to see them refused).
pub(crate) fn seal(claims: &ReceiptClaims, key: &SigningKey) -> String {
    let signed = format!("{PREFIX}.{}", URL_SAFE_NO_PAD.encode(claims.to_bytes()));
    let signature = URL_SAFE_NO_PAD.encode(key.sign(signed.as_bytes()));
    format!("{signed}.{signature}")
}

/// Checks a code against the keys trusted (the current one and those kept after a
/// rotation) and gives its claims. White space around the code is ignored.
pub fn verify(token: &str, keys: &[PublicKey]) -> Result<ReceiptClaims, VerifyError> {
    let token = token.trim();
    if token.len() > MAX_TOKEN {
        return Err(VerifyError::Format("longer than any receipt code".into()));
    }
    let mut parts = token.split('.');
    let (Some(prefix), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Format(format!(
            "expected three parts, {PREFIX}.<payload>.<signature>"
        )));
    };
    if prefix != PREFIX {
        return Err(VerifyError::Format(
            if prefix.starts_with("EPR") && prefix.len() <= 6 {
                format!("version {prefix} is not known here (this verifier reads {PREFIX})")
            } else {
                format!("it does not start with {PREFIX}")
            },
        ));
    }
    let payload_bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| VerifyError::Format("the payload is not base64url".into()))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| VerifyError::Format("the signature is not base64url".into()))?;
    if signature.len() != SIGNATURE_LEN {
        return Err(VerifyError::BadSignature);
    }
    let claims = ReceiptClaims::from_bytes(&payload_bytes).map_err(VerifyError::Format)?;
    let key = keys
        .iter()
        .find(|k| k.id() == &claims.key_id)
        .ok_or_else(|| VerifyError::UnknownKey(claims.key_id.clone()))?;
    let signed = &token[..prefix.len() + 1 + payload.len()];
    if !key.verify(signed.as_bytes(), &signature) {
        return Err(VerifyError::ChangedContent);
    }
    Ok(claims)
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// The first receipt code in a text or a file's bytes (a pasted line, a link that carries
/// one, the bytes of a receipt PDF, whose metadata holds it): `EPR`, a version number, a dot,
/// and the letters, digits, `-`, `_` and `.` that follow. `None` if there is none.
pub fn find_token(bytes: &[u8]) -> Option<String> {
    let start = (0..bytes.len()).find(|&i| {
        bytes[i..].starts_with(b"EPR") && {
            let digits = bytes[i + 3..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            digits > 0 && bytes.get(i + 3 + digits) == Some(&b'.')
        }
    })?;
    let len = bytes[start..]
        .iter()
        .take(MAX_TOKEN + 1)
        .take_while(|&&b| is_token_byte(b))
        .count();
    String::from_utf8(bytes[start..start + len].to_vec()).ok()
}

/// Like [`find_token`] for text a person pasted: a code broken over lines (as the receipt
/// prints it, and as a PDF viewer copies it) is joined again first, when the text is nothing
/// but the code and white space.
pub fn find_token_in_text(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if trimmed
        .bytes()
        .all(|b| is_token_byte(b) || b.is_ascii_whitespace())
    {
        let joined: String = trimmed.split_ascii_whitespace().collect();
        return find_token(joined.as_bytes());
    }
    find_token(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::data::tests::{card, cash};
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_seed(&[n; 32])
    }

    /// The same token with its payload replaced by `claims` and its signature kept.
    fn with_claims(token: &str, claims: &ReceiptClaims) -> String {
        let signature = token.rsplit('.').next().expect("a signature");
        format!(
            "{PREFIX}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(claims.to_bytes())
        )
    }

    #[test]
    fn signs_and_verifies_round_trip() {
        let k = key(1);
        for data in [cash(), card()] {
            let token = sign(&data, &k).expect("signs");
            assert!(token.starts_with("EPR1.") && token.len() < 600, "{token}");
            assert_eq!(token.matches('.').count(), 2);
            let claims = verify(&token, &[k.public().clone()]).expect("valid");
            assert_eq!(claims, data.claims(k.id().clone()));
            assert_eq!(claims.total_para(), Some(1_239_067));
            // Deterministic: one receipt, one code.
            assert_eq!(sign(&data, &k), Ok(token.clone()));
            // White space around it, as pasted, is fine.
            assert_eq!(
                verify(&format!("  {token}\n"), &[k.public().clone()]),
                Ok(claims)
            );
        }
    }

    #[test]
    fn changing_any_claim_breaks_the_signature() {
        let k = key(1);
        let keys = [k.public().clone()];
        let token = sign(&cash(), &k).expect("signs");
        let good = verify(&token, &keys).expect("valid");
        type Change = Box<dyn Fn(&mut ReceiptClaims)>;
        let changes: Vec<(&str, Change)> = vec![
            (
                "confirmation",
                Box::new(|c| c.confirmation = "K7QM-3XPA-9RTX".into()),
            ),
            ("amount", Box::new(|c| c.amount_para += 100)),
            ("fee", Box::new(|c| c.fee_para = 0)),
            (
                "currency",
                Box::new(|c| c.currency = eposta_kernel::money::Currency::EUR),
            ),
            (
                "payee account",
                Box::new(|c| c.payee_account = "840-955845-10".into()),
            ),
            ("payee", Box::new(|c| c.payee = "Неко други".into())),
            (
                "reference",
                Box::new(|c| c.reference = "97 14123413".into()),
            ),
            ("payment code", Box::new(|c| c.payment_code = "221".into())),
            (
                "time",
                Box::new(|c| c.paid_at += chrono::Duration::seconds(1)),
            ),
            (
                "method",
                Box::new(|c| {
                    c.paid_by = super::super::claims::PaidBy::Card;
                    c.office = None;
                }),
            ),
            ("office", Box::new(|c| c.office = Some("21101".into()))),
        ];
        for (what, change) in changes {
            let mut claims = good.clone();
            change(&mut claims);
            assert_ne!(claims, good, "{what}");
            assert_eq!(
                verify(&with_claims(&token, &claims), &keys),
                Err(VerifyError::ChangedContent),
                "{what}"
            );
        }
        // A flipped bit in the signature.
        let mut sig = URL_SAFE_NO_PAD
            .decode(token.rsplit('.').next().expect("sig"))
            .expect("base64");
        sig[10] ^= 1;
        let forged = format!(
            "{}.{}",
            &token[..token.rfind('.').expect("dot")],
            URL_SAFE_NO_PAD.encode(&sig)
        );
        assert_eq!(verify(&forged, &keys), Err(VerifyError::ChangedContent));
    }

    #[test]
    fn the_key_must_be_known_and_must_match() {
        let (ours, theirs) = (key(1), key(2));
        let token = sign(&cash(), &theirs).expect("signs");
        assert_eq!(
            verify(&token, &[ours.public().clone()]),
            Err(VerifyError::UnknownKey(theirs.id().clone()))
        );
        // Both trusted (a rotation): either key's receipts verify.
        let both = [ours.public().clone(), theirs.public().clone()];
        assert!(verify(&token, &both).is_ok());
        assert!(verify(&sign(&cash(), &ours).expect("signs"), &both).is_ok());
        // Claims that name our key, signed by theirs.
        let claims = cash().claims(ours.id().clone());
        assert_eq!(
            verify(&seal(&claims, &theirs), &both),
            Err(VerifyError::ChangedContent)
        );
        assert_eq!(
            verify(&token, &[]),
            Err(VerifyError::UnknownKey(theirs.id().clone()))
        );
    }

    #[test]
    fn malformed_codes_say_what_is_wrong() {
        let k = key(1);
        let keys = [k.public().clone()];
        let token = sign(&cash(), &k).expect("signs");
        let (signed, sig) = token.rsplit_once('.').expect("dot");
        let cases = [
            String::new(),
            "hello".into(),
            format!("{token}.x"),
            token.replacen("EPR1", "EPR2", 1),
            token.replacen("EPR1", "XYZ1", 1),
            format!("{signed}!.{sig}"),
            format!("{signed}.{sig}="),
            format!("EPR1.{}.{sig}", URL_SAFE_NO_PAD.encode(b"{\"kid\":1}")),
            "EPR1.".repeat(500),
        ];
        for case in cases {
            match verify(&case, &keys) {
                Err(VerifyError::Format(why)) => assert!(!why.is_empty()),
                other => panic!("{case}: {other:?}"),
            }
        }
        assert!(
            matches!(verify(&token.replacen("EPR1", "EPR2", 1), &keys), Err(VerifyError::Format(w)) if w.contains("version EPR2"))
        );
        let short = format!("{signed}.{}", URL_SAFE_NO_PAD.encode([0u8; 63]));
        assert_eq!(verify(&short, &keys), Err(VerifyError::BadSignature));
    }

    #[test]
    fn finds_the_code_in_what_surrounds_it() {
        let token = sign(&cash(), &key(1)).expect("signs");
        for around in [
            token.clone(),
            format!("  {token}\n"),
            format!("https://eposta.example/receipts/verify?token={token}&x=1"),
            format!("<< /EpostaReceipt ({token}) /Title (x) >>"),
        ] {
            assert_eq!(
                find_token(around.as_bytes()),
                Some(token.clone()),
                "{around}"
            );
        }
        assert_eq!(find_token(b"no code here, nor EPR here, nor EPRx."), None);
        // Copied from the receipt's printed lines.
        let (a, b) = token.split_at(60);
        assert_eq!(
            find_token_in_text(&format!("{a}\n{b}\n")),
            Some(token.clone())
        );
        assert_eq!(
            find_token_in_text(&format!("the code: {token} thanks")),
            Some(token.clone())
        );
        let mut bytes = vec![0xFFu8, 0x00];
        bytes.extend_from_slice(token.as_bytes());
        bytes.push(b')');
        assert_eq!(find_token(&bytes), Some(token));
    }

    #[test]
    fn data_is_checked_before_signing() {
        let bad = ReceiptData {
            amount_para: 0,
            ..cash()
        };
        assert!(matches!(
            sign(&bad, &key(1)),
            Err(ReceiptError::Invalid {
                field: "amount",
                ..
            })
        ));
    }
}
