//! SQL of reconciliation: imports, their statements, outcomes and listed items, and the
//! bulk lookup and completion of payments.
//!
//! The bulk statements are written per backend, as the style allows for bulk work: on
//! PostgreSQL arrays (`= ANY`, `UNNEST`), one parameter per column whatever the batch size;
//! on SQLite one JSON parameter read with `json_each`, since SQLite has no arrays and a
//! statement of thousands of `$N` parameters costs a linear search per parameter to
//! prepare. Either way each query text is the same for every batch, so it is prepared once.

use chrono::{DateTime, Utc};
use eposta_kernel::db::{Either, Exec};
use eposta_kernel::{Error, db_run};
use serde_json::json;
use uuid::Uuid;

use eposta_formats::account::AccountNumber;

use super::decide::{Found, Outcome};
use crate::domain::{Method, State};

/// A new import, before its entries.
pub struct NewImport<'a> {
    pub id: Uuid,
    pub file_name: &'a str,
    pub message_id: &'a str,
    pub source: &'a str,
    pub imported_by: &'a str,
    pub at: DateTime<Utc>,
}

/// The SHA-256 placeholder of an import whose file is still being read.
const NO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub async fn insert_import(c: &mut impl Exec, i: &NewImport<'_>) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO statement_imports (id, file_name, file_sha256, message_id, source, \
         imported_by, entries, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)"
    )
    .bind(i.id)
    .bind(i.file_name)
    .bind(NO_HASH)
    .bind(i.message_id)
    .bind(i.source)
    .bind(i.imported_by)
    .bind(i.at)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn finish_import(
    c: &mut impl Exec,
    id: Uuid,
    sha256: &str,
    entries: i64,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "UPDATE statement_imports SET file_sha256 = $2, entries = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(sha256)
    .bind(entries)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Records a statement of an import unless the same account's statement with this id was
/// recorded before: then nothing is written and the earlier import is returned.
pub async fn claim_statement(
    c: &mut impl Exec,
    import: Uuid,
    account: &str,
    statement_id: &str,
    created: Option<&str>,
) -> Result<Option<Uuid>, Error> {
    let inserted: Option<i64> = db_run!(c, |c| sqlx::query_scalar(
        "INSERT INTO bank_statements (import_id, account, statement_id, created) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (account, statement_id) DO NOTHING RETURNING id"
    )
    .bind(import)
    .bind(account)
    .bind(statement_id)
    .bind(created)
    .fetch_optional(&mut *c)
    .await)?;
    if inserted.is_some() {
        return Ok(None);
    }
    let earlier: Uuid = db_run!(c, |c| sqlx::query_scalar(
        "SELECT import_id FROM bank_statements WHERE account = $1 AND statement_id = $2"
    )
    .bind(account)
    .bind(statement_id)
    .fetch_one(&mut *c)
    .await)?;
    Ok(Some(earlier))
}

pub async fn count_statement_entries(
    c: &mut impl Exec,
    import: Uuid,
    account: &str,
    statement_id: &str,
    entries: i64,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "UPDATE bank_statements SET entries = entries + $4 \
         WHERE import_id = $1 AND account = $2 AND statement_id = $3"
    )
    .bind(import)
    .bind(account)
    .bind(statement_id)
    .bind(entries)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct FoundRow {
    id: Uuid,
    method: String,
    state: String,
    amount_para: i64,
    fee_para: i64,
    collection_reference: Option<String>,
    bank_ref: Option<String>,
}

/// The payments whose collection reference is one of `references`, or whose bank reference
/// is one of `bank_refs`, with the reference each was found by. Not locked: [`complete`]
/// changes a payment only if it is still pending (compare and set) and fails the import if
/// one was changed meanwhile (an expiry sweep at that very moment), which costs less than
/// locking a million rows that are about to be written anyway. SQLite's single writer holds
/// the whole database for the import.
pub async fn lookup(
    c: &mut impl Exec,
    references: &[&str],
    bank_refs: &[&str],
) -> Result<Vec<(Found, Option<String>)>, Error> {
    const COLUMNS: &str =
        "id, method, state, amount_para, fee_para, collection_reference, bank_ref";
    let rows: Vec<FoundRow> = match c.exec() {
        Either::Postgres(c) => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM payments \
                 WHERE collection_reference = ANY($1) OR bank_ref = ANY($2)"
            ))
            .bind(references)
            .bind(bank_refs)
            .fetch_all(&mut *c)
            .await?
        }
        Either::Sqlite(c) => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM payments \
                 WHERE collection_reference IN (SELECT value FROM json_each($1)) \
                 UNION ALL SELECT {COLUMNS} FROM payments \
                 WHERE bank_ref IN (SELECT value FROM json_each($2))"
            ))
            .bind(json!(references).to_string())
            .bind(json!(bank_refs).to_string())
            .fetch_all(&mut *c)
            .await?
        }
    };
    rows.into_iter()
        .map(|r| {
            let found = Found {
                id: r.id,
                method: Method::parse(&r.method).ok_or_else(|| bad("method", &r.method))?,
                state: State::parse(&r.state).ok_or_else(|| bad("state", &r.state))?,
                amount_para: r.amount_para,
                fee_para: r.fee_para,
                bank_ref: r.bank_ref,
            };
            Ok((found, r.collection_reference))
        })
        .collect()
}

