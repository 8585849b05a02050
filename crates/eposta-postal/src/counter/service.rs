//! Acceptance use cases; the only place with the counter's rules and transactions.

use eposta_kernel::audit::{self, Actor};
use eposta_kernel::db::Exec;
use eposta_kernel::money::Money;
use eposta_kernel::offices::store as office_store;
use eposta_kernel::web::principal::SessionUser;
use eposta_kernel::{App, Error, db_run};
use uuid::Uuid;

use crate::booking::service::{Owner, book_one};
use crate::booking::store::{self as item_store, ItemRow, PRE_TRANSIT};
use crate::domain::{Extra, FieldError, ItemSpec, Options, ShipmentInput, parse_booking_code};
use crate::tariff::{Quote, Tariff};
use crate::tracking::service::record_acceptance;

/// How the customer paid at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payment {
    Cash,
    Card,
}

impl Payment {
    pub fn parse(s: &str) -> Result<Payment, Error> {
        match s {
            "cash" => Ok(Payment::Cash),
            "card" => Ok(Payment::Card),
            _ => Err(Error::invalid("payment", "choose cash or card")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Payment::Cash => "cash",
            Payment::Card => "card",
        }
    }
}

/// The clerk's office code; counter work needs one.
pub(crate) async fn office_code(app: &App, user: &SessionUser) -> Result<(Uuid, String), Error> {
    let office = user.office_id.ok_or(Error::Forbidden)?;
    let mut conn = app.db.conn().await?;
    let row = office_store::by_id(&mut conn, office)
        .await?
        .ok_or(Error::Forbidden)?;
    Ok((office, row.code))
}

/// The item with this hand-in code (`ABCD-EFGH`, any case or spacing).
pub async fn find(app: &App, code: &str) -> Result<ItemRow, Error> {
    let code =
        parse_booking_code(code).ok_or_else(|| Error::invalid("code", "not a hand-in code"))?;
    let mut conn = app.db.conn().await?;
    item_store::by_booking_code(&mut conn, &code)
        .await?
        .ok_or(Error::NotFound)
}

/// The price of a booked item at the weight found on the counter's scale.
pub fn reprice(app: &App, item: &ItemRow, weight_g: u32) -> Result<Quote, Error> {
    let product = item.product().ok_or_else(|| {
        Error::Internal(anyhow::anyhow!("item {} has an unknown product", item.id))
    })?;
    let names = item.option_names();
    let has = |e: Extra| names.iter().any(|n| n == e.as_str());
    let spec = ItemSpec {
        product,
        weight_g,
        options: Options {
            cash_on_delivery: item.cod_minor.map(Money::rsd),
            declared_value: item.declared_value_minor.map(Money::rsd),
            delivery_confirmation: has(Extra::DeliveryConfirmation),
            sms_notice: has(Extra::SmsNotice),
        },
    };
    Tariff::configured(&app.config)?
        .quote(&spec)
        .map_err(|errors| {
            let first = errors.into_iter().next();
            Error::invalid(
                "weight_g",
                first.map_or_else(|| "cannot be priced".to_owned(), |e| e.to_string()),
            )
        })
}

/// What the clerk confirms.
pub struct Acceptance<'a> {
    pub code: &'a str,
    pub weight_g: u32,
    pub payment: Payment,
    /// The total the clerk saw and the customer agreed to, in para.
    pub quoted_total: i64,
}

/// The outcome: accepted, or the price changed since the clerk saw it (nothing happened).
pub enum Accepted {
    Done(Uuid),
    PriceChanged(Quote),
}

/// Accepts a booked item at the clerk's office: the weight and price found, the payment, the
/// EMA event and an audit entry, in one transaction. An item accepted before is a conflict.
pub async fn accept(app: &App, user: &SessionUser, a: &Acceptance<'_>) -> Result<Accepted, Error> {
    let (office_id, office) = office_code(app, user).await?;
    let item = find(app, a.code).await?;
    if item.status != PRE_TRANSIT {
        return Err(Error::conflict("this item has been accepted already"));
    }
    let quote = reprice(app, &item, a.weight_g)?;
    if quote.total.minor != a.quoted_total {
        return Ok(Accepted::PriceChanged(quote));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let changed = db_run!(&mut tx, |c| {
        sqlx::query(
        "UPDATE postal_items SET status = 'accepted', weight_g = $2, price_minor = $3, vat_minor = $4, \
         accepted_office_id = $5, accepted_at = $6, paid_at = $6, payment_method = $7, updated_at = $6 \
         WHERE id = $1 AND status = $8"
    )
    .bind(item.id)
    .bind(i32::try_from(a.weight_g).unwrap_or(i32::MAX))
    .bind(quote.total.minor)
    .bind(quote.vat.minor)
    .bind(office_id)
    .bind(now)
    .bind(a.payment.as_str())
    .bind(PRE_TRANSIT)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if changed != 1 {
        // Another counter accepted it between our read and this write.
        return Err(Error::conflict("this item has been accepted already"));
    }
    record_acceptance(
        app,
        &mut tx,
        &item.tracking_number,
        &office,
        now,
        &format!("counter:{office}"),
    )
    .await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: &Actor::User(user.id),
            action: "postal.accepted",
            subject: &format!("item:{}", item.id),
            office_id: Some(office_id),
            details: serde_json::json!({
                "weight_g": a.weight_g,
                "total_minor": quote.total.minor,
                "payment": a.payment.as_str(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(item = %item.id, office = %office, "item accepted at the counter");
    Ok(Accepted::Done(item.id))
}

/// Takes an item that was not booked before: the clerk fills in the booking form with the
/// weight from the scale, the customer pays, and the item is booked, paid and accepted (EMA)
/// at the clerk's office in one transaction. Confirming the same form twice takes it once.
pub async fn take_unbooked(
    app: &App,
    user: &SessionUser,
    input: &ShipmentInput,
    submission: &str,
    payment: Payment,
) -> Result<Result<ItemRow, Vec<FieldError>>, Error> {
    let (office_id, office_code) = office_code(app, user).await?;
    let owner = Owner::Counter {
        clerk: user.id,
        office_id,
        office_code,
        payment: payment.as_str(),
    };
    book_one(app, &owner, input, submission).await
}

/// An item accepted at the clerk's own office, for its receipt; others are "not found".
pub async fn receipt(app: &App, user: &SessionUser, id: Uuid) -> Result<ItemRow, Error> {
    let office = user.office_id.ok_or(Error::Forbidden)?;
    let mut conn = app.db.conn().await?;
    accepted_here(&mut conn, id, office).await
}

async fn accepted_here(c: &mut impl Exec, id: Uuid, office: Uuid) -> Result<ItemRow, Error> {
    item_store::by_id(c, id)
        .await?
        .filter(|r| r.accepted_office_id == Some(office))
        .ok_or(Error::NotFound)
}
