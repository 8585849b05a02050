//! Pure rules of receiving: what the recipient may still change at each tracking status, the
//! choices themselves (where to deliver, who may collect), one-time codes, and the pickup
//! deadline. No IO.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Europe::Belgrade;
use rand::Rng;

use crate::domain::{FieldError, MAX_TEXT, Rule};
use crate::tracking::domain::Status;

/// Digits of a one-time code.
pub const CODE_DIGITS: usize = 6;
/// How long a code may be used after it was sent.
pub const CODE_VALID: Duration = Duration::minutes(15);
/// Wrong codes a request takes before its code stops working.
pub const MAX_ATTEMPTS: i32 = 5;
/// The window in which code requests are counted.
pub const SEND_WINDOW: Duration = Duration::hours(1);
/// Code requests per tracking number in the window (whoever asks).
pub const SENDS_PER_ITEM: i64 = 3;
/// Code requests per client address in the window (whatever the numbers).
pub const SENDS_PER_CLIENT: i64 = 10;
/// How long a recipient's session lasts after the right code.
pub const SESSION_VALID: Duration = Duration::minutes(30);
/// The most days an item may wait at an office (`EPOSTA_POSTAL_PICKUP_DAYS`).
pub const MAX_PICKUP_DAYS: u32 = 90;

/// Where the recipient wants the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// At the recipient's address on the item.
    Home,
    /// Collected at a post office.
    Pickup,
    /// At another address (a redirect).
    Address,
}

impl Destination {
    pub fn as_str(self) -> &'static str {
        match self {
            Destination::Home => "home",
            Destination::Pickup => "pickup",
            Destination::Address => "address",
        }
    }

    pub fn parse(s: &str) -> Option<Destination> {
        [Destination::Home, Destination::Pickup, Destination::Address]
            .into_iter()
            .find(|d| d.as_str() == s.trim())
    }
}

/// Why the recipient may no longer change something, named after the item's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    OutForDelivery,
    AwaitingPickup,
    DeliveryAttempted,
    Delivered,
    Returning,
    Cancelled,
}

impl Refusal {
    /// The catalogue key of the page's text.
    pub fn key(self) -> &'static str {
        match self {
            Refusal::OutForDelivery => "receive.refused.out_for_delivery",
            Refusal::AwaitingPickup => "receive.refused.available_for_pickup",
            Refusal::DeliveryAttempted => "receive.refused.delivery_failed",
            Refusal::Delivered => "receive.refused.delivered",
            Refusal::Returning => "receive.refused.return_to_sender",
            Refusal::Cancelled => "receive.refused.cancelled",
        }
    }

    /// In English, for the conflict error.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::OutForDelivery => {
                "the item is out for delivery: it can no longer be redirected or sent elsewhere"
            }
            Refusal::AwaitingPickup => {
                "the item is already waiting at the post office: it can no longer be redirected"
            }
            Refusal::DeliveryAttempted => {
                "delivery has been attempted: the item can no longer be redirected"
            }
            Refusal::Delivered => "the item has been delivered: nothing can be changed any more",
            Refusal::Returning => "the item is going back to the sender: nothing can be changed",
            Refusal::Cancelled => "the item was cancelled: nothing can be changed",
        }
    }

    fn of(status: Status) -> Option<Refusal> {
        match status {
            Status::PreTransit | Status::Accepted | Status::InTransit | Status::OnHold => None,
            Status::OutForDelivery => Some(Refusal::OutForDelivery),
            Status::AvailableForPickup => Some(Refusal::AwaitingPickup),
            Status::DeliveryFailed => Some(Refusal::DeliveryAttempted),
            Status::Delivered => Some(Refusal::Delivered),
            Status::ReturnToSender => Some(Refusal::Returning),
            Status::Cancelled => Some(Refusal::Cancelled),
        }
    }
}

/// Whether the delivery (home or pickup) or the address may still change: only before the
/// item is out for delivery (booked, accepted, in transit, on hold).
pub fn may_change_destination(status: Status) -> Result<(), Refusal> {
    Refusal::of(status).map_or(Ok(()), Err)
}

