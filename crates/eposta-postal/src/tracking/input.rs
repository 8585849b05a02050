//! Pure checks of a posted event: its shape as JSON, its tracking number, code, location and
//! time, and EMH's reason and action, which decide its status.

use chrono::{DateTime, SubsecRound, Utc};
use eposta_formats::s10::{S10, S10Error};

use super::codes::{ActionKind, EventCode, EventCodes};
use super::domain::{RowError, Status};

/// How far in the future an event time may be: scanners' clocks drift a little.
pub const MAX_FUTURE: chrono::Duration = chrono::Duration::minutes(5);
/// Longest location code (the same bound as an office code).
pub const MAX_LOCATION: usize = 16;

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
}
