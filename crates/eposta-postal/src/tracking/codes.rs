//! The UPU event codes, non-delivery reasons and actions: data in `upu-events.toml`, embedded
//! in the binary and read once at start-up.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::domain::Status;

/// The shipped table.
pub const SHIPPED: &str = include_str!("../../upu-events.toml");

/// Every event code the research lists (postal.md §2); the shipped table must have each.
pub const REQUIRED_EVENTS: [&str; 24] = [
    "EMA", "EMB", "EMC", "EMD", "EME", "EMF", "EMG", "EMH", "EMI", "EMJ", "EMK", "EDA", "EDB",
    "EDC", "EDD", "EDE", "EDF", "EDG", "EDH", "EXA", "EXB", "EXC", "EXD", "EXX",
];

/// Where on its way an item is when the event happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Leg {
    Origin,
    Transit,
    Destination,
}

/// One UPU event code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventCode {
    pub code: String,
    /// The status the event means (for EMH: unless the action says otherwise).
    pub status: Status,
    pub leg: Leg,
    pub en: String,
    /// In Cyrillic; Latin pages transliterate it.
    pub sr: String,
    /// False where the research could not confirm the meaning.
    pub verified: bool,
    /// EMH: the event must carry a non-delivery reason and the action taken.
    #[serde(default)]
    pub needs_reason_and_action: bool,
}

/// Who defined a reason or action code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeSource {
    Upu,
    /// ePošta's own, where the UPU list is not public.
    Eposta,
}

/// A non-delivery reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub code: String,
    pub source: CodeSource,
    pub en: String,
    pub sr: String,
}

/// What an action does to the item, which decides the status of a failed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// The item waits at an office or pick-up point: available for pickup.
    Hold,
    /// The item goes back: return to sender.
    Return,
    /// Anything else: the delivery failed.
    Other,
}

/// An action taken after a failed delivery.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub code: String,
    pub source: CodeSource,
    pub kind: ActionKind,
    pub en: String,
    pub sr: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    event: Vec<EventCode>,
    reason: Vec<Reason>,
    action: Vec<Action>,
}

/// The three tables, looked up by code.
#[derive(Debug, Clone)]
pub struct EventCodes {
    events: Vec<EventCode>,
    reasons: Vec<Reason>,
    actions: Vec<Action>,
    event_index: HashMap<String, usize>,
    reason_index: HashMap<String, usize>,
    action_index: HashMap<String, usize>,
}

impl EventCodes {
    /// Reads a table, checking that codes are well formed and unique and that every event
    /// the research lists is there.
    pub fn parse(text: &str) -> Result<EventCodes, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut event_index = HashMap::new();
        for (i, e) in file.events_checked()?.iter().enumerate() {
            if event_index.insert(e.code.clone(), i).is_some() {
                return Err(format!("event {} appears twice", e.code));
            }
        }
        for code in REQUIRED_EVENTS {
            if !event_index.contains_key(code) {
                return Err(format!("event {code} is missing"));
            }
        }
        let reason_index = index(file.reason.iter().map(|r| &r.code), "reason")?;
        let action_index = index(file.action.iter().map(|a| &a.code), "action")?;
        Ok(EventCodes {
            events: file.event,
            reasons: file.reason,
            actions: file.action,
            event_index,
            reason_index,
            action_index,
        })
    }

    pub fn event(&self, code: &str) -> Option<&EventCode> {
        self.event_index.get(code).map(|&i| &self.events[i])
    }

    pub fn reason(&self, code: &str) -> Option<&Reason> {
        self.reason_index.get(code).map(|&i| &self.reasons[i])
    }

    pub fn action(&self, code: &str) -> Option<&Action> {
        self.action_index.get(code).map(|&i| &self.actions[i])
    }

    pub fn events(&self) -> &[EventCode] {
        &self.events
    }

    pub fn reasons(&self) -> &[Reason] {
        &self.reasons
    }

    pub fn actions(&self) -> &[Action] {
        &self.actions
    }
}

