//! The test acquirer's card sessions. In a real installation these would be the acquirer's
//! rows, in the acquirer's database; here they share ours.

use chrono::{DateTime, Utc};
use eposta_kernel::{App, Error, db_run, jobs};

use super::pages::NotifyMerchant;

/// A card session: one payment at the acquirer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    /// Random, unguessable: the hosted page's address.
    pub id: String,
    /// ePošta's payment id.
    pub merchant_ref: String,
    pub amount_para: i64,
    pub description: String,
    pub return_url: String,
    /// `open`, `challenge`, `succeeded`, `declined`, `cancelled`.
    pub state: String,
    pub decline_reason: Option<String>,
    pub card_last4: Option<String>,
    pub refunded_para: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, merchant_ref, amount_para, description, return_url, state, \
     decline_reason, card_last4, refunded_para, created_at, updated_at";

/// Opens a session, or returns the one already open for the same payment.
pub async fn insert_or_get(app: &App, s: &Session) -> Result<Session, Error> {
    let mut tx = app.db.begin().await?;
    let sql = format!(
        "INSERT INTO test_acquirer_sessions ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (merchant_ref) DO NOTHING"
    );
    db_run!(&mut tx, |c| sqlx::query(&sql)
        .bind(&s.id)
        .bind(&s.merchant_ref)
        .bind(s.amount_para)
        .bind(&s.description)
        .bind(&s.return_url)
        .bind(&s.state)
        .bind(&s.decline_reason)
        .bind(&s.card_last4)
        .bind(s.refunded_para)
        .bind(s.created_at)
        .bind(s.updated_at)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    let sql = format!("SELECT {COLUMNS} FROM test_acquirer_sessions WHERE merchant_ref = $1");
    let row = db_run!(&mut tx, |c| sqlx::query_as::<_, Session>(&sql)
        .bind(&s.merchant_ref)
        .fetch_one(&mut *c)
        .await)?;
    tx.commit().await?;
    Ok(row)
}

pub async fn get(app: &App, id: &str) -> Result<Option<Session>, Error> {
    let mut conn = app.db.conn().await?;
    let sql = format!("SELECT {COLUMNS} FROM test_acquirer_sessions WHERE id = $1");
    Ok(db_run!(&mut conn, |c| sqlx::query_as::<_, Session>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Moves a session from one of `from` to `to` (with the decline reason and the card's last
/// four digits); when `notify`, queues the signed notification to ePošta in the same
/// transaction. False if the session was in none of `from`.
pub async fn finish(
    app: &App,
    id: &str,
    from: &[&str],
    to: &str,
    reason: Option<&str>,
    last4: Option<&str>,
    notify: bool,
) -> Result<bool, Error> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let marks = (0..from.len())
        .map(|i| format!("${}", i + 6))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE test_acquirer_sessions SET state = $2, decline_reason = $3, \
         card_last4 = COALESCE($4, card_last4), updated_at = $5 \
         WHERE id = $1 AND state IN ({marks})"
    );
    let n = db_run!(&mut tx, |c| {
        let mut q = sqlx::query(&sql)
            .bind(id)
            .bind(to)
            .bind(reason)
            .bind(last4)
            .bind(now);
        for f in from {
            q = q.bind(*f);
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    if n == 1 && notify {
        jobs::enqueue(
            &mut tx,
            now,
            &NotifyMerchant {
                session: id.to_owned(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n == 1)
}

/// Records a refund of `amount` if the session succeeded and that much is left.
pub async fn refund(app: &App, id: &str, amount: i64) -> Result<bool, Error> {
    let mut tx = app.db.begin().await?;
    let n = db_run!(&mut tx, |c| sqlx::query(
        "UPDATE test_acquirer_sessions SET refunded_para = refunded_para + $2, updated_at = $3 \
         WHERE id = $1 AND state = 'succeeded' AND $2 > 0 AND refunded_para + $2 <= amount_para"
    )
    .bind(id)
    .bind(amount)
    .bind(app.now())
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n == 1)
}
