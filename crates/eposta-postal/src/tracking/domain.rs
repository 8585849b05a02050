//! Pure tracking rules: the normalised statuses, which sequences look impossible (and get a
//! flag), and how a search box's text becomes ids. Posted events are checked in `input.rs`.

use std::fmt;

use chrono::{DateTime, Utc};
use eposta_formats::s10::S10;
use serde::{Deserialize, Serialize};

/// Most events one request may post.
pub const MAX_BATCH: usize = 1_000;
/// Most items one lookup may ask for.
pub const MAX_IDS: usize = 20;

/// Where an item is, in words every shipping API uses (see postal.md §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Booked, not yet handed in.
    PreTransit,
    Accepted,
    InTransit,
    /// Held, usually by customs.
    OnHold,
    OutForDelivery,
    AvailableForPickup,
    DeliveryFailed,
    Delivered,
    ReturnToSender,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::PreTransit,
        Status::Accepted,
        Status::InTransit,
        Status::OnHold,
        Status::OutForDelivery,
        Status::AvailableForPickup,
        Status::DeliveryFailed,
        Status::Delivered,
        Status::ReturnToSender,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::PreTransit => "pre_transit",
            Status::Accepted => "accepted",
            Status::InTransit => "in_transit",
            Status::OnHold => "on_hold",
            Status::OutForDelivery => "out_for_delivery",
            Status::AvailableForPickup => "available_for_pickup",
            Status::DeliveryFailed => "delivery_failed",
            Status::Delivered => "delivered",
            Status::ReturnToSender => "return_to_sender",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The catalogue key of its text on pages.
    pub fn text_key(self) -> &'static str {
        match self {
            Status::PreTransit => "tracking.status.pre_transit",
            Status::Accepted => "tracking.status.accepted",
            Status::InTransit => "tracking.status.in_transit",
            Status::OnHold => "tracking.status.on_hold",
            Status::OutForDelivery => "tracking.status.out_for_delivery",
            Status::AvailableForPickup => "tracking.status.available_for_pickup",
            Status::DeliveryFailed => "tracking.status.delivery_failed",
            Status::Delivered => "tracking.status.delivered",
            Status::ReturnToSender => "tracking.status.return_to_sender",
            Status::Cancelled => "tracking.status.cancelled",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an event does not fit its item's history. Such an event is stored all the same (the
/// scan happened; losing it would hide the problem) and shown to staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Happened after the item had been delivered.
    AfterDelivery,
    /// Happened before the item was accepted (for example, delivered before accepted).
    BeforeAcceptance,
    /// An acceptance later than other events of the item.
    AcceptedAfterEvents,
    /// A second delivery, earlier than one already recorded.
    RepeatedDelivery,
}

impl Flag {
    pub const ALL: [Flag; 4] = [
        Flag::AfterDelivery,
        Flag::BeforeAcceptance,
        Flag::AcceptedAfterEvents,
        Flag::RepeatedDelivery,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::AfterDelivery => "after_delivery",
            Flag::BeforeAcceptance => "before_acceptance",
            Flag::AcceptedAfterEvents => "accepted_after_events",
            Flag::RepeatedDelivery => "repeated_delivery",
        }
    }

    pub fn parse(s: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn text_key(self) -> &'static str {
        match self {
            Flag::AfterDelivery => "tracking.flag.after_delivery",
            Flag::BeforeAcceptance => "tracking.flag.before_acceptance",
            Flag::AcceptedAfterEvents => "tracking.flag.accepted_after_events",
            Flag::RepeatedDelivery => "tracking.flag.repeated_delivery",
        }
    }
}

/// What the flag rules need to know of an item's stored events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    /// The latest acceptance.
    pub last_acceptance: Option<DateTime<Utc>>,
    /// The earliest delivery.
    pub first_delivery: Option<DateTime<Utc>>,
    /// The earliest event that is not an acceptance.
    pub first_other: Option<DateTime<Utc>>,
}

impl History {
    /// The flag an event with `status` at `at` would get, given the events so far.
    pub fn flag(&self, status: Status, at: DateTime<Utc>) -> Option<Flag> {
        if self.first_delivery.is_some_and(|d| d < at) {
            return Some(Flag::AfterDelivery);
        }
        if status == Status::Delivered && self.first_delivery.is_some() {
            return Some(Flag::RepeatedDelivery);
        }
        if status != Status::Accepted && self.last_acceptance.is_some_and(|a| a > at) {
            return Some(Flag::BeforeAcceptance);
        }
        if status == Status::Accepted && self.first_other.is_some_and(|o| o < at) {
            return Some(Flag::AcceptedAfterEvents);
        }
        None
    }

