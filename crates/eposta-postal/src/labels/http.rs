//! Labels as an HTTP response, for the booking pages and the API to return (no routes here).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use eposta_kernel::error::Error as KernelError;

use super::{Error, LabelData, labels_pdf};

/// The PDF of `labels` ready to send: `application/pdf`, shown in the browser (to print)
/// under the name `RA123456785RS.pdf` for one label or `labels-RA123456785RS-1000.pdf` for a
/// batch, and never cached, since it carries names, addresses and phone numbers.
pub fn pdf_response(labels: &[LabelData]) -> Result<Response, KernelError> {
    let pdf = labels_pdf(labels)?;
    let name = match labels {
        [one] => format!("{}.pdf", one.tracking_number),
        [first, ..] => format!("labels-{}-{}.pdf", first.tracking_number, labels.len()),
        [] => "labels.pdf".to_owned(),
    };
    // The name holds only S10 letters and digits, so it is always a valid header value.
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("inline"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        pdf,
    )
        .into_response())
}

impl From<Error> for KernelError {
    fn from(e: Error) -> Self {
        match e {
            Error::NoLabels => KernelError::invalid("items", "choose at least one item"),
            Error::TooManyLabels(n) => KernelError::invalid(
                "items",
                format!(
                    "{n} items; one document holds at most {}",
                    super::MAX_LABELS
                ),
            ),
            Error::BookingCodeTooLong(_) => KernelError::invalid("booking_code", e.to_string()),
            Error::Barcode(_) | Error::Pdf(_) => {
                KernelError::Internal(anyhow::Error::new(e).context("rendering labels"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Address;
    use chrono::NaiveDate;
    use eposta_formats::s10::S10;

    fn label(id: &str) -> LabelData {
        let address = Address {
            name: "Petar Petrović".into(),
            street: "Takovska".into(),
            number: "2".into(),
            postal_code: "11000".into(),
            place: "Beograd".into(),
            phone: None,
        };
        LabelData {
            tracking_number: S10::parse(id).expect("valid").id,
            booking_code: "BK-1".into(),
            product: "Paket".into(),
            weight_g: 500,
            options: vec![],
            sender: address.clone(),
            recipient: address,
            date: NaiveDate::from_ymd_opt(2026, 3, 15).expect("date"),
        }
    }

    #[test]
    fn one_label_is_named_after_its_identifier_and_not_cached() {
        let r = pdf_response(&[label("RA123456785RS")]).expect("renders");
        let h = r.headers();
        assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(
            h[header::CONTENT_DISPOSITION],
            "inline; filename=\"RA123456785RS.pdf\""
        );
        assert_eq!(h[header::CACHE_CONTROL], "private, no-store");
    }

    #[test]
    fn a_batch_is_named_after_its_first_item_and_count() {
        let r = pdf_response(&[label("RA123456785RS"), label("RR000000014RS")]).expect("renders");
        assert_eq!(
            r.headers()[header::CONTENT_DISPOSITION],
            "inline; filename=\"labels-RA123456785RS-2.pdf\""
        );
    }

    #[test]
    fn bad_input_becomes_an_invalid_field() {
        let e = pdf_response(&[]).expect_err("no labels");
        assert!(
            matches!(e, KernelError::Invalid { ref field, .. } if field == "items"),
            "{e:?}"
        );
        let mut long = label("RA123456785RS");
        long.booking_code = "X".repeat(65);
        let e = pdf_response(&[long]).expect_err("too long");
        assert!(matches!(e, KernelError::Invalid { ref field, .. } if field == "booking_code"));
    }
}