/// Whether another person may still be named to collect the item: until it is delivered,
/// going back, or cancelled (it may wait at the office for them).
pub fn may_name_collector(status: Status) -> Result<(), Refusal> {
    match Refusal::of(status) {
        Some(r @ (Refusal::Delivered | Refusal::Returning | Refusal::Cancelled)) => Err(r),
        _ => Ok(()),
    }
}

/// An identity document the collector shows at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    IdCard,
    Passport,
    DrivingLicence,
}

impl Document {
    pub const ALL: [Document; 3] = [
        Document::IdCard,
        Document::Passport,
        Document::DrivingLicence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Document::IdCard => "id_card",
            Document::Passport => "passport",
            Document::DrivingLicence => "driving_licence",
        }
    }

    pub fn parse(s: &str) -> Option<Document> {
        Document::ALL.into_iter().find(|d| d.as_str() == s.trim())
    }

    pub fn text_key(self) -> &'static str {
        match self {
            Document::IdCard => "receive.document.id_card",
            Document::Passport => "receive.document.passport",
            Document::DrivingLicence => "receive.document.driving_licence",
        }
    }
}

/// Another person who may collect the item, with (optionally) the document they will show:
/// its kind and the last digits of its number, never the whole number.
#[derive(Clone, PartialEq, Eq)]
pub struct Collector {
    pub name: String,
    pub document: Option<(Document, String)>,
}

/// The name and digits stay out of `Debug`, so they cannot reach a log line.
impl fmt::Debug for Collector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Collector")
            .field("document", &self.document.as_ref().map(|(d, _)| *d))
            .finish_non_exhaustive()
    }
}

/// Reads the collector's form: a name (required), and a document kind with the last 2 to 4
/// digits of its number, both or neither. Every broken rule is reported.
pub fn parse_collector(
    name: &str,
    document: &str,
    digits: &str,
) -> Result<Collector, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("collector.name", Rule::Required));
    } else if name.chars().count() > MAX_TEXT {
        errors.push(FieldError::new("collector.name", Rule::TooLong(MAX_TEXT)));
    } else if name.chars().any(char::is_control) {
        errors.push(FieldError::new("collector.name", Rule::Text));
    }
    let digits: String = digits.chars().filter(|c| !c.is_whitespace()).collect();
    let document = match (document.trim(), digits.is_empty()) {
        ("", true) => None,
        ("", false) => {
            errors.push(FieldError::new("collector.document", Rule::Required));
            None
        }
        (kind, _) => {
            let kind = Document::parse(kind);
            if kind.is_none() {
                errors.push(FieldError::new("collector.document", Rule::Document));
            }
            let ok = (2..=4).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                errors.push(FieldError::new(
                    "collector.digits",
                    if digits.is_empty() {
                        Rule::Required
                    } else {
                        Rule::DocumentDigits
                    },
                ));
            }
            kind.filter(|_| ok).map(|k| (k, digits))
        }
    };
    if errors.is_empty() {
        Ok(Collector {
            name: name.to_owned(),
            document,
        })
    } else {
        Err(errors)
    }
}

