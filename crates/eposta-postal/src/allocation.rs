//! S10 serial allocation: one counter per service indicator in `s10_serials`, taken in
//! blocks by a single atomic upsert, so identifiers are unique across processes on either
//! database. The counter wraps at 100,000,000; after a wrap, identifiers still held by an
//! item are skipped, and a second wrap within 24 months is refused (docs/postal-booking.md).

use std::collections::HashSet;

use chrono::{DateTime, Months, Utc};
use eposta_formats::s10::S10;
use eposta_kernel::db::Exec;
use eposta_kernel::{App, Error, db_run};

use crate::domain::Product;

/// The country of every identifier we issue.
pub const COUNTRY: &str = "RS";
/// Serials run from 0 to 99,999,999.
pub const SERIALS: i64 = 100_000_000;
/// S10 forbids reusing an identifier within 12 months and recommends 24; we keep 24.
pub const REUSE_AFTER: Months = Months::new(24);

/// The service indicator of the items we book (the choice is explained in
/// docs/postal-booking.md):
/// - `NA` plain letter: ordinary letters are not tracked on the UPU network, but a booked
///   one still needs a handle for the counter, the payment and the label, so it gets an
///   identifier from a domestic-only range (N) that never leaves the country;
/// - `RA` registered letter, `VA` registered letter with a declared value (insured);
/// - `CA` parcel, `CV` parcel with a declared value (S10 keeps CV for insured parcels);
/// - `EA` express.
pub fn service_indicator(product: Product, declared_value: bool) -> &'static str {
    match (product, declared_value) {
        (Product::Letter, _) => "NA",
        (Product::RegisteredLetter, false) => "RA",
        (Product::RegisteredLetter, true) => "VA",
        (Product::Parcel, false) => "CA",
        (Product::Parcel, true) => "CV",
        (Product::Express, _) => "EA",
    }
}

/// Every service indicator [`service_indicator`] gives.
pub const SERVICE_INDICATORS: [&str; 6] = ["NA", "RA", "VA", "CA", "CV", "EA"];

#[derive(Debug, Clone, sqlx::FromRow)]
struct Counter {
    next_serial: i64,
    wrapped_at: Option<DateTime<Utc>>,
}

/// Takes `n` serials: the counter moves on by `n` in one statement, which inserts the row on
/// first use. `None` when fewer than `n` serials are left before the end of the range.
async fn take(c: &mut impl Exec, si: &str, n: i64) -> Result<Option<Counter>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, Counter>(
        "INSERT INTO s10_serials (service_indicator, next_serial) VALUES ($1, $2) \
         ON CONFLICT (service_indicator) DO UPDATE \
         SET next_serial = s10_serials.next_serial + excluded.next_serial \
         WHERE s10_serials.next_serial + excluded.next_serial <= 100000000 \
         RETURNING next_serial, wrapped_at"
    )
    .bind(si)
    .bind(n)
    .fetch_optional(&mut *c)
    .await)?)
}

async fn counter(c: &mut impl Exec, si: &str) -> Result<Option<Counter>, Error> {
    Ok(db_run!(c, |c| sqlx::query_as::<_, Counter>(
        "SELECT next_serial, wrapped_at FROM s10_serials WHERE service_indicator = $1"
    )
    .bind(si)
    .fetch_optional(&mut *c)
    .await)?)
}

/// Starts the range again at 0, unless someone else moved the counter since it was read.
async fn wrap(c: &mut impl Exec, si: &str, seen: i64, now: DateTime<Utc>) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "UPDATE s10_serials SET next_serial = 0, wrapped_at = $3 \
         WHERE service_indicator = $1 AND next_serial = $2"
    )
    .bind(si)
    .bind(seen)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Sets a counter: for an operator moving from another system (start after the serials it
/// issued), and for tests.
pub async fn set_counter(
    c: &mut impl Exec,
    si: &str,
    next_serial: i64,
    wrapped_at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    if !(0..=SERIALS).contains(&next_serial) {
        return Err(Error::invalid("next_serial", "must be 0 to 100000000"));
    }
    db_run!(c, |c| sqlx::query(
        "INSERT INTO s10_serials (service_indicator, next_serial, wrapped_at) VALUES ($1, $2, $3) \
         ON CONFLICT (service_indicator) DO UPDATE \
         SET next_serial = excluded.next_serial, wrapped_at = excluded.wrapped_at"
    )
    .bind(si)
    .bind(next_serial)
    .bind(wrapped_at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Which of `ids` an item already has.
async fn in_use(c: &mut impl Exec, ids: &[S10]) -> Result<HashSet<String>, Error> {
    let mut used = HashSet::new();
    for chunk in ids.chunks(500) {
        let marks = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql =
            format!("SELECT tracking_number FROM postal_items WHERE tracking_number IN ({marks})");
        let found: Vec<String> = db_run!(c, |c| {
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for id in chunk {
                q = q.bind(id.as_str());
            }
            q.fetch_all(&mut *c).await
        })?;
        used.extend(found);
    }
    Ok(used)
}

fn internal(why: String) -> Error {
    Error::Internal(anyhow::anyhow!(why))
}

/// Allocates `n` identifiers of service indicator `si` (country RS), unique across
/// processes and never reused while an item holds them.
///
/// Each block is committed on its own, as a database sequence would be: concurrent bookings
/// do not wait for each other's transactions, and a booking that fails leaves a gap in the
/// serials, which S10 allows.
pub async fn allocate(app: &App, si: &str, n: usize) -> Result<Vec<S10>, Error> {
    if S10::new(si, 0, COUNTRY).is_err() {
        return Err(internal(format!(
            "{si} is not a service indicator we may issue"
        )));
    }
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let want = i64::try_from(n - out.len()).map_err(|_| internal("block too large".into()))?;
        if want > SERIALS {
            return Err(internal("block too large".into()));
        }
        let mut tx = app.db.begin().await?;
        if let Some(block) = take(&mut tx, si, want).await? {
            tx.commit().await?;
            let mut ids = Vec::with_capacity(n - out.len());
            for serial in block.next_serial - want..block.next_serial {
                let serial =
                    u32::try_from(serial).map_err(|_| internal("serial out of range".into()))?;
                ids.push(S10::new(si, serial, COUNTRY).map_err(|e| internal(e.to_string()))?);
            }
            if block.wrapped_at.is_some() {
                let mut conn = app.db.conn().await?;
                let used = in_use(&mut conn, &ids).await?;
                ids.retain(|id| !used.contains(id.as_str()));
            }
            out.extend(ids);
            continue;
        }
        // Fewer than `want` serials are left: the few at the end are skipped this round,
        // and the range starts again at 0.
        let now = app.now();
        let c = counter(&mut tx, si)
            .await?
            .ok_or_else(|| internal(format!("the {si} counter vanished")))?;
        if c.next_serial + want > SERIALS {
            if let Some(at) = c.wrapped_at
                && now
                    .checked_sub_months(REUSE_AFTER)
                    .is_none_or(|limit| at > limit)
            {
                return Err(internal(format!(
                    "S10 serials of {si} ran out twice within 24 months (last wrap {at}); \
                     book under another service indicator"
                )));
            }
            if wrap(&mut tx, si, c.next_serial, now).await? {
                tracing::warn!(service_indicator = si, "S10 serials wrapped around to 0");
            }
        }
        tx.commit().await?;
    }
    Ok(out)
}
