//! Pure tracking rules: the normalised statuses, what makes a posted event valid, which
//! sequences look impossible (and get a flag), and how a search box's text becomes ids.

use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};
use eposta_formats::s10::{S10, S10Error};
use serde::{Deserialize, Serialize};

use super::codes::{ActionKind, EventCode, EventCodes};

/// Most events one request may post.
pub const MAX_BATCH: usize = 1_000;
/// Most items one lookup may ask for.
pub const MAX_IDS: usize = 20;
/// How far in the future an event time may be: scanners' clocks drift a little.
pub const MAX_FUTURE: chrono::Duration = chrono::Duration::minutes(5);
/// Longest location code (the same bound as an office code).
pub const MAX_LOCATION: usize = 16;

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

/// One posted event as it came: untrusted text. Read by [`RawEvent::from_json`], which names
/// the field at fault; the derive only describes it in the API document.
#[derive(Debug, Clone, Default, PartialEq, Eq, utoipa::ToSchema)]
pub struct RawEvent {
    /// The S10 identifier (spaces allowed, any case).
    #[schema(example = "RA123456785RS")]
    pub tracking_number: String,
    /// A UPU event code (`EMA`, `EMH`, `EMI`, …).
    #[schema(example = "EMA")]
    pub code: String,
    /// An office code or a registered facility code.
    #[schema(example = "11101")]
    pub location: String,
    /// RFC 3339, with an offset (`2026-03-02T10:15:00+01:00`).
    #[schema(example = "2026-03-02T10:15:00+01:00")]
    pub event_time: String,
    /// The non-delivery reason; required with EMH.
    pub reason_code: Option<String>,
    /// The action taken; required with EMH.
    pub action_code: Option<String>,
}

const FIELDS: [&str; 6] = [
    "tracking_number",
    "code",
    "location",
    "event_time",
    "reason_code",
    "action_code",
];

impl RawEvent {
    /// Reads one element of a posted array, naming the field when it has the wrong shape, so
    /// that one bad row does not fail the batch.
    pub fn from_json(v: &serde_json::Value) -> Result<RawEvent, RowError> {
        let Some(obj) = v.as_object() else {
            return Err(RowError::new("event", "must be an object"));
        };
        if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(RowError::new("event", format!("unknown field {k}")));
        }
        let text = |field: &'static str| -> Result<Option<String>, RowError> {
            match obj.get(field) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(RowError::new(field, "must be a string")),
            }
        };
        let required = |field: &'static str| -> Result<String, RowError> {
            text(field)?.ok_or_else(|| RowError::new(field, "is required"))
        };
        Ok(RawEvent {
            tracking_number: required("tracking_number")?,
            code: required("code")?,
            location: required("location")?,
            event_time: required("event_time")?,
            reason_code: text("reason_code")?,
            action_code: text("action_code")?,
        })
    }
}

/// A posted event that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidEvent {
    pub tracking_number: S10,
    pub code: &'static str,
    pub status: Status,
    /// Upper-cased; whether it exists is for the service to check.
    pub location: String,
    /// UTC, truncated to microseconds (what both databases keep), so that the same event
    /// sent twice compares equal.
    pub event_time: DateTime<Utc>,
    pub reason_code: Option<&'static str>,
    pub action_code: Option<&'static str>,
}

/// A location code: 1 to 16 letters or digits, upper-cased (office codes follow the same
/// rule, so `bg1` and `BG1` are one place).
pub fn location_code(input: &str) -> Result<String, RowError> {
    let s = input.trim();
    if s.is_empty() || s.len() > MAX_LOCATION || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(RowError::new(
            "location",
            "must be an office or facility code: 1 to 16 letters or digits",
        ));
    }
    Ok(s.to_ascii_uppercase())
}

/// An S10 identifier typed or scanned, normalised.
pub fn tracking_number(input: &str) -> Result<S10, S10Error> {
    S10::parse(input).map(|c| c.id)
}