fn bad(what: &str, value: &str) -> Error {
    Error::Internal(anyhow::anyhow!("payments: unknown {what} {value:?}"))
}

/// A payment to complete: its id, the bank reference of the transfer, the account it was
/// paid from (when the statement names a Serbian one: where a refund goes back to), and its
/// history row's details.
pub struct Completion {
    pub id: Uuid,
    pub bank_ref: String,
    pub payer_account: Option<AccountNumber>,
    pub detail: String,
}

/// Moves the payments from `pending` to `succeeded` with their bank references, appends the
/// `succeed` row of each one's history (chained into the audit log by the payments sweeper,
/// as every state change), and keeps the payer's account for refunds
/// (`payment_payer_accounts`; a payment is completed once, so its row is new). One
/// statement on PostgreSQL, one JSON batch read by each of three on SQLite. Fails, so that
/// the import rolls back, unless every one of the payments was still pending.
pub async fn complete(
    c: &mut impl Exec,
    rows: &[Completion],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let done = match c.exec() {
        Either::Postgres(c) => {
            let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            let refs: Vec<&str> = rows.iter().map(|r| r.bank_ref.as_str()).collect();
            let accounts: Vec<Option<&str>> = rows
                .iter()
                .map(|r| r.payer_account.as_ref().map(AccountNumber::as_str))
                .collect();
            let details: Vec<&str> = rows.iter().map(|r| r.detail.as_str()).collect();
            let written: Vec<Uuid> = sqlx::query_scalar(
                "WITH v AS (SELECT * FROM UNNEST($3::uuid[], $4::text[], $5::text[], \
                 $6::text[]) AS v (id, bank_ref, account, detail)), \
                 u AS (UPDATE payments p SET state = 'succeeded', updated_at = $1, \
                 completed_at = $1, bank_ref = v.bank_ref FROM v \
                 WHERE p.id = v.id AND p.state = 'pending' RETURNING p.id), \
                 a AS (INSERT INTO payment_payer_accounts (payment_id, account) \
                 SELECT u.id, v.account FROM u JOIN v ON v.id = u.id \
                 WHERE v.account IS NOT NULL) \
                 INSERT INTO payment_events (payment_id, event, from_state, to_state, actor, \
                 detail, at) SELECT u.id, 'succeed', 'pending', 'succeeded', $2, v.detail, $1 \
                 FROM u JOIN v ON v.id = u.id RETURNING payment_id",
            )
            .bind(now)
            .bind(actor)
            .bind(&ids)
            .bind(&refs)
            .bind(&accounts)
            .bind(&details)
            .fetch_all(&mut *c)
            .await?;
            written.len()
        }
        Either::Sqlite(c) => {
            let batch = json!(
                rows.iter()
                    .map(|r| json!([
                        hex::encode(r.id.as_bytes()),
                        r.bank_ref,
                        r.detail,
                        r.payer_account.as_ref().map(AccountNumber::as_str)
                    ]))
                    .collect::<Vec<_>>()
            )
            .to_string();
            let updated = sqlx::query(
                "UPDATE payments SET state = 'succeeded', updated_at = $1, completed_at = $1, \
                 bank_ref = j.value ->> 1 FROM json_each($2) AS j \
                 WHERE payments.id = unhex(j.value ->> 0) AND payments.state = 'pending'",
            )
            .bind(now)
            .bind(&batch)
            .execute(&mut *c)
            .await?
            .rows_affected();
            if updated == rows.len() as u64 {
                sqlx::query(
                    "INSERT INTO payment_events (payment_id, event, from_state, to_state, \
                     actor, detail, at) SELECT unhex(j.value ->> 0), 'succeed', 'pending', \
                     'succeeded', $1, j.value ->> 2, $2 FROM json_each($3) AS j",
                )
                .bind(actor)
                .bind(now)
                .bind(&batch)
                .execute(&mut *c)
                .await?;
                sqlx::query(
                    "INSERT INTO payment_payer_accounts (payment_id, account) \
                     SELECT unhex(j.value ->> 0), j.value ->> 3 FROM json_each($1) AS j \
                     WHERE j.value ->> 3 IS NOT NULL",
                )
                .bind(&batch)
                .execute(&mut *c)
                .await?;
            }
            usize::try_from(updated).unwrap_or(usize::MAX)
        }
    };
    if done != rows.len() {
        return Err(Error::conflict(
            "payments changed while the statement was imported; import it again",
        ));
    }
    Ok(())
}