    /// Adds an event to what is known.
    pub fn record(&mut self, status: Status, at: DateTime<Utc>) {
        fn min(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
            Some(a.map_or(b, |a| a.min(b)))
        }
        if status == Status::Accepted {
            self.last_acceptance = Some(self.last_acceptance.map_or(at, |a| a.max(at)));
        } else {
            self.first_other = min(self.first_other, at);
        }
        if status == Status::Delivered {
            self.first_delivery = min(self.first_delivery, at);
        }
    }
}

/// A rule a posted event broke: the field at fault and why, for the per-row report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub field: &'static str,
    pub message: String,
}

impl RowError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// The ids in a search box or a path: separated by commas or white space, empty ones
/// dropped. An S10 identifier may be typed grouped (`RA 123 456 785 RS`): runs of pieces
/// that only make sense together are joined back before splitting on spaces.
pub fn split_ids(input: &str) -> Result<Vec<String>, RowError> {
    let mut out = Vec::new();
    for part in input.split(',') {
        let words: Vec<&str> = part.split_whitespace().collect();
        let mut i = 0;
        while i < words.len() {
            // A grouped identifier: letters+digits pieces that add up to 13 characters.
            let mut joined = String::new();
            let mut end = i;
            while end < words.len() && joined.len() < 13 {
                joined.push_str(words[end]);
                end += 1;
            }
            if end - i > 1 && joined.len() == 13 && S10::parse(&joined).is_ok() {
                out.push(joined);
                i = end;
            } else {
                out.push(words[i].to_owned());
                i += 1;
            }
        }
    }
    if out.len() > MAX_IDS {
        return Err(RowError::new(
            "ids",
            format!("at most {MAX_IDS} tracking numbers at once"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn impossible_sequences_are_flagged() {
        let t = |h: u32| at(&format!("2026-03-02T{h:02}:00:00Z"));
        let mut h = History::default();
        assert_eq!(h.flag(Status::Accepted, t(9)), None);
        h.record(Status::Accepted, t(9));
        assert_eq!(
            h.flag(Status::Delivered, t(8)),
            Some(Flag::BeforeAcceptance)
        );
        assert_eq!(h.flag(Status::InTransit, t(10)), None);
        h.record(Status::InTransit, t(10));
        assert_eq!(
            h.flag(Status::Accepted, t(11)),
            Some(Flag::AcceptedAfterEvents)
        );
        h.record(Status::Delivered, t(12));
        assert_eq!(h.flag(Status::InTransit, t(13)), Some(Flag::AfterDelivery));
        assert_eq!(
            h.flag(Status::Delivered, t(11)),
            Some(Flag::RepeatedDelivery)
        );
        // Out of order but possible: an earlier transit event arriving late.
        assert_eq!(h.flag(Status::InTransit, t(9)), None);
        // Delivered, then accepted later: the acceptance comes after the delivery.
        let mut h = History::default();
        h.record(Status::Delivered, t(10));
        assert_eq!(h.flag(Status::Accepted, t(11)), Some(Flag::AfterDelivery));
    }

    #[test]
    fn ids_split_on_commas_and_spaces_and_keep_grouped_ones_whole() {
        assert_eq!(
            split_ids("RA123456785RS, EE876543216CA  xx").expect("ids"),
            ["RA123456785RS", "EE876543216CA", "xx"]
        );
        assert_eq!(
            split_ids("RA 123 456 785 RS EE 876 543 216 CA").expect("ids"),
            ["RA123456785RS", "EE876543216CA"]
        );
        assert_eq!(split_ids(" , ").expect("ids"), Vec::<String>::new());
        let many = vec!["RA123456785RS"; 21].join(",");
        assert_eq!(split_ids(&many).map_err(|e| e.field), Err("ids"));
    }

    #[test]
    fn statuses_and_flags_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).expect("json"),
                serde_json::json!(s.as_str())
            );
        }
        for f in Flag::ALL {
            assert_eq!(Flag::parse(f.as_str()), Some(f));
        }
    }
}