/// A new one-time code: six digits, uniformly drawn.
pub fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// A typed code, normalised (spaces and dashes dropped); `None` if it cannot be one.
pub fn parse_code(input: &str) -> Option<String> {
    let s: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (s.len() == CODE_DIGITS && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

/// The last day an item that became available at `at` may be collected: the Belgrade date
/// of that moment plus `days`.
pub fn pickup_deadline(at: DateTime<Utc>, days: u32) -> NaiveDate {
    let day = at.with_timezone(&Belgrade).date_naive();
    day.checked_add_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(day)
}

/// `17.03.2026.`, as dates are written in Serbia.
pub fn date_text(d: NaiveDate) -> String {
    d.format("%d.%m.%Y.").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_changes_only_before_out_for_delivery() {
        for s in Status::ALL {
            let allowed = may_change_destination(s).is_ok();
            let expected = matches!(
                s,
                Status::PreTransit | Status::Accepted | Status::InTransit | Status::OnHold
            );
            assert_eq!(allowed, expected, "{s}");
        }
        assert_eq!(
            may_change_destination(Status::Delivered),
            Err(Refusal::Delivered)
        );
        assert_eq!(
            may_change_destination(Status::OutForDelivery),
            Err(Refusal::OutForDelivery)
        );
    }

    #[test]
    fn a_collector_may_be_named_until_delivery() {
        for s in Status::ALL {
            let allowed = may_name_collector(s).is_ok();
            let expected = !matches!(
                s,
                Status::Delivered | Status::ReturnToSender | Status::Cancelled
            );
            assert_eq!(allowed, expected, "{s}");
        }
    }

    #[test]
    fn refusals_have_texts() {
        for s in Status::ALL {
            if let Err(r) = may_change_destination(s) {
                assert!(r.key().starts_with("receive.refused."));
                assert!(!r.message().is_empty());
            }
        }
    }

    #[test]
    fn collectors_need_a_name_and_both_or_neither_document_fields() {
        let ok = parse_collector(" Марко Марковић ", "passport", "12 34").expect("valid");
        assert_eq!(ok.name, "Марко Марковић");
        assert_eq!(ok.document, Some((Document::Passport, "1234".into())));
        assert_eq!(
            parse_collector("Ана", "", "").expect("valid").document,
            None
        );
        let fields = |r: Result<Collector, Vec<FieldError>>| -> Vec<(String, Rule)> {
            r.err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| (e.field, e.rule))
                .collect()
        };
        assert_eq!(
            fields(parse_collector("", "", "")),
            [("collector.name".into(), Rule::Required)]
        );
        assert_eq!(
            fields(parse_collector("Ана", "", "123")),
            [("collector.document".into(), Rule::Required)]
        );
        assert_eq!(
            fields(parse_collector("Ана", "id_card", "")),
            [("collector.digits".into(), Rule::Required)]
        );
        assert_eq!(
            fields(parse_collector("Ана", "id_card", "123456")),
            [("collector.digits".into(), Rule::DocumentDigits)]
        );
        assert_eq!(
            fields(parse_collector("Ана", "library_card", "12")),
            [("collector.document".into(), Rule::Document)]
        );
        assert_eq!(
            fields(parse_collector("А\nна", "id_card", "1a")),
            [
                ("collector.name".into(), Rule::Text),
                ("collector.digits".into(), Rule::DocumentDigits)
            ]
        );
        let long = "а".repeat(MAX_TEXT + 1);
        assert_eq!(
            fields(parse_collector(&long, "", "")),
            [("collector.name".into(), Rule::TooLong(MAX_TEXT))]
        );
    }

    #[test]
    fn debug_hides_the_collector() {
        let c = parse_collector("Марко Марковић", "passport", "1234").expect("valid");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("Марко") && !shown.contains("1234"),
            "{shown}"
        );
    }

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..200 {
            let c = new_code();
            assert_eq!(parse_code(&c).as_deref(), Some(c.as_str()));
        }
        assert_eq!(parse_code(" 123-456 ").as_deref(), Some("123456"));
        for bad in ["", "12345", "1234567", "12345a", "١٢٣٤٥٦"] {
            assert_eq!(parse_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_deadline_counts_belgrade_days() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&Utc)
        };
        // 23:30 UTC on 2 March is already 3 March in Belgrade (UTC+1).
        assert_eq!(
            date_text(pickup_deadline(at("2026-03-02T23:30:00Z"), 15)),
            "18.03.2026."
        );
        assert_eq!(
            date_text(pickup_deadline(at("2026-03-02T10:00:00Z"), 15)),
            "17.03.2026."
        );
        assert_eq!(
            date_text(pickup_deadline(at("2026-03-02T10:00:00Z"), 0)),
            "02.03.2026."
        );
    }

    #[test]
    fn destinations_round_trip() {
        for d in [Destination::Home, Destination::Pickup, Destination::Address] {
            assert_eq!(Destination::parse(d.as_str()), Some(d));
        }
        assert_eq!(Destination::parse("moon"), None);
        for d in Document::ALL {
            assert_eq!(Document::parse(d.as_str()), Some(d));
        }
    }
}
