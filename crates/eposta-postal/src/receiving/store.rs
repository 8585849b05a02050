//! SQL for receiving: one-time codes, recipient sessions, the recipient's choices and the
//! items addressed to a citizen; the ledger of notices is in `store/notices.rs`.

use std::fmt;

use chrono::{DateTime, Utc};
use eposta_kernel::db::Exec;
use eposta_kernel::{Error, db_run};
use uuid::Uuid;

use crate::booking::store::{COLUMNS as ITEM_COLUMNS, ItemRow};
use crate::domain::Address;

use super::domain::{Collector, Destination};

mod notices;

pub use notices::{NoticeRow, claim_notices, notices, owe_notices};

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// --- one-time codes -----------------------------------------------------------------------

/// A code request to record.
pub struct NewCode<'a> {
    pub id: Uuid,
    pub tracking_number: &'a str,
    /// The item booked here with this number; `None` for a number that is not.
    pub item_id: Option<Uuid>,
    pub code_hash: &'a str,
    pub client_key: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_code(c: &mut impl Exec, n: &NewCode<'_>) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO receiving_codes (id, tracking_number, item_id, code_hash, client_key, \
         attempts, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $7)"
    )
    .bind(n.id)
    .bind(n.tracking_number)
    .bind(n.item_id)
    .bind(n.code_hash)
    .bind(n.client_key)
    .bind(n.created_at)
    .bind(n.expires_at)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Code requests since `since`: for this tracking number, and from this client.
pub async fn recent_requests(
    c: &mut impl Exec,
    tracking_number: &str,
    client_key: &str,
    since: DateTime<Utc>,
) -> Result<(i64, i64), Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, (i64, i64)>(
        "SELECT (SELECT COUNT(*) FROM receiving_codes WHERE tracking_number = $1 \
         AND created_at > $3), \
         (SELECT COUNT(*) FROM receiving_codes WHERE client_key = $2 AND created_at > $3)"
    )
    .bind(tracking_number)
    .bind(client_key)
    .bind(since)
    .fetch_one(&mut *c)
    .await)?)
}

/// Forgets code requests older than `before` (they no longer count for throttling).
pub async fn delete_codes_before(c: &mut impl Exec, before: DateTime<Utc>) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "DELETE FROM receiving_codes WHERE created_at < $1"
    )
    .bind(before)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// A code that may still be used.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LiveCode {
    pub id: Uuid,
    pub item_id: Option<Uuid>,
    pub code_hash: String,
    pub attempts: i32,
}

/// The unused, unexpired codes asked for this number, oldest first.
pub async fn live_codes(
    c: &mut impl Exec,
    tracking_number: &str,
    now: DateTime<Utc>,
) -> Result<Vec<LiveCode>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, LiveCode>(
        "SELECT id, item_id, code_hash, attempts FROM receiving_codes \
         WHERE tracking_number = $1 AND used_at IS NULL AND expires_at > $2 \
         ORDER BY created_at, id"
    )
    .bind(tracking_number)
    .bind(now)
    .fetch_all(&mut *c)
    .await)?)
}

/// Counts a wrong code against every live code of the number that has tries left.
pub async fn count_wrong_code(
    c: &mut impl Exec,
    tracking_number: &str,
    now: DateTime<Utc>,
    max_attempts: i32,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "UPDATE receiving_codes SET attempts = attempts + 1 \
         WHERE tracking_number = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3"
    )
    .bind(tracking_number)
    .bind(now)
    .bind(max_attempts)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Uses up every live code of the number (the right one was given). False if the matching
/// code `id` was used meanwhile (by a concurrent request).
pub async fn use_codes(
    c: &mut impl Exec,
    tracking_number: &str,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let mine = db_run!(c, |c| sqlx::query(
        "UPDATE receiving_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL"
    )
    .bind(id)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    db_run!(c, |c| sqlx::query(
        "UPDATE receiving_codes SET used_at = $2 WHERE tracking_number = $1 AND used_at IS NULL"
    )
    .bind(tracking_number)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(mine == 1)
}

// --- recipient sessions -------------------------------------------------------------------

pub async fn insert_session(
    c: &mut impl Exec,
    token_hash: &str,
    item_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "DELETE FROM receiving_sessions WHERE expires_at <= $1"
    )
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    db_run!(c, |c| sqlx::query(
        "INSERT INTO receiving_sessions (token_hash, item_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)"
    )
    .bind(token_hash)
    .bind(item_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The item a live session is for.
pub async fn session_item(
    c: &mut impl Exec,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, Uuid>(
        "SELECT item_id FROM receiving_sessions WHERE token_hash = $1 AND expires_at > $2"
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *c)
    .await)?)
}

// --- items ----------------------------------------------------------------------------------

/// The status of an item's newest event (event time, then the order stored), if it has any.
pub async fn latest_status(
    c: &mut impl Exec,
    tracking_number: &str,
) -> Result<Option<String>, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, String>(
        "SELECT status FROM tracking_events WHERE tracking_number = $1 \
         ORDER BY event_time DESC, id DESC LIMIT 1"
    )
    .bind(tracking_number)
    .fetch_optional(&mut *c)
    .await)?)
}

