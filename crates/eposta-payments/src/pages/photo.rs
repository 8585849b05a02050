//! Filling the payment form from a photo of the bill: the form is posted as
//! `multipart/form-data` with the photo in the field `photo` (the "read the photo" button
//! sets `formaction` and `formenctype`, so the fields typed so far come along); the IPS QR
//! code is found in the picture ([`eposta_formats::qr_decode`]) and fills the form through
//! the same [`fill_from_ips_qr`] as pasted text. Nothing of the photo is kept or logged.

use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::StatusCode;
use axum::response::Response;
use eposta_formats::qr_decode::{self, DecodeError};
use eposta_kernel::App;
use eposta_kernel::web::error::PageError;
use eposta_kernel::web::page::{PageCtx, render, render_status};
use eposta_kernel::web::principal::SessionUser;
use serde_json::{Map, Value};

use super::form::{PaymentForm, fill_from_ips_qr};
use super::new::page;
use crate::domain::{FieldError, Photo, Rule};

/// The largest upload read: a phone's photo, with room to spare. The ordinary form limit
/// (`EPOSTA_BODY_LIMIT`) does not apply to this one route.
pub const MAX_UPLOAD: usize = 12 * 1024 * 1024;

/// What the multipart body held: the form's text fields, and the photo or why there is none.
async fn read(mut multipart: Multipart) -> (PaymentForm, Result<Vec<u8>, Photo>) {
    let mut fields = Map::new();
    let mut photo = Err(Photo::Missing);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                photo = Err(too_large_or_missing(&e));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "photo" {
            photo = match field.bytes().await {
                Ok(b) if b.is_empty() => Err(Photo::Missing),
                Ok(b) => Ok(b.to_vec()),
                Err(e) => {
                    photo = Err(too_large_or_missing(&e));
                    break;
                }
            };
        } else if let Ok(text) = field.text().await {
            fields.insert(name, Value::String(text));
        }
    }
    // Every field of the form is text and optional: unknown ones are ignored.
    let form = serde_json::from_value(Value::Object(fields)).unwrap_or_default();
    (form, photo)
}

fn too_large_or_missing(e: &MultipartError) -> Photo {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Photo::TooLarge
    } else {
        Photo::Missing
    }
}

fn decode_problem(e: &DecodeError) -> Photo {
    match e {
        DecodeError::NotAnImage => Photo::NotAnImage,
        DecodeError::TooLarge { .. } | DecodeError::Damaged { .. } => Photo::Damaged,
        DecodeError::NoQrCode => Photo::NoQrCode,
        DecodeError::Unreadable(_) => Photo::Unreadable,
    }
}

/// Fills `form` from the texts of the QR codes found in a photo: the first that is a valid
/// IPS QR code. When none is, the error says why on the field `photo`: the rule the first
/// code that looks like an IPS code (`K:…`) breaks, or that no code is an IPS code. The form
/// is unchanged then.
pub fn fill_from_codes(form: &mut PaymentForm, texts: &[String]) -> Result<(), FieldError> {
    let mut first_error = None;
    for text in texts.iter().filter(|t| t.trim_start().starts_with("K:")) {
        let mut filled = form.clone();
        match fill_from_ips_qr(&mut filled, text) {
            Ok(()) => {
                *form = filled;
                return Ok(());
            }
            Err(e) => {
                first_error.get_or_insert(e.rule);
            }
        }
    }
    Err(FieldError::new(
        "photo",
        first_error.unwrap_or(Rule::Photo(Photo::NotIps)),
    ))
}

/// `POST /payments/new/photo`: reads the bill's IPS QR code from the photo and shows the
/// form filled from it, or the form as it was with what went wrong.
pub(super) async fn submit(
    State(app): State<App>,
    ctx: PageCtx,
    user: SessionUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let (mut f, photo) = match multipart {
        Ok(m) => read(m).await,
        Err(_) => (PaymentForm::default(), Err(Photo::Missing)),
    };
    if !crate::service::create::is_submission_key(f.submission.trim()) {
        f.submission = crate::service::create::submission_key();
    }
    let filled = match photo {
        Err(p) => Err(FieldError::new("photo", Rule::Photo(p))),
        Ok(bytes) => {
            // Decoding a photo takes a few hundred milliseconds of CPU: off the async workers.
            let decoded = tokio::task::spawn_blocking(move || qr_decode::decode_image(&bytes))
                .await
                .map_err(|e| eposta_kernel::Error::Internal(anyhow::Error::new(e)))?;
            match decoded {
                Ok(texts) => fill_from_codes(&mut f, &texts),
                Err(e) => Err(FieldError::new("photo", Rule::Photo(decode_problem(&e)))),
            }
        }
    };
    match filled {
        Ok(()) => {
            tracing::info!("payment form filled from a photo of a bill");
            let mut page = page(&app, ctx, &user, f, &[], Vec::new()).await?;
            page.notice = Some("pay.new.photo_read");
            render(&page)
        }
        Err(e) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(&app, ctx, &user, f, &[e], Vec::new()).await?,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BILL: &str = "K:PR|V:01|C:1|R:160000000000060216|N:Telekom Srbija A.D.\nTakovska 2\nBeograd|I:RSD999,99|SF:189|S:MTS Račun 01/2020|RO:97082240113797893";

    #[test]
    fn the_first_ips_code_among_those_found_fills_the_form() {
        let mut f = PaymentForm::default();
        let texts = vec!["https://example.rs/not-a-bill".to_owned(), BILL.to_owned()];
        fill_from_codes(&mut f, &texts).expect("filled");
        assert_eq!(f.payee_name, "Telekom Srbija A.D.");
        assert_eq!(f.amount, "999,99");
    }

    #[test]
    fn codes_that_are_not_ips_codes_say_so_on_the_photo() {
        type Expect = fn(&Rule) -> bool;
        let table: [(&[&str], Expect); 3] = [
            (&["https://example.rs"], |r| {
                *r == Rule::Photo(Photo::NotIps)
            }),
            (&[], |r| *r == Rule::Photo(Photo::NotIps)),
            // Looks like an IPS code but breaks a rule: the rule, naming its tag.
            (
                &["K:PR|V:01|C:1|R:845000000014284968|N:EPS|I:RSD1000,00|SF:221"],
                |r| matches!(r, Rule::IpsQr(d) if d.contains("R:")),
            ),
        ];
        for (texts, expected) in table {
            let mut f = PaymentForm {
                payee_name: "kept".into(),
                ..PaymentForm::default()
            };
            let texts: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
            let e = fill_from_codes(&mut f, &texts).expect_err("nothing to fill from");
            assert_eq!(e.field, "photo");
            assert!(expected(&e.rule), "{texts:?}: {:?}", e.rule);
            assert_eq!(f.payee_name, "kept");
        }
    }

    #[test]
    fn decode_errors_become_the_photos_rules() {
        let table = [
            (DecodeError::NotAnImage, Photo::NotAnImage),
            (
                DecodeError::TooLarge {
                    width: 20_000,
                    height: 10,
                },
                Photo::Damaged,
            ),
            (DecodeError::NoQrCode, Photo::NoQrCode),
            (DecodeError::Unreadable("ecc".into()), Photo::Unreadable),
        ];
        for (e, p) in table {
            assert_eq!(decode_problem(&e), p, "{e}");
        }
    }
}