/// A listed credit: one that did not complete a payment (see [`Outcome::is_listed`]).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemRow {
    pub id: i64,
    pub line: i64,
    pub statement_id: String,
    pub outcome: String,
    pub amount_para: i64,
    pub currency: String,
    pub reference: Option<String>,
    pub bank_ref: String,
    pub booking_date: Option<String>,
    pub payment_id: Option<Uuid>,
    pub expected_para: Option<i64>,
    pub payment_state: Option<String>,
}

/// Appends listed credits to an import.
pub async fn insert_items(c: &mut impl Exec, import: Uuid, items: &[ItemRow]) -> Result<(), Error> {
    if items.is_empty() {
        return Ok(());
    }
    match c.exec() {
        Either::Postgres(c) => {
            let col = |f: fn(&ItemRow) -> Option<String>| items.iter().map(f).collect::<Vec<_>>();
            sqlx::query(
                "INSERT INTO statement_items (import_id, line, statement_id, outcome, \
                 amount_para, currency, reference, bank_ref, booking_date, payment_id, \
                 expected_para, payment_state) SELECT $1, * FROM UNNEST($2::bigint[], \
                 $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], \
                 $9::text[], $10::uuid[], $11::bigint[], $12::text[])",
            )
            .bind(import)
            .bind(items.iter().map(|i| i.line).collect::<Vec<_>>())
            .bind(col(|i| Some(i.statement_id.clone())))
            .bind(col(|i| Some(i.outcome.clone())))
            .bind(items.iter().map(|i| i.amount_para).collect::<Vec<_>>())
            .bind(col(|i| Some(i.currency.clone())))
            .bind(col(|i| i.reference.clone()))
            .bind(col(|i| Some(i.bank_ref.clone())))
            .bind(col(|i| i.booking_date.clone()))
            .bind(items.iter().map(|i| i.payment_id).collect::<Vec<_>>())
            .bind(items.iter().map(|i| i.expected_para).collect::<Vec<_>>())
            .bind(col(|i| i.payment_state.clone()))
            .execute(&mut *c)
            .await?;
        }
        Either::Sqlite(c) => {
            let rows = json!(
                items
                    .iter()
                    .map(|i| json!([
                        i.line,
                        i.statement_id,
                        i.outcome,
                        i.amount_para,
                        i.currency,
                        i.reference,
                        i.bank_ref,
                        i.booking_date,
                        i.payment_id.map(|p| hex::encode(p.as_bytes())),
                        i.expected_para,
                        i.payment_state,
                    ]))
                    .collect::<Vec<_>>()
            )
            .to_string();
            sqlx::query(
                "INSERT INTO statement_items (import_id, line, statement_id, outcome, \
                 amount_para, currency, reference, bank_ref, booking_date, payment_id, \
                 expected_para, payment_state) SELECT $1, j.value ->> 0, j.value ->> 1, \
                 j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6, \
                 j.value ->> 7, unhex(j.value ->> 8), j.value ->> 9, j.value ->> 10 \
                 FROM json_each($2) AS j",
            )
            .bind(import)
            .bind(&rows)
            .execute(&mut *c)
            .await?;
        }
    }
    Ok(())
}

