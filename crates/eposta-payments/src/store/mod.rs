//! SQL for payments, their history, refunds and saved payees, written once for both
//! databases with `db_run!`.

pub mod history;
pub mod payees;
pub mod refunds;

use std::fmt;

use chrono::{DateTime, Utc};
use eposta_kernel::db::Exec;
use eposta_kernel::{Error, db_run};
use uuid::Uuid;

use crate::domain::State;

pub use history::{NewEvent, append_events, history, insert_with_history};

/// A payment as stored; see migrations/*/0013_payments.sql for what each column means.
#[derive(Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: Uuid,
    pub confirmation: String,
    pub state: String,
    pub method: String,
    pub channel: String,
    pub owner_kind: String,
    pub owner_user: Option<Uuid>,
    pub owner_organisation: Option<Uuid>,
    pub owner_office: Option<Uuid>,
    pub api_key_id: Option<Uuid>,
    pub payer_name: String,
    pub payer_address: String,
    pub payee_name: String,
    pub payee_address: String,
    pub payee_account: String,
    pub purpose: String,
    pub payment_code: String,
    pub reference: Option<String>,
    pub amount_para: i64,
    pub fee_para: i64,
    pub refunded_para: i64,
    pub currency: String,
    pub provider: Option<String>,
    pub provider_ref: Option<String>,
    pub return_url: Option<String>,
    pub redirect_url: Option<String>,
    pub collection_reference: Option<String>,
    pub bank_ref: Option<String>,
    pub submission_key: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl fmt::Debug for PaymentRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentRow")
            .field("id", &self.id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Binds a row's 33 columns, in the order of [`COLUMNS`], to a query of either backend.
macro_rules! bind_row {
    ($q:expr, $r:expr) => {{
        let r = $r;
        $q.bind(r.id)
            .bind(&r.confirmation)
            .bind(&r.state)
            .bind(&r.method)
            .bind(&r.channel)
            .bind(&r.owner_kind)
            .bind(r.owner_user)
            .bind(r.owner_organisation)
            .bind(r.owner_office)
            .bind(r.api_key_id)
            .bind(&r.payer_name)
            .bind(&r.payer_address)
            .bind(&r.payee_name)
            .bind(&r.payee_address)
            .bind(&r.payee_account)
            .bind(&r.purpose)
            .bind(&r.payment_code)
            .bind(&r.reference)
            .bind(r.amount_para)
            .bind(r.fee_para)
            .bind(r.refunded_para)
            .bind(&r.currency)
            .bind(&r.provider)
            .bind(&r.provider_ref)
            .bind(&r.return_url)
            .bind(&r.redirect_url)
            .bind(&r.collection_reference)
            .bind(&r.bank_ref)
            .bind(&r.submission_key)
            .bind(r.expires_at)
            .bind(r.completed_at)
            .bind(r.created_at)
            .bind(r.updated_at)
    }};
}
pub(crate) use bind_row;

/// Every column, in the order of [`PaymentRow`].
pub const COLUMNS: &str = "id, confirmation, state, method, channel, owner_kind, owner_user, \
     owner_organisation, owner_office, api_key_id, payer_name, payer_address, payee_name, \
     payee_address, payee_account, purpose, payment_code, reference, amount_para, fee_para, \
     refunded_para, currency, provider, provider_ref, return_url, redirect_url, collection_reference, \
     bank_ref, submission_key, expires_at, completed_at, created_at, updated_at";

/// Inserts a payment unless one of its unique values (id, confirmation number, collection
/// reference, submission key) is taken; false then, and nothing is written, so the caller
/// can draw new numbers (or find the payment of the submission) and try again in the same
/// transaction.
pub async fn insert(c: &mut impl Exec, r: &PaymentRow) -> Result<bool, Error> {
    let marks = (1..=33)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO payments ({COLUMNS}) VALUES ({marks}) ON CONFLICT DO NOTHING RETURNING id"
    );
    let id: Option<Uuid> = db_run!(c, |c| bind_row!(sqlx::query_scalar::<_, Uuid>(&sql), r)
        .fetch_optional(&mut *c)
        .await)?;
    Ok(id.is_some())
}

async fn one(c: &mut impl Exec, where_: &str, value: &str) -> Result<Option<PaymentRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE {where_}");
    Ok(db_run!(c, |c| sqlx::query_as::<_, PaymentRow>(&sql)
        .bind(value)
        .fetch_optional(&mut *c)
        .await)?)
}

