//! A payment's life as one pure transition function.
//!
//! ```text
//!            start            succeed
//! created ─────────▶ pending ─────────▶ succeeded ──refund──▶ partially_refunded ──refund──▶ refunded
//!    │                 │  │  │                  └───────────── refund (all) ──────────────▶ refunded
//!    │ fail / cancel   │  │  └─ expire ──▶ expired
//!    ▼                 │  └──── cancel ──▶ cancelled
//! failed / cancelled   └─────── fail ────▶ failed
//! ```
//!
//! `failed`, `cancelled`, `expired` and `refunded` are final. Whether a refund is partial or
//! full is decided by amounts ([`refund_event`]), not by the caller's wish.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a payment is in its life. Stored and sent as the snake-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Recorded, nothing asked of anyone yet.
    Created,
    /// Waiting for the money: the card holder is on the acquirer's page, or the IPS transfer
    /// has not been matched on a bank statement yet.
    Pending,
    /// The money is ours; the payee will get it with the next remittance.
    Succeeded,
    /// The acquirer declined the card, or the challenge failed.
    Failed,
    /// Cancelled by the payer or by ePošta before any money moved.
    Cancelled,
    /// Nobody paid before the deadline.
    Expired,
    /// Every para charged has been paid back.
    Refunded,
    /// Part of what was charged has been paid back.
    PartiallyRefunded,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Created,
        State::Pending,
        State::Succeeded,
        State::Failed,
        State::Cancelled,
        State::Expired,
        State::Refunded,
        State::PartiallyRefunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Pending => "pending",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
            State::Expired => "expired",
            State::Refunded => "refunded",
            State::PartiallyRefunded => "partially_refunded",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// No event changes a final state.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            State::Failed | State::Cancelled | State::Expired | State::Refunded
        )
    }

    /// The money was taken (and may since have been paid back in part).
    pub fn is_paid(self) -> bool {
        matches!(self, State::Succeeded | State::PartiallyRefunded)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can happen to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The payment was handed to its method: a card session opened, an IPS code shown, cash
    /// counted at the counter.
    Start,
    /// The money arrived: a verified acquirer notification or status, a matched transfer,
    /// cash in the drawer.
    Succeed,
    /// The acquirer declined or the challenge failed.
    Fail,
    /// The payer or ePošta gave up before paying.
    Cancel,
    /// The deadline passed with nothing paid.
    Expire,
    /// Part of what was charged was paid back, and something is left.
    RefundPart,
    /// What was left was paid back.
    RefundRest,
}