/// An item with the status of its newest event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AddressedRow {
    #[sqlx(flatten)]
    pub item: ItemRow,
    pub latest: Option<String>,
}

/// Items whose recipient e-mail is `email`, newest first.
pub async fn addressed_to(
    c: &mut impl Exec,
    email: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<AddressedRow>, Error> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, (SELECT e.status FROM tracking_events e \
         WHERE e.tracking_number = postal_items.tracking_number \
         ORDER BY e.event_time DESC, e.id DESC LIMIT 1) AS latest \
         FROM postal_items WHERE recipient_email = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, AddressedRow>(&sql)
        .bind(email)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *c)
        .await)?)
}

// --- choices --------------------------------------------------------------------------------

/// What the recipient chose for an item, with the chosen office as registered.
#[derive(Clone, sqlx::FromRow)]
pub struct ChoiceRow {
    pub destination: Option<String>,
    pub office_code: Option<String>,
    pub office_name: Option<String>,
    pub office_address: Option<String>,
    pub office_hours: Option<String>,
    pub address_name: Option<String>,
    pub address_street: Option<String>,
    pub address_number: Option<String>,
    pub address_postal_code: Option<String>,
    pub address_place: Option<String>,
    pub collector_name: Option<String>,
    pub collector_document: Option<String>,
    pub collector_document_digits: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Names and addresses stay out of `Debug`, so they cannot reach a log line.
impl fmt::Debug for ChoiceRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChoiceRow")
            .field("destination", &self.destination)
            .field("office_code", &self.office_code)
            .field("collector", &self.collector_name.is_some())
            .finish_non_exhaustive()
    }
}

impl ChoiceRow {
    pub fn destination(&self) -> Option<Destination> {
        self.destination.as_deref().and_then(Destination::parse)
    }
}

pub async fn choice(c: &mut impl Exec, item_id: Uuid) -> Result<Option<ChoiceRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, ChoiceRow>(
        "SELECT ch.destination, o.code AS office_code, o.name AS office_name, \
         o.address AS office_address, o.opening_hours AS office_hours, ch.address_name, \
         ch.address_street, ch.address_number, ch.address_postal_code, ch.address_place, \
         ch.collector_name, ch.collector_document, ch.collector_document_digits, ch.updated_at \
         FROM receiving_choices ch LEFT JOIN offices o ON o.id = ch.office_id \
         WHERE ch.item_id = $1"
    )
    .bind(item_id)
    .fetch_optional(&mut *c)
    .await)?)
}

/// Records where the item goes: home (no office, no address), a post office, or another
/// address. The collector, if named, stays.
pub async fn set_destination(
    c: &mut impl Exec,
    item_id: Uuid,
    destination: Destination,
    office_id: Option<Uuid>,
    address: Option<&Address>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db_run!(c, |c| sqlx::query(
        "INSERT INTO receiving_choices (item_id, destination, office_id, address_name, \
         address_street, address_number, address_postal_code, address_place, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (item_id) DO UPDATE SET destination = excluded.destination, \
         office_id = excluded.office_id, address_name = excluded.address_name, \
         address_street = excluded.address_street, address_number = excluded.address_number, \
         address_postal_code = excluded.address_postal_code, \
         address_place = excluded.address_place, updated_at = excluded.updated_at"
    )
    .bind(item_id)
    .bind(destination.as_str())
    .bind(office_id)
    .bind(address.map(|a| a.name.as_str()))
    .bind(address.map(|a| a.street.as_str()))
    .bind(address.map(|a| a.number.as_str()))
    .bind(address.map(|a| a.postal_code.as_str()))
    .bind(address.map(|a| a.place.as_str()))
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Names (or, with `None`, forgets) the other person who may collect the item.
pub async fn set_collector(
    c: &mut impl Exec,
    item_id: Uuid,
    collector: Option<&Collector>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let document = collector.and_then(|c| c.document.as_ref());
    db_run!(c, |c| sqlx::query(
        "INSERT INTO receiving_choices (item_id, collector_name, collector_document, \
         collector_document_digits, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (item_id) DO UPDATE SET collector_name = excluded.collector_name, \
         collector_document = excluded.collector_document, \
         collector_document_digits = excluded.collector_document_digits, \
         updated_at = excluded.updated_at"
    )
    .bind(item_id)
    .bind(collector.map(|c| c.name.as_str()))
    .bind(document.map(|(d, _)| d.as_str()))
    .bind(document.map(|(_, digits)| digits.as_str()))
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    Ok(())
}
