//! The audit log: append-only, each entry carrying the SHA-256 of the one before, so that an
//! edited or deleted entry breaks the chain and `eposta audit verify` names it.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::{Backend, Exec, Tx};
use crate::db_run;
use crate::error::Error;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did something: a user, an API key, or the system itself.
#[derive(Debug, Clone)]
pub enum Actor {
    User(Uuid),
    ApiKey(Uuid),
    System,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::ApiKey(id) => write!(f, "key:{id}"),
            Actor::System => f.write_str("system"),
        }
    }
}

/// One thing that happened. `details` must not hold personal data in clear (use keyed
/// hashes or masked values).
pub struct Entry<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub subject: &'a str,
    pub office_id: Option<Uuid>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub office_id: Option<Uuid>,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry: SHA-256 over its fields, each ended by a newline, times in RFC 3339
/// with microseconds. Any change to a stored field changes it.
#[expect(
    clippy::too_many_arguments,
    reason = "the hashed fields, in their order"
)]
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    office_id: Option<Uuid>,
    details: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash,
        &seq.to_string(),
        &at.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor,
        action,
        subject,
        &office_id.map(|o| o.to_string()).unwrap_or_default(),
        details,
    ] {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// Takes the chain's lock until the caller's transaction ends: entries must be chained in
/// one order, so on PostgreSQL a transaction-scoped advisory lock serialises appenders
/// (SQLite has one writer anyway). [`append`] and [`append_many`] take it themselves; a
/// caller that must read what to append only once it holds the lock takes it first (taking
/// it again in the same transaction is harmless).
pub async fn lock_chain(tx: &mut Tx) -> Result<(), Error> {
    if tx.backend() == Backend::Postgres {
        db_run!(tx, |c| sqlx::query(
            "SELECT pg_advisory_xact_lock(7263010001)"
        )
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Appends an entry inside the caller's transaction, so the entry exists exactly when the
/// change it records does.
pub async fn append(tx: &mut Tx, at: DateTime<Utc>, e: Entry<'_>) -> Result<(), Error> {
    lock_chain(tx).await?;
    let last: Option<(i64, String)> = db_run!(tx, |c| sqlx::query_as(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
    )
    .fetch_optional(&mut *c)
    .await)?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_owned()),
    };
    let actor = e.actor.to_string();
    let details = e.details.to_string();
    let hash = entry_hash(
        &prev,
        seq,
        at,
        &actor,
        e.action,
        e.subject,
        e.office_id,
        &details,
    );
    db_run!(tx, |c| {
        sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, office_id, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(seq)
    .bind(at)
    .bind(&actor)
    .bind(e.action)
    .bind(e.subject)
    .bind(e.office_id)
    .bind(&details)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Appends several entries inside the caller's transaction, each at its own time, in the
/// order given: one lock, one read of the chain's end and multi-row inserts, instead of
/// [`append`]'s three statements per entry. For capabilities that record changes in a
/// history table of their own and chain them into the audit log in batches (payments,
/// docs/payments.md); the chain is the same as if each entry had been appended alone.
pub async fn append_many(tx: &mut Tx, entries: &[(DateTime<Utc>, Entry<'_>)]) -> Result<(), Error> {
    if entries.is_empty() {
        return Ok(());
    }
    lock_chain(tx).await?;
    let last: Option<(i64, String)> = db_run!(tx, |c| sqlx::query_as(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
    )
    .fetch_optional(&mut *c)
    .await)?;
    let (mut seq, mut prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_owned()),
    };
    let mut rows = Vec::with_capacity(entries.len());
    for (at, e) in entries {
        let actor = e.actor.to_string();
        let details = e.details.to_string();
        let hash = entry_hash(
            &prev,
            seq,
            *at,
            &actor,
            e.action,
            e.subject,
            e.office_id,
            &details,
        );
        rows.push((
            seq,
            *at,
            actor,
            e.action,
            e.subject,
            e.office_id,
            details,
            prev,
            hash.clone(),
        ));
        prev = hash;
        seq += 1;
    }
    // SQLite finds `$N` parameters by a linear search: small statements there.
    let chunk = match tx.backend() {
        Backend::Postgres => 500,
        Backend::Sqlite => 20,
    };
    for part in rows.chunks(chunk) {
        let values = (0..part.len())
            .map(|i| {
                let b = i * 9;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor, action, subject, office_id, details, prev_hash, hash) \
             VALUES {values}"
        );
        db_run!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for (seq, at, actor, action, subject, office, details, prev, hash) in part {
                q = q
                    .bind(*seq)
                    .bind(*at)
                    .bind(actor)
                    .bind(*action)
                    .bind(*subject)
                    .bind(*office)
                    .bind(details)
                    .bind(prev)
                    .bind(hash);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// The newest entries, for the admin console; `office` limits them to one office.
pub async fn recent(
    c: &mut impl Exec,
    office: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Row>, Error> {
    Ok(db_run!(c, |c| {
        sqlx::query_as::<_, Row>(
        "SELECT seq, at, actor, action, subject, office_id, details, prev_hash, hash FROM audit_log \
         WHERE ($1 IS NULL OR office_id = $1) ORDER BY seq DESC LIMIT $2"
    )
    .bind(office)
    .bind(limit)
    .fetch_all(&mut *c)
    .await
    })?)
}

/// The outcome of checking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every entry checks out; this many were read.
    Intact(u64),
    /// The first entry that does not: its sequence number and why.
    Broken { seq: i64, reason: String },
}

/// Walks the whole chain in order, in pages, in constant memory.
pub async fn verify(c: &mut impl Exec) -> Result<Verdict, Error> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1i64;
    let mut count = 0u64;
    loop {
        let page: Vec<Row> = db_run!(c, |c| sqlx::query_as::<_, Row>(
            "SELECT seq, at, actor, action, subject, office_id, details, prev_hash, hash \
             FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 1000"
        )
        .bind(expected_seq)
        .fetch_all(&mut *c)
        .await)?;
        if page.is_empty() {
            // A missing tail cannot be seen from the chain itself; a deleted middle can.
            let max: Option<i64> =
                db_run!(c, |c| sqlx::query_scalar("SELECT MAX(seq) FROM audit_log")
                    .fetch_one(&mut *c)
                    .await)?;
            if let Some(max) = max
                && max >= expected_seq
            {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    reason: "entry missing".into(),
                });
            }
            return Ok(Verdict::Intact(count));
        }
        for row in page {
            if row.seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    reason: format!("entry missing (next is {})", row.seq),
                });
            }
            if row.prev_hash != prev {
                return Ok(Verdict::Broken {
                    seq: row.seq,
                    reason: "does not link to the entry before it".into(),
                });
            }
            let h = entry_hash(
                &row.prev_hash,
                row.seq,
                row.at,
                &row.actor,
                &row.action,
                &row.subject,
                row.office_id,
                &row.details,
            );
            if h != row.hash {
                return Ok(Verdict::Broken {
                    seq: row.seq,
                    reason: "content does not match its hash".into(),
                });
            }
            prev = row.hash;
            expected_seq += 1;
            count += 1;
        }
    }
}
