//! SQL for booked items (`postal_items`). `price_minor` is the total to pay, VAT included;
//! `vat_minor` is the VAT in it; `options` is a JSON array of option names.

use std::fmt;

use chrono::{DateTime, Utc};
use eposta_formats::s10::S10;
use eposta_kernel::db::{Backend, Exec};
use eposta_kernel::money::Money;
use eposta_kernel::{Error, db_run};
use uuid::Uuid;

use crate::domain::{Address, Product, Shipment};
use crate::tariff::Quote;

/// The status of an item booked but not yet handed in.
pub const PRE_TRANSIT: &str = "pre_transit";

/// An item as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub id: Uuid,
    pub tracking_number: String,
    pub booking_code: String,
    pub product: String,
    pub weight_g: i32,
    pub options: String,
    pub cod_minor: Option<i64>,
    pub declared_value_minor: Option<i64>,
    /// The total to pay, VAT included.
    pub price_minor: i64,
    pub vat_minor: i64,
    pub currency: String,
    pub sender_name: String,
    pub sender_street: String,
    pub sender_number: String,
    pub sender_postal_code: String,
    pub sender_place: String,
    pub sender_phone: Option<String>,
    pub recipient_name: String,
    pub recipient_street: String,
    pub recipient_number: String,
    pub recipient_postal_code: String,
    pub recipient_place: String,
    pub recipient_phone: Option<String>,
    pub recipient_email: Option<String>,
    pub status: String,
    pub booked_by_user: Option<Uuid>,
    pub booked_by_organisation: Option<Uuid>,
    pub accepted_office_id: Option<Uuid>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub payment_method: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Names, addresses and phone numbers stay out of `Debug`, so they cannot reach a log line.
impl fmt::Debug for ItemRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemRow")
            .field("id", &self.id)
            .field("tracking_number", &self.tracking_number)
            .field("product", &self.product)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl ItemRow {
    pub fn tracking(&self) -> Option<S10> {
        S10::parse(&self.tracking_number).ok().map(|c| c.id)
    }

    /// `RA 123 456 785 RS`.
    pub fn grouped(&self) -> String {
        self.tracking()
            .map_or_else(|| self.tracking_number.clone(), |id| id.grouped())
    }

    pub fn product(&self) -> Option<Product> {
        Product::parse(&self.product)
    }

    pub fn total(&self) -> Money {
        Money::rsd(self.price_minor)
    }

    pub fn vat(&self) -> Money {
        Money::rsd(self.vat_minor)
    }

    pub fn net(&self) -> Money {
        Money::rsd(self.price_minor - self.vat_minor)
    }

    pub fn option_names(&self) -> Vec<String> {
        serde_json::from_str(&self.options).unwrap_or_default()
    }
}

/// An item to insert.
pub struct NewItem<'a> {
    pub id: Uuid,
    pub tracking_number: S10,
    pub booking_code: String,
    pub shipment: &'a Shipment,
    pub quote: &'a Quote,
    pub booked_by_user: Option<Uuid>,
    pub booked_by_organisation: Option<Uuid>,
}

impl NewItem<'_> {
    /// The row this item becomes.
    pub fn row(&self, now: DateTime<Utc>) -> ItemRow {
        let s = self.shipment;
        let (sender, recipient): (&Address, &Address) = (&s.sender, &s.recipient);
        ItemRow {
            id: self.id,
            tracking_number: self.tracking_number.as_str().to_owned(),
            booking_code: self.booking_code.clone(),
            product: s.item.product.as_str().to_owned(),
            weight_g: i32::try_from(s.item.weight_g).unwrap_or(i32::MAX),
            options: serde_json::to_string(&s.item.option_names()).unwrap_or_else(|_| "[]".into()),
            cod_minor: s.item.options.cash_on_delivery.map(|m| m.minor),
            declared_value_minor: s.item.options.declared_value.map(|m| m.minor),
            price_minor: self.quote.total.minor,
            vat_minor: self.quote.vat.minor,
            currency: self.quote.total.currency.code().to_owned(),
            sender_name: sender.name.clone(),
            sender_street: sender.street.clone(),
            sender_number: sender.number.clone(),
            sender_postal_code: sender.postal_code.clone(),
            sender_place: sender.place.clone(),
            sender_phone: sender.phone.as_ref().map(|p| p.as_str().to_owned()),
            recipient_name: recipient.name.clone(),
            recipient_street: recipient.street.clone(),
            recipient_number: recipient.number.clone(),
            recipient_postal_code: recipient.postal_code.clone(),
            recipient_place: recipient.place.clone(),
            recipient_phone: recipient.phone.as_ref().map(|p| p.as_str().to_owned()),
            recipient_email: recipient.email.as_ref().map(|e| e.as_str().to_owned()),
            status: PRE_TRANSIT.to_owned(),
            booked_by_user: self.booked_by_user,
            booked_by_organisation: self.booked_by_organisation,
            accepted_office_id: None,
            accepted_at: None,
            paid_at: None,
            payment_method: None,
            created_at: now,
            updated_at: now,
        }
    }
}

const INSERTED: &str = "id, tracking_number, booking_code, product, weight_g, options, cod_minor, \
     declared_value_minor, price_minor, vat_minor, currency, sender_name, sender_street, \
     sender_number, sender_postal_code, sender_place, sender_phone, recipient_name, \
     recipient_street, recipient_number, recipient_postal_code, recipient_place, \
     recipient_phone, recipient_email, status, booked_by_user, booked_by_organisation, \
     accepted_office_id, accepted_at, paid_at, payment_method, created_at, updated_at";