/// Stores an import's counts and sums per outcome.
pub async fn insert_outcomes(
    c: &mut impl Exec,
    import: Uuid,
    outcomes: &[(Outcome, i64, i64)],
) -> Result<(), Error> {
    for (o, n, para) in outcomes.iter().filter(|(_, n, _)| *n > 0) {
        db_run!(c, |c| sqlx::query(
            "INSERT INTO statement_outcomes (import_id, outcome, entries, para) \
             VALUES ($1, $2, $3, $4)"
        )
        .bind(import)
        .bind(o.as_str())
        .bind(*n)
        .bind(*para)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

/// An import as listed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportRow {
    pub id: Uuid,
    pub file_name: String,
    pub file_sha256: String,
    pub message_id: String,
    pub source: String,
    pub imported_by: String,
    pub entries: i64,
    pub created_at: DateTime<Utc>,
}

const IMPORT_COLUMNS: &str =
    "id, file_name, file_sha256, message_id, source, imported_by, entries, created_at";

pub async fn import_by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<ImportRow>, Error> {
    let sql = format!("SELECT {IMPORT_COLUMNS} FROM statement_imports WHERE id = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, ImportRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// The latest imports, newest first.
pub async fn recent_imports(c: &mut impl Exec, limit: i64) -> Result<Vec<ImportRow>, Error> {
    let sql = format!(
        "SELECT {IMPORT_COLUMNS} FROM statement_imports ORDER BY created_at DESC, id DESC LIMIT $1"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, ImportRow>(&sql)
        .bind(limit)
        .fetch_all(&mut *c)
        .await)?)
}

/// A statement of an import.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StatementRow {
    pub account: String,
    pub statement_id: String,
    pub created: Option<String>,
    pub entries: i64,
}

pub async fn statements_of(c: &mut impl Exec, import: Uuid) -> Result<Vec<StatementRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, StatementRow>(
        "SELECT account, statement_id, created, entries FROM bank_statements \
         WHERE import_id = $1 ORDER BY id"
    )
    .bind(import)
    .fetch_all(&mut *c)
    .await)?)
}

pub async fn outcomes_of(
    c: &mut impl Exec,
    import: Uuid,
) -> Result<Vec<(String, i64, i64)>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, (String, i64, i64)>(
        "SELECT outcome, entries, para FROM statement_outcomes WHERE import_id = $1"
    )
    .bind(import)
    .fetch_all(&mut *c)
    .await)?)
}

/// Listed credits of an import in file order, `limit` after the item `after` (0: from the
/// start).
pub async fn items_of(
    c: &mut impl Exec,
    import: Uuid,
    after: i64,
    limit: i64,
) -> Result<Vec<ItemRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, ItemRow>(
        "SELECT id, line, statement_id, outcome, amount_para, currency, reference, bank_ref, \
         booking_date, payment_id, expected_para, payment_state FROM statement_items \
         WHERE import_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    )
    .bind(import)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *c)
    .await)?)
}
