//! SQL for payments' history (`payment_events`): appending rows, creating a payment with its
//! first rows, reading a history, and the rows not yet chained into the audit log.

use chrono::{DateTime, Utc};
use eposta_kernel::db::{Backend, Either, Exec};
use eposta_kernel::web::idempotency::Claimed;
use eposta_kernel::web::idempotency::store as idempotency_store;
use eposta_kernel::{Error, db_run};
use uuid::Uuid;

use super::{COLUMNS, PaymentRow};
use crate::domain::State;
use crate::model::HistoryEntry;

/// A row of a payment's history to append.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub payment_id: Uuid,
    pub event: &'a str,
    pub from_state: Option<State>,
    pub to_state: State,
    pub actor: &'a str,
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// Appends history rows, in one statement.
pub async fn append_events(c: &mut impl Exec, events: &[NewEvent<'_>]) -> Result<(), Error> {
    if events.is_empty() {
        return Ok(());
    }
    let values = (0..events.len())
        .map(|i| {
            let b = i * 7;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO payment_events (payment_id, event, from_state, to_state, actor, detail, at) \
         VALUES {values}"
    );
    db_run!(c, |c| {
        let mut q = sqlx::query(&sql);
        for e in events {
            q = q
                .bind(e.payment_id)
                .bind(e.event)
                .bind(e.from_state.map(State::as_str))
                .bind(e.to_state.as_str())
                .bind(e.actor)
                .bind(&e.detail)
                .bind(e.at);
        }
        q.execute(&mut *c).await.map(|_| ())
    })?;
    Ok(())
}

/// A payment's history, oldest first.
pub async fn history(c: &mut impl Exec, payment: Uuid) -> Result<Vec<HistoryEntry>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, HistoryEntry>(
        "SELECT event, from_state, to_state, actor, detail, at FROM payment_events \
         WHERE payment_id = $1 ORDER BY id"
    )
    .bind(payment)
    .fetch_all(&mut *c)
    .await)?)
}

/// Inserts a payment and its first history rows, unless one of the payment's unique values
/// is taken (then nothing is written and the answer is false, as [`super::insert`]).
///
/// On PostgreSQL this is one statement (the payment's insert as a data-modifying `WITH`
/// feeding the history's), atomic in autocommit mode: the API's hot path saves the round
/// trips of `BEGIN`, a second statement and `COMMIT` (docs/benchmarks.md, "Payments").
/// SQLite has no data-modifying `WITH`, and no network round trips to save: there it is two
/// statements, and the caller passes a transaction.
pub async fn insert_with_history(
    c: &mut impl Exec,
    r: &PaymentRow,
    events: &[NewEvent<'_>],
    answer: Option<&StoredAnswer<'_>>,
) -> Result<bool, Error> {
    if c.backend() == Backend::Sqlite {
        if !super::insert(c, r).await? {
            return Ok(false);
        }
        append_events(c, events).await?;
        if let Some(a) = answer {
            idempotency_store::complete(
                c,
                &a.claim.scope,
                &a.claim.key,
                a.claim.claimed_at,
                a.status,
                a.body,
                Some(JSON),
            )
            .await?;
        }
        return Ok(true);
    }
    let marks = (1..=33)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let values = (0..events.len())
        .map(|i| {
            let b = 33 + i * 7;
            format!(
                "(${}::int, ${}::text, ${}::text, ${}::text, ${}::text, ${}::text, ${}::timestamptz)",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    // The stored answer, only if the payment was inserted (`EXISTS (SELECT 1 FROM p)`), for
    // the claim that is still waiting for it (see the kernel's `store::complete`).
    let b = 33 + events.len() * 7;
    let k = if answer.is_some() {
        format!(
            ", k AS (UPDATE idempotency_keys SET status = ${}, body = ${}, content_type = ${} \
             WHERE scope = ${} AND key = ${} AND created_at = ${} AND status IS NULL \
             AND EXISTS (SELECT 1 FROM p))",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6
        )
    } else {
        String::new()
    };
    let sql = format!(
        "WITH p AS (INSERT INTO payments ({COLUMNS}) VALUES ({marks}) \
         ON CONFLICT DO NOTHING RETURNING id){k} \
         INSERT INTO payment_events (payment_id, event, from_state, to_state, actor, detail, at) \
         SELECT p.id, e.event, e.from_state, e.to_state, e.actor, e.detail, e.at \
         FROM p, (VALUES {values}) AS e (ord, event, from_state, to_state, actor, detail, at) \
         ORDER BY e.ord RETURNING payment_id"
    );
    let ids: Vec<Uuid> = db_run!(c, |c| {
        let mut q = super::bind_row!(sqlx::query_scalar::<_, Uuid>(&sql), r);
        for (i, e) in events.iter().enumerate() {
            q = q
                .bind(i32::try_from(i).unwrap_or(i32::MAX))
                .bind(e.event)
                .bind(e.from_state.map(State::as_str))
                .bind(e.to_state.as_str())
                .bind(e.actor)
                .bind(e.detail.as_str())
                .bind(e.at);
        }
        if let Some(a) = answer {
            q = q
                .bind(a.status)
                .bind(a.body)
                .bind(JSON)
                .bind(&a.claim.scope)
                .bind(&a.claim.key)
                .bind(a.claim.claimed_at);
        }
        q.fetch_all(&mut *c).await
    })?;
    Ok(!ids.is_empty())
}

/// The content type of stored answers.
const JSON: &str = "application/json";

/// An API answer stored with the payment, for the claim of its request.
pub struct StoredAnswer<'a> {
    pub claim: &'a Claimed,
    pub status: i32,
    pub body: &'a [u8],
}

/// A history row not yet chained into the audit log, with the office of its payment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unaudited {
    pub id: i64,
    pub payment_id: Uuid,
    pub event: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: String,
    pub detail: String,
    pub at: DateTime<Utc>,
    pub owner_office: Option<Uuid>,
}

/// The oldest `limit` history rows not yet in the audit log. Call it under the audit
/// chain's lock, so that two sweepers never take the same rows.
pub async fn unaudited(c: &mut impl Exec, limit: i64) -> Result<Vec<Unaudited>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, Unaudited>(
        "SELECT e.id, e.payment_id, e.event, e.from_state, e.to_state, e.actor, e.detail, e.at, \
         p.owner_office FROM payment_events e JOIN payments p ON p.id = e.payment_id \
         WHERE NOT e.audited ORDER BY e.id LIMIT $1"
    )
    .bind(limit)
    .fetch_all(&mut *c)
    .await)?)
}

/// Marks these history rows as chained into the audit log. By their ids, never by a range:
/// a row of a transaction that commits meanwhile may lie between two ids taken.
pub async fn mark_audited(c: &mut impl Exec, ids: &[i64]) -> Result<u64, Error> {
    let mut n = 0;
    if let Either::Postgres(c) = c.exec() {
        n += sqlx::query("UPDATE payment_events SET audited = TRUE WHERE id = ANY($1)")
            .bind(ids)
            .execute(&mut *c)
            .await?
            .rows_affected();
        return Ok(n);
    }
    // SQLite has no arrays; it finds `$N` parameters by a linear search, so short lists.
    for part in ids.chunks(50) {
        let marks = (1..=part.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("UPDATE payment_events SET audited = TRUE WHERE id IN ({marks})");
        n += db_run!(c, |c| {
            let mut q = sqlx::query(&sql);
            for id in part {
                q = q.bind(*id);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(n)
}
