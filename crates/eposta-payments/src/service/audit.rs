//! Payments in the audit log. Every state change writes a row of the payment's history
//! (`payment_events`) in its own transaction or statement; [`flush`] chains those rows into
//! the kernel's hash-chained audit log in batches, one entry per row, and marks them audited
//! in the same transaction, so each row becomes exactly one entry. The entry's time is the
//! change's; it is appended within seconds ([`super::sweeper::every_interval`]).
//!
//! Why not append each entry with its change, as other capabilities do: the audit chain has
//! one writer at a time (an advisory lock held until commit on PostgreSQL), so appending in
//! the change's transaction would serialise every payment's commit behind the others'. At
//! thousands of payments a second (issue #5), and for the million completions of one bank
//! statement, that lock would set the rate. The history row gives the same guarantee that
//! the change is recorded with it; the chain follows in batches under one lock.

use std::time::Duration as StdDuration;

use eposta_kernel::audit::{self, Actor};
use eposta_kernel::{App, Error};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::store::history::{self, Unaudited};

/// History rows chained per transaction.
pub const BATCH: i64 = 1000;
/// How often a process chains new rows.
pub const INTERVAL: StdDuration = StdDuration::from_secs(2);

/// The audit actor of a history row's `actor` (`user:…`, `key:…`; anything else, an
/// acquirer or the system itself, is the system, named in the entry's details).
fn actor_of(label: &str) -> Actor {
    let id = |s: &str| s.parse::<Uuid>().ok();
    match label.split_once(':') {
        Some(("user", u)) if id(u).is_some() => Actor::User(id(u).unwrap_or_default()),
        Some(("key", k)) if id(k).is_some() => Actor::ApiKey(id(k).unwrap_or_default()),
        _ => Actor::System,
    }
}

/// The entry's details: the row's details (ids, amounts, method; never names or accounts),
/// the event and the states, and who caused it when that was not a user or a key.
fn details(row: &Unaudited) -> Value {
    let mut d: Value = serde_json::from_str(&row.detail).unwrap_or_else(|_| json!({}));
    if !d.is_object() {
        d = json!({});
    }
    d["event"] = json!(row.event);
    d["from"] = json!(row.from_state);
    d["to"] = json!(row.to_state);
    if matches!(actor_of(&row.actor), Actor::System) {
        d["by"] = json!(row.actor);
    }
    d
}

/// Chains every history row not yet in the audit log into it; returns how many. Safe to run
/// in several processes at once: each batch is read under the chain's lock.
pub async fn flush(app: &App) -> Result<usize, Error> {
    let mut total = 0;
    loop {
        let mut tx = app.db.begin().await?;
        audit::lock_chain(&mut tx).await?;
        let rows = history::unaudited(&mut tx, BATCH).await?;
        if rows.is_empty() {
            return Ok(total);
        }
        let actors: Vec<Actor> = rows.iter().map(|r| actor_of(&r.actor)).collect();
        let actions: Vec<String> = rows
            .iter()
            .map(|r| format!("payment.{}", r.to_state))
            .collect();
        let subjects: Vec<String> = rows
            .iter()
            .map(|r| format!("payment:{}", r.payment_id))
            .collect();
        let entries: Vec<_> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    r.at,
                    audit::Entry {
                        actor: &actors[i],
                        action: &actions[i],
                        subject: &subjects[i],
                        office_id: r.owner_office,
                        details: details(r),
                    },
                )
            })
            .collect();
        audit::append_many(&mut tx, &entries).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        history::mark_audited(&mut tx, &ids).await?;
        tx.commit().await?;
        total += rows.len();
        if rows.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_are_read_back_from_history_labels() {
        let u = Uuid::now_v7();
        assert!(matches!(actor_of(&format!("user:{u}")), Actor::User(x) if x == u));
        assert!(matches!(actor_of(&format!("key:{u}")), Actor::ApiKey(x) if x == u));
        for other in ["system", "provider:test", "user:nonsense", ""] {
            assert!(matches!(actor_of(other), Actor::System), "{other}");
        }
    }
}