fn optional(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks a posted event against the code tables and the clock.
pub fn check_event(
    codes: &'static EventCodes,
    raw: &RawEvent,
    now: DateTime<Utc>,
) -> Result<ValidEvent, RowError> {
    let tracking_number = tracking_number(&raw.tracking_number)
        .map_err(|e| RowError::new("tracking_number", e.to_string()))?;
    let code_text = raw.code.trim().to_ascii_uppercase();
    let event: &'static EventCode = codes
        .event(&code_text)
        .ok_or_else(|| RowError::new("code", format!("unknown UPU event code {code_text:?}")))?;
    let location = location_code(&raw.location)?;
    let event_time = DateTime::parse_from_rfc3339(raw.event_time.trim())
        .map_err(|_| {
            RowError::new(
                "event_time",
                "must be an RFC 3339 time with an offset, such as 2026-03-02T10:15:00+01:00",
            )
        })?
        .with_timezone(&Utc)
        .trunc_subsecs(6);
    if event_time > now + MAX_FUTURE {
        return Err(RowError::new(
            "event_time",
            "is in the future (more than 5 minutes ahead of the server's clock)",
        ));
    }
    let reason =
        match optional(&raw.reason_code) {
            None => None,
            Some(r) => Some(codes.reason(r).ok_or_else(|| {
                RowError::new("reason_code", format!("unknown reason code {r:?}"))
            })?),
        };
    let action =
        match optional(&raw.action_code) {
            None => None,
            Some(a) => Some(codes.action(&a.to_ascii_uppercase()).ok_or_else(|| {
                RowError::new("action_code", format!("unknown action code {a:?}"))
            })?),
        };
    let status = if event.needs_reason_and_action {
        if reason.is_none() {
            return Err(RowError::new(
                "reason_code",
                format!("{} needs the non-delivery reason", event.code),
            ));
        }
        let Some(action) = action else {
            return Err(RowError::new(
                "action_code",
                format!("{} needs the action taken", event.code),
            ));
        };
        match action.kind {
            ActionKind::Hold => Status::AvailableForPickup,
            ActionKind::Return => Status::ReturnToSender,
            ActionKind::Other => event.status,
        }
    } else {
        if let Some(a) = action {
            return Err(RowError::new(
                "action_code",
                format!(
                    "only an event that reports a failed delivery carries an action, not {} ({})",
                    event.code, a.code
                ),
            ));
        }
        event.status
    };
    Ok(ValidEvent {
        tracking_number,
        code: event.code.as_str(),
        status,
        location,
        event_time,
        reason_code: reason.map(|r| r.code.as_str()),
        action_code: action.map(|a| a.code.as_str()),
    })
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
    use crate::tracking::codes;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn raw(code: &str) -> RawEvent {
        RawEvent {
            tracking_number: "ra 123 456 785 rs".into(),
            code: code.into(),
            location: "11101".into(),
            event_time: "2026-03-02T10:00:00+01:00".into(),
            reason_code: None,
            action_code: None,
        }
    }

    #[test]
    fn a_good_event_is_normalised() {
        let e =
            check_event(codes::table(), &raw("ema"), at("2026-03-02T09:00:00Z")).expect("valid");
        assert_eq!(e.tracking_number.as_str(), "RA123456785RS");
        assert_eq!(e.code, "EMA");
        assert_eq!(e.status, Status::Accepted);
        assert_eq!(e.event_time, at("2026-03-02T09:00:00Z"));
    }

    #[test]
    fn emh_takes_its_status_from_the_action() {
        let now = at("2026-03-03T00:00:00Z");
        let mut r = raw("EMH");
        assert_eq!(
            check_event(codes::table(), &r, now).map_err(|e| e.field),
            Err("reason_code")
        );
        r.reason_code = Some("01".into());
        assert_eq!(
            check_event(codes::table(), &r, now).map_err(|e| e.field),
            Err("action_code")
        );
        for (action, status) in [
            ("A", Status::AvailableForPickup),
            ("C", Status::ReturnToSender),
            ("b", Status::DeliveryFailed),
        ] {
            r.action_code = Some(action.into());
            assert_eq!(
                check_event(codes::table(), &r, now).expect("valid").status,
                status,
                "{action}"
            );
        }
        r.action_code = Some("Q".into());
        assert_eq!(
            check_event(codes::table(), &r, now).map_err(|e| e.field),
            Err("action_code")
        );
    }

    /// Breaks one field of a good event.
    type Breaker = fn(&mut RawEvent);

    #[test]
    fn bad_rows_name_their_field() {
        let now = at("2026-03-02T09:00:00Z");
        let cases: [(Breaker, &str); 6] = [
            (
                |r| r.tracking_number = "RA123456784RS".into(),
                "tracking_number",
            ),
            (|r| r.code = "XYZ".into(), "code"),
            (|r| r.location = "11 101".into(), "location"),
            (|r| r.event_time = "2026-03-02 10:00".into(), "event_time"),
            (
                |r| r.event_time = "2026-03-02T09:06:00Z".into(),
                "event_time",
            ),
            (|r| r.action_code = Some("A".into()), "action_code"),
        ];
        for (break_it, field) in cases {
            let mut r = raw("EMA");
            break_it(&mut r);
            assert_eq!(
                check_event(codes::table(), &r, now).map_err(|e| e.field),
                Err(field)
            );
        }
        // A few minutes of clock drift are fine.
        let mut r = raw("EMA");
        r.event_time = "2026-03-02T09:04:00Z".into();
        assert!(check_event(codes::table(), &r, now).is_ok());
    }

    #[test]
    fn json_rows_are_read_field_by_field() {
        let ok = serde_json::json!({"tracking_number": "RA123456785RS", "code": "EMA",
            "location": "11101", "event_time": "2026-03-02T10:00:00Z", "reason_code": null});
        assert!(RawEvent::from_json(&ok).is_ok());
        for (v, field) in [
            (serde_json::json!([1]), "event"),
            (serde_json::json!({"code": "EMA"}), "tracking_number"),
            (
                serde_json::json!({"tracking_number": 5, "code": "EMA", "location": "1",
                "event_time": "x"}),
                "tracking_number",
            ),
            (
                serde_json::json!({"tracking_number": "x", "code": "EMA", "location": "1",
                "event_time": "x", "colour": "red"}),
                "event",
            ),
        ] {
            assert_eq!(RawEvent::from_json(&v).map_err(|e| e.field), Err(field));
        }
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