impl Event {
    pub const ALL: [Event; 7] = [
        Event::Start,
        Event::Succeed,
        Event::Fail,
        Event::Cancel,
        Event::Expire,
        Event::RefundPart,
        Event::RefundRest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::Succeed => "succeed",
            Event::Fail => "fail",
            Event::Cancel => "cancel",
            Event::Expire => "expire",
            Event::RefundPart => "refund_part",
            Event::RefundRest => "refund_rest",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event that cannot happen in a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {state} payment cannot {event}")]
pub struct TransitionError {
    pub state: State,
    pub event: Event,
}

/// The one transition function: the state after `event`, or why it cannot happen.
pub fn transition(state: State, event: Event) -> Result<State, TransitionError> {
    use Event as E;
    use State as S;
    let next = match (state, event) {
        (S::Created, E::Start) => S::Pending,
        (S::Created, E::Fail) => S::Failed,
        (S::Created, E::Cancel) => S::Cancelled,
        (S::Pending, E::Succeed) => S::Succeeded,
        (S::Pending, E::Fail) => S::Failed,
        (S::Pending, E::Cancel) => S::Cancelled,
        (S::Pending, E::Expire) => S::Expired,
        (S::Succeeded | S::PartiallyRefunded, E::RefundPart) => S::PartiallyRefunded,
        (S::Succeeded | S::PartiallyRefunded, E::RefundRest) => S::Refunded,
        _ => return Err(TransitionError { state, event }),
    };
    Ok(next)
}

/// Whether `event` has already happened to a payment in `state`: a notification delivered
/// twice, a status query after the notification. Such repeats change nothing and are not
/// errors; every other refused transition is.
pub fn already_happened(state: State, event: Event) -> bool {
    matches!(
        (state, event),
        (State::Pending, Event::Start)
            | (State::Succeeded, Event::Succeed)
            | (State::Failed, Event::Fail)
            | (State::Cancelled, Event::Cancel)
            | (State::Expired, Event::Expire)
    )
}

/// The refund event for paying back `amount` of `charged` when `refunded` has been paid back
/// before: [`Event::RefundRest`] when nothing is left after it, [`Event::RefundPart`]
/// otherwise; `None` when the amount is not positive or more than what is left.
pub fn refund_event(charged: i64, refunded: i64, amount: i64) -> Option<Event> {
    let left = charged.checked_sub(refunded)?;
    if amount <= 0 || amount > left {
        return None;
    }
    Some(if amount == left {
        Event::RefundRest
    } else {
        Event::RefundPart
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (state, event) pair and what it must give; `None` is refused.
    #[test]
    fn every_state_and_event() {
        use State as S;
        #[rustfmt::skip]
        let table: [(S, [Option<S>; 7]); 8] = [
            //                     Start            Succeed            Fail             Cancel              Expire            RefundPart                   RefundRest
            (S::Created,          [Some(S::Pending), None,              Some(S::Failed), Some(S::Cancelled), None,             None,                        None]),
            (S::Pending,          [None,             Some(S::Succeeded), Some(S::Failed), Some(S::Cancelled), Some(S::Expired), None,                        None]),
            (S::Succeeded,        [None,             None,              None,            None,               None,             Some(S::PartiallyRefunded), Some(S::Refunded)]),
            (S::Failed,           [None,             None,              None,            None,               None,             None,                        None]),
            (S::Cancelled,        [None,             None,              None,            None,               None,             None,                        None]),
            (S::Expired,          [None,             None,              None,            None,               None,             None,                        None]),
            (S::Refunded,         [None,             None,              None,            None,               None,             None,                        None]),
            (S::PartiallyRefunded,[None,             None,              None,            None,               None,             Some(S::PartiallyRefunded), Some(S::Refunded)]),
        ];
        assert_eq!(table.len(), State::ALL.len());
        let mut checked = 0;
        for (state, row) in table {
            for (event, expected) in Event::ALL.into_iter().zip(row) {
                let got = transition(state, event);
                match expected {
                    Some(next) => assert_eq!(got, Ok(next), "{state} + {event}"),
                    None => assert_eq!(
                        got,
                        Err(TransitionError { state, event }),
                        "{state} + {event} must be refused"
                    ),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 56);
    }

    #[test]
    fn final_states_take_no_event_and_others_take_some() {
        for state in State::ALL {
            let any = Event::ALL.iter().any(|e| transition(state, *e).is_ok());
            assert_eq!(any, !state.is_final(), "{state}");
        }
    }

    #[test]
    fn repeats_are_recognised_only_for_the_state_they_lead_to() {
        for state in State::ALL {
            for event in Event::ALL {
                if already_happened(state, event) {
                    assert!(transition(state, event).is_err(), "{state} {event}");
                    // The event leads to this very state from the state before it.
                    let before = State::ALL
                        .into_iter()
                        .find(|s| transition(*s, event) == Ok(state));
                    assert!(before.is_some(), "{state} {event}");
                }
            }
        }
        assert!(already_happened(State::Succeeded, Event::Succeed));
        assert!(!already_happened(State::Refunded, Event::Succeed));
        assert!(!already_happened(State::Failed, Event::Succeed));
    }

    #[test]
    fn refunds_are_partial_or_full_by_amount() {
        let cases = [
            // charged, refunded before, amount, event
            (10_000, 0, 10_000, Some(Event::RefundRest)),
            (10_000, 0, 9_999, Some(Event::RefundPart)),
            (10_000, 0, 1, Some(Event::RefundPart)),
            (10_000, 9_999, 1, Some(Event::RefundRest)),
            (10_000, 4_000, 6_000, Some(Event::RefundRest)),
            (10_000, 4_000, 6_001, None),
            (10_000, 0, 10_001, None),
            (10_000, 0, 0, None),
            (10_000, 0, -5, None),
            (10_000, 10_000, 1, None),
        ];
        for (charged, refunded, amount, expected) in cases {
            assert_eq!(
                refund_event(charged, refunded, amount),
                expected,
                "{charged} {refunded} {amount}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
        }
        assert_eq!(State::parse("paid"), None);
    }
}