impl File {
    fn events_checked(&self) -> Result<&[EventCode], String> {
        for e in &self.event {
            if e.code.len() != 3 || !e.code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(format!(
                    "event code {:?} is not three capital letters",
                    e.code
                ));
            }
            if e.en.trim().is_empty() || e.sr.trim().is_empty() {
                return Err(format!("event {} needs its meaning in en and sr", e.code));
            }
            if e.status == Status::PreTransit {
                return Err(format!(
                    "event {}: pre_transit means no event yet, so no event maps to it",
                    e.code
                ));
            }
        }
        Ok(&self.event)
    }
}

fn index<'a>(
    codes: impl Iterator<Item = &'a String>,
    what: &str,
) -> Result<HashMap<String, usize>, String> {
    let mut out = HashMap::new();
    for (i, code) in codes.enumerate() {
        if code.is_empty() || code.len() > 8 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "{what} code {code:?} must be 1 to 8 letters or digits"
            ));
        }
        if code.bytes().any(|b| b.is_ascii_lowercase()) {
            return Err(format!("{what} code {code:?} must be in capitals"));
        }
        if out.insert(code.clone(), i).is_some() {
            return Err(format!("{what} {code} appears twice"));
        }
    }
    Ok(out)
}

/// The shipped table is part of the program, like its code: a broken one is a defect caught
/// by `cargo test` (below) and, should one ever ship, stops the process at start-up
/// (`eposta_postal::routes()` forces this) rather than failing requests one by one.
static TABLE: LazyLock<EventCodes> = LazyLock::new(|| {
    EventCodes::parse(SHIPPED)
        .unwrap_or_else(|e| panic!("crates/eposta-postal/upu-events.toml is broken: {e}"))
});

/// The shipped table.
pub fn table() -> &'static EventCodes {
    &TABLE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_loads_and_maps_every_code() {
        let t = EventCodes::parse(SHIPPED).expect("the shipped table must load");
        for code in REQUIRED_EVENTS {
            let e = t.event(code).expect("listed");
            assert!(!e.en.is_empty() && !e.sr.is_empty(), "{code}");
        }
        let status = |c: &str| t.event(c).expect("listed").status;
        assert_eq!(status("EMA"), Status::Accepted);
        assert_eq!(status("EMI"), Status::Delivered);
        assert_eq!(status("EDG"), Status::OutForDelivery);
        assert_eq!(status("EDH"), Status::AvailableForPickup);
        assert_eq!(status("EME"), Status::OnHold);
        assert_eq!(status("EXX"), Status::Cancelled);
        assert_eq!(status("EMH"), Status::DeliveryFailed);
        assert!(t.event("EMH").expect("listed").needs_reason_and_action);
        assert!(!t.event("EDG").expect("listed").verified);
        assert_eq!(t.action("A").expect("listed").kind, ActionKind::Hold);
        assert_eq!(t.action("C").expect("listed").kind, ActionKind::Return);
        assert!(t.reasons().iter().all(|r| r.source == CodeSource::Eposta));
        assert!(t.actions().iter().any(|a| a.kind == ActionKind::Other));
        // The start-up path reads the same text.
        assert_eq!(table().events().len(), t.events().len());
    }

    #[test]
    fn a_broken_table_is_an_error_that_says_where() {
        let shipped = SHIPPED;
        for (broken, says) in [
            (
                shipped.replacen("status = \"accepted\"", "status = \"posted\"", 1),
                "posted",
            ),
            (
                shipped.replacen("code = \"EMI\"", "code = \"EMA\"", 1),
                "EMA appears twice",
            ),
            (
                shipped.replacen("code = \"EXX\"", "code = \"EXY\"", 1),
                "EXX is missing",
            ),
            (
                shipped.replacen("code = \"EMB\"", "code = \"emb\"", 1),
                "three capital",
            ),
            (
                shipped.replacen("kind = \"hold\"", "kind = \"keep\"", 1),
                "keep",
            ),
            (
                shipped.replacen("verified = true", "verifed = true", 1),
                "verifed",
            ),
            ("[[event]]\ncode = ".to_owned(), ""),
        ] {
            let e = EventCodes::parse(&broken).expect_err("broken");
            assert!(e.contains(says), "{e}");
        }
    }
}
