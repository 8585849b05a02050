//! Creating a payment: check the order, price it, hand it to its method, and record it with
//! its first history rows at once.

use chrono::{DateTime, Utc};
use eposta_formats::account::AccountNumber;
use eposta_formats::ips::{IpsFields, IpsQr, Kind};
use eposta_formats::payment_code::PaymentCode;
use eposta_formats::reference::Reference;
use eposta_kernel::audit::Actor;
use eposta_kernel::db::Backend;
use eposta_kernel::ids::new_id;
use eposta_kernel::{App, Error};
use serde_json::json;

use super::{Cause, get};
use crate::domain::codes::{new_collection_reference, new_confirmation};
use crate::domain::{
    Event, FieldError, Method, Owner, PaymentInput, PaymentOrder, Rule, State, parse_order,
};
use crate::fees::{FeeQuote, FeeSchedule};
use crate::model::Payment;
use crate::provider::{self, StartRequest};
use crate::settings;
use crate::store::history::StoredAnswer;
use crate::store::{self, NewEvent, PaymentRow};
use eposta_kernel::web::idempotency::Claimed;

/// How often new numbers are drawn when a confirmation number or collection reference is
/// taken (at 60 and 43 bits, a second draw is already rare).
const DRAWS: usize = 5;

/// A web form's submission key: 32 random lowercase hex digits, carried from the form's fee
/// step to its pay buttons, so that paying twice (a double click, a reload) makes one
/// payment.
pub fn submission_key() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a posted submission key is one [`submission_key`] could have made.
pub fn is_submission_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What the payer does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextAction {
    /// Card: go to the acquirer's hosted page.
    Redirect { url: String },
    /// IPS: pay this QR code from a banking app.
    IpsQr(IpsInstructions),
    /// Nothing: the payment is finished, or waits for nobody.
    None,
}

/// An IPS payment's instructions: the QR code's text (type PT), and the same facts for
/// people who type them into their bank's app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsInstructions {
    /// The NBS IPS QR string.
    pub qr: String,
    pub account: AccountNumber,
    pub name: String,
    /// Model 97 and the payment's unique reference.
    pub reference: Reference,
    pub payment_code: PaymentCode,
    pub total_para: i64,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A recorded payment and what the payer does next.
#[derive(Debug, Clone)]
pub struct Created {
    pub payment: Payment,
    pub next: NextAction,
    /// The API's answer, when [`create_answered`] stored it with the payment.
    pub answer: Option<Vec<u8>>,
}

/// An API answer to store with the payment, in the same statement or transaction, for the
/// kernel's idempotency layer (`web::idempotency::Claimed`): a retry gets exactly this.
pub struct Answer<'a> {
    pub claim: &'a Claimed,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The answer's JSON body for a payment and its next action.
    pub render: &'a RenderAnswer,
}

/// Renders the API's answer for a payment and its next action.
pub type RenderAnswer = dyn Fn(&Payment, &NextAction) -> Result<Vec<u8>, Error> + Send + Sync;

/// The IPS QR code of a pending IPS payment: type PT, ePošta's collection account, the
/// total (amount and fee), the payment code's basis as a non-cash code, the confirmation
/// number as purpose, the MCC, and the payment's collection reference. No personal data.
pub fn ips_instructions(app: &App, p: &Payment) -> Result<Option<IpsInstructions>, Error> {
    let Some(reference) = p.collection_reference.clone() else {
        return Ok(None);
    };
    let c = settings::collection(&app.config)?;
    let code = PaymentCode::parse(&format!("2{:02}", p.payment_code.basis()))
        .map_err(|e| Error::Internal(anyhow::anyhow!("payment code: {e}")))?;
    let mut f = IpsFields::new(Kind::Pt, c.account.as_str(), &c.name, p.total_para());
    f.payment_code = Some(code.to_string());
    f.purpose = Some(format!("ePošta {}", p.confirmation_grouped()));
    f.mcc = Some(c.mcc.clone());
    f.reference = Some(reference.to_string());
    let qr = IpsQr::new(&f)
        .map_err(|e| Error::Internal(anyhow::anyhow!("IPS QR of payment {}: {e}", p.id)))?;
    Ok(Some(IpsInstructions {
        qr: qr.to_string(),
        account: c.account,
        name: c.name,
        reference,
        payment_code: code,
        total_para: p.total_para(),
        expires_at: p.expires_at,
    }))
}