pub async fn by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<PaymentRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE id = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, PaymentRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// By the confirmation number, as stored (12 characters, no dashes).
pub async fn by_confirmation(c: &mut impl Exec, code: &str) -> Result<Option<PaymentRow>, Error> {
    one(c, "confirmation = $1", code).await
}

/// The payment a web form's submission key made, if any.
pub async fn by_submission(c: &mut impl Exec, key: &str) -> Result<Option<PaymentRow>, Error> {
    one(c, "submission_key = $1", key).await
}

/// By ePošta's collection reference in IPS QR form (`97…`).
pub async fn by_collection_reference(
    c: &mut impl Exec,
    ro: &str,
) -> Result<Option<PaymentRow>, Error> {
    one(c, "collection_reference = $1", ro).await
}

/// By the acquirer's reference of the payment.
pub async fn by_provider_ref(
    c: &mut impl Exec,
    provider: &str,
    provider_ref: &str,
) -> Result<Option<PaymentRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE provider = $1 AND provider_ref = $2");
    Ok(db_run!(c, |c| sqlx::query_as::<_, PaymentRow>(&sql)
        .bind(provider)
        .bind(provider_ref)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Who a list is for.
#[derive(Debug, Clone, Copy)]
pub enum ListOwner {
    User(Uuid),
    Organisation(Uuid),
}

/// A page of someone's payments, newest first.
pub async fn list(
    c: &mut impl Exec,
    owner: ListOwner,
    limit: i64,
    offset: i64,
) -> Result<Vec<PaymentRow>, Error> {
    let (column, id) = match owner {
        ListOwner::User(u) => ("owner_user", u),
        ListOwner::Organisation(o) => ("owner_organisation", o),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE {column} = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, PaymentRow>(&sql)
        .bind(id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *c)
        .await)?)
}

/// What a state change writes besides the state.
#[derive(Debug, Clone, Default)]
pub struct Change<'a> {
    /// Set `completed_at` to now.
    pub completes: bool,
    pub bank_ref: Option<&'a str>,
    /// Added to `refunded_para`.
    pub refunded_para: i64,
}

/// Moves a payment from `from` to `to` if it is still in `from` (compare and set: a
/// concurrent change makes this one write nothing and answer false).
pub async fn set_state(
    c: &mut impl Exec,
    id: Uuid,
    from: State,
    to: State,
    now: DateTime<Utc>,
    change: &Change<'_>,
) -> Result<bool, Error> {
    let n = db_run!(c, |c| sqlx::query(
        "UPDATE payments SET state = $3, updated_at = $4, \
         completed_at = CASE WHEN $5 THEN $4 ELSE completed_at END, \
         bank_ref = COALESCE($6, bank_ref), refunded_para = refunded_para + $7 \
         WHERE id = $1 AND state = $2"
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(now)
    .bind(change.completes)
    .bind(change.bank_ref)
    .bind(change.refunded_para)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Pending payments whose deadline has passed, oldest deadline first.
pub async fn due_to_expire(
    c: &mut impl Exec,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Uuid>, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, Uuid>(
        "SELECT id FROM payments WHERE state = 'pending' AND expires_at <= $1 \
         ORDER BY expires_at LIMIT $2"
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *c)
    .await)?)
}

/// Locks a payment's row until the transaction ends, so that refunds of one payment are
/// checked one after another. PostgreSQL only (`FOR UPDATE`): SQLite has a single writer,
/// so its write transactions are serial already.
pub async fn lock_payment(c: &mut impl Exec, id: Uuid) -> Result<(), Error> {
    if c.backend() == eposta_kernel::db::Backend::Postgres {
        db_run!(c, |c| sqlx::query(
            "SELECT id FROM payments WHERE id = $1 FOR UPDATE"
        )
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

/// The remittance batch that paid the payment out to its payee, if one did.
pub async fn remitted_in(c: &mut impl Exec, id: Uuid) -> Result<Option<Uuid>, Error> {
    let batch: Option<Option<Uuid>> = db_run!(c, |c| sqlx::query_scalar(
        "SELECT remittance_batch FROM payments WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await)?;
    Ok(batch.flatten())
}

/// How many payments there are (tests and benchmarks).
pub async fn count(c: &mut impl Exec) -> Result<i64, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM payments"
    )
    .fetch_one(&mut *c)
    .await)?)
}