const INSERTED_COUNT: usize = 33;

pub(crate) const COLUMNS: &str = INSERTED;

/// Rows per statement on PostgreSQL: 33 parameters each, far below its limit of 65,535;
/// large statements save round trips.
pub const INSERT_BATCH_POSTGRES: usize = 500;
/// Rows per statement on SQLite: it finds each `$N` parameter by a linear search, so binding
/// grows with the square of a statement's size, and there are no round trips to save.
pub const INSERT_BATCH_SQLITE: usize = 10;

/// Inserts rows; returns the ids inserted. A row whose booking code is taken already is
/// skipped (not an error), so the caller can give it another code and try again; any other
/// conflict (a tracking number) is an error.
pub async fn insert_items(c: &mut impl Exec, rows: &[ItemRow]) -> Result<Vec<Uuid>, Error> {
    let mut inserted = Vec::with_capacity(rows.len());
    let size = match c.backend() {
        Backend::Sqlite => INSERT_BATCH_SQLITE,
        Backend::Postgres => INSERT_BATCH_POSTGRES,
    };
    for batch in rows.chunks(size) {
        let values = (0..batch.len())
            .map(|i| {
                let marks = (1..=INSERTED_COUNT)
                    .map(|k| format!("${}", i * INSERTED_COUNT + k))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({marks})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO postal_items ({INSERTED}) VALUES {values} \
             ON CONFLICT (booking_code) DO NOTHING RETURNING id"
        );
        let ids: Vec<Uuid> = db_run!(c, |c| {
            let mut q = sqlx::query_scalar::<_, Uuid>(&sql);
            for r in batch {
                q = q
                    .bind(r.id)
                    .bind(&r.tracking_number)
                    .bind(&r.booking_code)
                    .bind(&r.product)
                    .bind(r.weight_g)
                    .bind(&r.options)
                    .bind(r.cod_minor)
                    .bind(r.declared_value_minor)
                    .bind(r.price_minor)
                    .bind(r.vat_minor)
                    .bind(&r.currency)
                    .bind(&r.sender_name)
                    .bind(&r.sender_street)
                    .bind(&r.sender_number)
                    .bind(&r.sender_postal_code)
                    .bind(&r.sender_place)
                    .bind(&r.sender_phone)
                    .bind(&r.recipient_name)
                    .bind(&r.recipient_street)
                    .bind(&r.recipient_number)
                    .bind(&r.recipient_postal_code)
                    .bind(&r.recipient_place)
                    .bind(&r.recipient_phone)
                    .bind(&r.recipient_email)
                    .bind(&r.status)
                    .bind(r.booked_by_user)
                    .bind(r.booked_by_organisation)
                    .bind(r.accepted_office_id)
                    .bind(r.accepted_at)
                    .bind(r.paid_at)
                    .bind(&r.payment_method)
                    .bind(r.created_at)
                    .bind(r.updated_at);
            }
            q.fetch_all(&mut *c).await
        })?;
        inserted.extend(ids);
    }
    Ok(inserted)
}

async fn one(c: &mut impl Exec, column: &str, value: &str) -> Result<Option<ItemRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM postal_items WHERE {column} = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, ItemRow>(&sql)
        .bind(value)
        .fetch_optional(&mut *c)
        .await)?)
}

pub async fn by_id(c: &mut impl Exec, id: Uuid) -> Result<Option<ItemRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM postal_items WHERE id = $1");
    Ok(db_run!(c, |c| sqlx::query_as::<_, ItemRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// By the canonical identifier (`RA123456785RS`).
pub async fn by_tracking_number(c: &mut impl Exec, id: &S10) -> Result<Option<ItemRow>, Error> {
    one(c, "tracking_number", id.as_str()).await
}

/// By the normalised booking code (`ABCDEFGH`), as the counter looks it up.
pub async fn by_booking_code(c: &mut impl Exec, code: &str) -> Result<Option<ItemRow>, Error> {
    one(c, "booking_code", code).await
}

/// A citizen's items, newest first.
pub async fn list_by_user(
    c: &mut impl Exec,
    user: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Vec<ItemRow>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM postal_items WHERE booked_by_user = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, ItemRow>(&sql)
        .bind(user)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *c)
        .await)?)
}

/// How many items an organisation has booked (tests and the console).
pub async fn count_by_organisation(c: &mut impl Exec, organisation: Uuid) -> Result<i64, Error> {
    Ok(db_run!(c, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM postal_items WHERE booked_by_organisation = $1"
    )
    .bind(organisation)
    .fetch_one(&mut *c)
    .await)?)
}

/// Claims a booking form's submission key for the item about to be inserted, in the booking's
/// transaction. False when the key was claimed before (on PostgreSQL a concurrent claim waits
/// for the other transaction and then finds the key taken).
pub async fn claim_submission(
    c: &mut impl Exec,
    key: &str,
    item: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let changed = db_run!(c, |c| sqlx::query(
        "INSERT INTO booking_submissions (submission_key, item_id, created_at) \
         VALUES ($1, $2, $3) ON CONFLICT (submission_key) DO NOTHING"
    )
    .bind(key)
    .bind(item)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

/// The item booked with a submission key, if any.
pub async fn by_submission(c: &mut impl Exec, key: &str) -> Result<Option<ItemRow>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM postal_items WHERE id = \
         (SELECT item_id FROM booking_submissions WHERE submission_key = $1)"
    );
    Ok(db_run!(c, |c| sqlx::query_as::<_, ItemRow>(&sql)
        .bind(key)
        .fetch_optional(&mut *c)
        .await)?)
}
