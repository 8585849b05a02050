//! SQL for pickup requests (`pickup_requests`).

use chrono::{DateTime, NaiveDate, Utc};
use eposta_kernel::db::Exec;
use eposta_kernel::{Error, db_run};
use uuid::Uuid;

/// A request as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PickupRow {
    pub id: Uuid,
    pub item_id: Uuid,
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    pub note: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, item_id, window_from, window_to, note, status, created_at";

/// A new open request. False when the item has an open one already.
#[expect(clippy::too_many_arguments, reason = "the columns of a request")]
pub async fn insert(
    c: &mut impl Exec,
    id: Uuid,
    item: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    note: &str,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let changed = db_run!(c, |c| {
        sqlx::query(
        "INSERT INTO pickup_requests (id, item_id, window_from, window_to, note, status, \
         requested_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'requested', $6, $7, $7) \
         ON CONFLICT (item_id) WHERE status = 'requested' DO NOTHING"
    )
    .bind(id)
    .bind(item)
    .bind(from)
    .bind(to)
    .bind(note)
    .bind(by)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(changed == 1)
}

/// The item's open request, if any.
pub async fn open_for_item(c: &mut impl Exec, item: Uuid) -> Result<Option<PickupRow>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM pickup_requests WHERE item_id = $1 AND status = 'requested'"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, PickupRow>(&sql)
        .bind(item)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Moves the item's open request to `status`; false when it has none.
pub async fn close(
    c: &mut impl Exec,
    item: Uuid,
    status: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let changed = db_run!(c, |c| sqlx::query(
        "UPDATE pickup_requests SET status = $2, updated_at = $3 \
         WHERE item_id = $1 AND status = 'requested'"
    )
    .bind(item)
    .bind(status)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

/// An open request with what the postman needs: the item's numbers and the sender's address.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoundRow {
    pub item_id: Uuid,
    pub tracking_number: String,
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    pub note: String,
    pub sender_name: String,
    pub sender_street: String,
    pub sender_number: String,
    pub sender_place: String,
    pub sender_phone: Option<String>,
}

/// Open requests from senders with this postal code whose window has not ended before `from`,
/// earliest first (at most `limit`).
pub async fn open_for_postal_code(
    c: &mut impl Exec,
    postal_code: &str,
    from: NaiveDate,
    limit: i64,
) -> Result<Vec<RoundRow>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, RoundRow>(
        "SELECT p.item_id, i.tracking_number, p.window_from, p.window_to, p.note, \
         i.sender_name, i.sender_street, i.sender_number, i.sender_place, i.sender_phone \
         FROM pickup_requests p JOIN postal_items i ON i.id = p.item_id \
         WHERE p.status = 'requested' AND i.sender_postal_code = $1 AND p.window_to >= $2 \
         ORDER BY p.window_from, i.tracking_number LIMIT $3"
    )
    .bind(postal_code)
    .bind(from)
    .bind(limit)
    .fetch_all(&mut *c)
    .await)?)
}