/// What the payer of `p` does next, by its method and state.
pub fn next_action(app: &App, p: &Payment) -> Result<NextAction, Error> {
    if p.state != State::Pending {
        return Ok(NextAction::None);
    }
    Ok(match p.method {
        Method::Card => p
            .redirect_url
            .clone()
            .map_or(NextAction::None, |url| NextAction::Redirect { url }),
        Method::Ips => ips_instructions(app, p)?.map_or(NextAction::None, NextAction::IpsQr),
        Method::Cash => NextAction::None,
    })
}

/// Checks and prices an order without recording it (the form's "show the fee" step).
pub fn quote(
    app: &App,
    owner: Owner,
    input: &PaymentInput,
) -> Result<Result<(PaymentOrder, FeeQuote), Vec<FieldError>>, Error> {
    let fees = FeeSchedule::configured(&app.config)?;
    let order = match parse_order(input, owner.channel()) {
        Ok(o) => o,
        Err(mut errors) => {
            // The amount's band is checked even when other fields are wrong.
            if let Some(m) = Method::parse(input.method.trim())
                && let Some(amount) = input.amount.filter(|a| a.minor > 0)
                && let Err(e) = fees.quote(m, amount.minor)
                && !errors.iter().any(|x| x.field == "amount")
            {
                errors.push(e);
            }
            return Ok(Err(errors));
        }
    };
    let mut errors = Vec::new();
    let fee = match fees.quote(order.method, order.amount_para) {
        Ok(q) => Some(q),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if order.method == Method::Card && provider::card_provider(app).is_none() {
        errors.push(FieldError::new("method", Rule::MethodUnavailable));
    }
    match fee {
        Some(fee) if errors.is_empty() => Ok(Ok((order, fee))),
        _ => Ok(Err(errors)),
    }
}

fn actor_of(owner: Owner) -> Actor {
    match owner {
        Owner::Citizen { user } => Actor::User(user),
        Owner::Organisation { key, .. } => Actor::ApiKey(key),
        Owner::Counter { clerk, .. } => Actor::User(clerk),
    }
}

/// Creates a payment for `owner` and hands it to its method: a card session at the acquirer
/// (pending; the payer goes to its page), an IPS QR code with a fresh collection reference
/// (pending until the transfer shows on a statement), or cash at the counter (succeeded at
/// once). The row and its history (`create`, `start`, and `succeed` for cash) are written
/// at once (the history reaches the audit log through [`super::audit::flush`]). Callers
/// check who the owner is.
///
/// `submission` makes the creation happen once: a web form's key (see [`submission_key`]),
/// or, for the API, the caller's `Idempotency-Key` scoped to its API key (see
/// [`api_submission`]). It is stored with the payment under a unique index, so a second
/// creation with it, at the same time or after a crash, finds the payment of the first
/// (and is refused if its order differs). Forms look for it before doing anything; the API
/// relies on the kernel's idempotency layer for that and on the index for the rest, which
/// keeps its hot path one transaction long.
pub async fn create(
    app: &App,
    owner: Owner,
    input: &PaymentInput,
    submission: Option<&str>,
) -> Result<Result<Created, Vec<FieldError>>, Error> {
    create_answered(app, owner, input, submission, None).await
}

/// [`create`], also storing the API's answer to the request with the payment (see
/// [`Answer`]): the payment and what a retry of its request gets are committed together,
/// and the request costs one statement fewer than when the idempotency layer stores it.
pub async fn create_answered(
    app: &App,
    owner: Owner,
    input: &PaymentInput,
    submission: Option<&str>,
    answer: Option<Answer<'_>>,
) -> Result<Result<Created, Vec<FieldError>>, Error> {
    if let Some(key) = submission
        && !matches!(owner, Owner::Organisation { .. })
    {
        let mut conn = app.db.conn().await?;
        if let Some(row) = store::by_submission(&mut conn, key).await? {
            drop(conn);
            return existing(app, row, owner, None).await.map(Ok);
        }
    }
    let (order, fee) = match quote(app, owner, input)? {
        Ok(q) => q,
        Err(errors) => return Ok(Err(errors)),
    };
    let id = new_id();
    let now = app.now();
    let mut confirmation = new_confirmation();
    let mut row = new_row(id, &confirmation, owner, &order, &fee, submission, now);
    let mut events = vec![Event::Start];
    match order.method {
        Method::Card => {
            let acquirer = provider::card_provider(app).ok_or(Error::Unavailable)?;
            let return_url = match &order.return_url {
                Some(u) => u.clone(),
                None => format!(
                    "{}/payments/{id}/return",
                    app.config.public_url.trim_end_matches('/')
                ),
            };
            // Outside the transaction: a network call in a real acquirer. If the insert
            // below fails, the acquirer's session is never paid and expires there.
            let started = acquirer
                .start(
                    app,
                    StartRequest {
                        payment_id: id,
                        amount_para: fee.total_para(),
                        description: &crate::domain::codes::group_confirmation(&confirmation),
                        return_url: &return_url,
                    },
                )
                .await?;
            row.provider = Some(acquirer.name().to_owned());
            row.provider_ref = Some(started.provider_ref);
            row.redirect_url = Some(started.redirect_url);
            row.return_url = Some(return_url);
            row.expires_at = Some(now + settings::card_deadline(&app.config));
        }
        Method::Ips => {
            row.collection_reference = Some(new_collection_reference().ro());
            row.expires_at = Some(now + settings::ips_deadline(&app.config));
        }
        Method::Cash => {
            events.push(Event::Succeed);
            row.state = State::Succeeded.as_str().to_owned();
            row.completed_at = Some(now);
        }
    }

    let cause = Cause::actor(actor_of(owner));
    let label = cause.label();
    let detail = json!({
        "method": order.method.as_str(),
        "channel": owner.channel().as_str(),
        "amount_para": fee.amount_para,
        "fee_para": fee.fee_para,
    })
    .to_string();
    let mut history = vec![NewEvent {
        payment_id: id,
        event: "create",
        from_state: None,
        to_state: State::Created,
        actor: &label,
        detail,
        at: now,
    }];
    let mut state = State::Created;
    for e in &events {
        let next = crate::domain::transition(state, *e)
            .map_err(|e| Error::Internal(anyhow::anyhow!("creating a payment: {e}")))?;
        history.push(NewEvent {
            payment_id: id,
            event: e.as_str(),
            from_state: Some(state),
            to_state: next,
            actor: &label,
            detail: "{}".into(),
            at: now,
        });
        state = next;
    }
    let mut made = None;
    for _ in 0..DRAWS {
        let payment = Payment::try_from(row.clone())?;
        let next = next_action(app, &payment)?;
        let body = match &answer {
            Some(a) => Some((a.render)(&payment, &next)?),
            None => None,
        };
        let stored = match (&answer, &body) {
            (Some(a), Some(body)) => Some(StoredAnswer {
                claim: a.claim,
                status: i32::from(a.status),
                body,
            }),
            _ => None,
        };
        // One statement on PostgreSQL (autocommit: atomic, and no BEGIN or COMMIT to wait
        // for); a transaction on SQLite (`store::insert_with_history`).
        let inserted = match app.db.backend() {
            Backend::Postgres => {
                let mut c = app.db.autocommit().await?;
                store::insert_with_history(&mut c, &row, &history, stored.as_ref()).await?
            }
            Backend::Sqlite => {
                let mut tx = app.db.begin().await?;
                let done =
                    store::insert_with_history(&mut tx, &row, &history, stored.as_ref()).await?;
                tx.commit().await?;
                done
            }
        };
        if inserted {
            made = Some(Created {
                payment,
                next,
                answer: body,
            });
            break;
        }
        if let Some(key) = submission {
            let mut conn = app.db.conn().await?;
            if let Some(first) = store::by_submission(&mut conn, key).await? {
                // Submitted twice at once (or again after a crash): what the first made.
                drop(conn);
                return existing(app, first, owner, Some(&order)).await.map(Ok);
            }
        }
        confirmation = new_confirmation();
        row.confirmation.clone_from(&confirmation);
        if row.collection_reference.is_some() {
            row.collection_reference = Some(new_collection_reference().ro());
        }
    }
    let Some(made) = made else {
        return Err(Error::Internal(anyhow::anyhow!(
            "no free confirmation number after {DRAWS} draws"
        )));
    };
    tracing::info!(payment = %id, method = %order.method, channel = owner.channel().as_str(), "payment created");
    Ok(Ok(made))
}

/// The API's submission key: the caller's `Idempotency-Key`, scoped to its API key.
pub fn api_submission(key: uuid::Uuid, idempotency_key: &str) -> String {
    format!("api:{key}:{idempotency_key}")
}

/// The payment a submission key made before, if it is the same owner's and (when the new
/// order is known) for the same method, payee account and amount.
async fn existing(
    app: &App,
    row: PaymentRow,
    owner: Owner,
    order: Option<&PaymentOrder>,
) -> Result<Created, Error> {
    let payment = get(app, row.id).await?;
    let same = order.is_none_or(|o| {
        o.method == payment.method
            && o.amount_para == payment.amount_para
            && o.payee_account == payment.payee_account
    });
    if payment.owner != owner || !same {
        let field = match owner {
            Owner::Organisation { .. } => "Idempotency-Key",
            _ => "submission",
        };
        return Err(Error::invalid(
            field,
            "was used for another payment; send it again with a new one",
        ));
    }
    let next = next_action(app, &payment)?;
    Ok(Created {
        payment,
        next,
        answer: None,
    })
}

fn new_row(
    id: uuid::Uuid,
    confirmation: &str,
    owner: Owner,
    o: &PaymentOrder,
    fee: &FeeQuote,
    submission: Option<&str>,
    now: DateTime<Utc>,
) -> PaymentRow {
    let (owner_user, owner_organisation, owner_office, api_key_id) = match owner {
        Owner::Citizen { user } => (Some(user), None, None, None),
        Owner::Organisation { organisation, key } => (None, Some(organisation), None, Some(key)),
        Owner::Counter { clerk, office } => (Some(clerk), None, Some(office), None),
    };
    PaymentRow {
        id,
        confirmation: confirmation.to_owned(),
        state: State::Pending.as_str().to_owned(),
        method: o.method.as_str().to_owned(),
        channel: owner.channel().as_str().to_owned(),
        owner_kind: owner.kind().to_owned(),
        owner_user,
        owner_organisation,
        owner_office,
        api_key_id,
        payer_name: o.payer.name.clone(),
        payer_address: o.payer.address.clone(),
        payee_name: o.payee.name.clone(),
        payee_address: o.payee.address.clone(),
        payee_account: o.payee_account.as_str().to_owned(),
        purpose: o.purpose.clone(),
        payment_code: o.payment_code.to_string(),
        reference: o.reference.as_ref().map(Reference::ro),
        amount_para: fee.amount_para,
        fee_para: fee.fee_para,
        refunded_para: 0,
        currency: "RSD".into(),
        provider: None,
        provider_ref: None,
        return_url: None,
        redirect_url: None,
        collection_reference: None,
        bank_ref: None,
        submission_key: submission.map(str::to_owned),
        expires_at: None,
        completed_at: None,
        created_at: now,
        updated_at: now,
    }
}
