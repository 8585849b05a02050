//! Reconciliation (issue #5): a camt.053 statement of ePošta's collection account is read
//! once, and its credits complete the pending IPS payments whose model-97 collection
//! reference and total (amount and fee, what the IPS QR code asked for) they carry.
//! docs/payments-reconciliation.md describes it.
//!
//! - The file is read in one pass by a blocking thread ([`parse`]) while the database
//!   works, in batches of [`parse::BATCH`] entries: one lookup query per batch, one
//!   statement to complete the batch's payments with their history rows, one for the report's
//!   items. Memory does not grow with the file.
//! - Everything happens in one transaction. A statement refused at its last line (a closing
//!   balance that does not add up, a cut-off file) rolls back whatever was applied before:
//!   a broken file changes nothing, and says the line and the reason.
//! - A statement is identified by its account and the bank's `Stmt/Id` (unique per account
//!   in ISO 20022, and the same in a re-downloaded file, whose `MsgId`, creation time and
//!   hash change). A statement seen before is skipped whole; a file all of whose statements
//!   were seen changes nothing and stores nothing ([`Imported::AlreadyImported`]).
//! - Each credit is judged by [`decide::decide`], the rules of
//!   [`crate::complete_by_transfer`] in the same order; the two are tested to agree.

pub mod debits;
pub mod decide;
pub mod pages;
pub mod parse;
pub mod store;

use std::collections::HashMap;
use std::io::Read;

use eposta_formats::iso20022::camt053::Camt053Error;
use eposta_formats::iso20022::format_amount;
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::db::Tx;
use eposta_kernel::ids::new_id;
use eposta_kernel::{App, Error};
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

pub use decide::Outcome;
use decide::{Found, classify, decide};
use parse::{Header, Line, Msg};
use store::{Completion, ItemRow};

use crate::service::transfer::{NotMatched, TransferMatch};
use crate::settings;

/// Where a statement file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `eposta reconcile FILE`.
    Cli,
    /// The admin's upload page.
    Upload,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cli => "cli",
            Source::Upload => "upload",
        }
    }
}

/// Progress of an import, for a progress bar: bytes of the file read, entries applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub bytes: u64,
    pub entries: u64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// The statements were applied; the import's id (its report: [`report`]).
    New(Uuid),
    /// Every statement of the file was imported before (listed with the import that
    /// applied it): nothing changed and nothing was stored.
    AlreadyImported(Vec<SeenStatement>),
}

/// A statement that an earlier import applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenStatement {
    pub account: String,
    pub statement_id: String,
    pub import: Uuid,
}

/// Why an import changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not a statement we can apply: the line and the reason (which names
    /// elements, never parties, so it may be logged).
    #[error("line {line}: {reason}")]
    Refused { line: u64, reason: String },
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<Camt053Error> for ImportError {
    fn from(e: Camt053Error) -> Self {
        ImportError::Refused {
            line: e.line,
            reason: e.reason.to_string(),
        }
    }
}

/// Who imports what.
pub struct Request<'a> {
    pub actor: &'a Actor,
    pub source: Source,
    /// The file's name as given (shown in the list of imports), at most 200 characters kept.
    pub file_name: &'a str,
}

/// Counts and sums per outcome.
#[derive(Debug, Default)]
struct Tally(HashMap<Outcome, (i64, i64)>);

impl Tally {
    fn add(&mut self, o: Outcome, para: i64) {
        let e = self.0.entry(o).or_default();
        e.0 += 1;
        e.1 += para;
    }

    fn rows(&self) -> Vec<(Outcome, i64, i64)> {
        Outcome::ALL
            .into_iter()
            .filter_map(|o| self.0.get(&o).map(|(n, p)| (o, *n, *p)))
            .collect()
    }

    fn get(&self, o: Outcome) -> i64 {
        self.0.get(&o).map_or(0, |(n, _)| *n)
    }
}

/// The statement being applied.
struct Current {
    header: Header,
    account: String,
    /// The import that applied it before, when it is skipped.
    seen: Option<Uuid>,
    entries: i64,
}

/// Imports a camt.053 statement file of the collection account (see the module's notes).
/// `progress` is called after each batch.
pub async fn import<R: Read + Send + 'static>(
    app: &App,
    req: &Request<'_>,
    input: R,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<Imported, ImportError> {
    let collection = settings::collection(&app.config)?;
    let (sender, mut receiver) = mpsc::channel::<Msg>(parse::AHEAD);
    let reading = tokio::task::spawn_blocking(move || parse::read_all(input, &sender));
    let outcome = async {
        let id = new_id();
        let actor = req.actor.to_string();
        let file_name: String = req.file_name.chars().take(200).collect();
        let mut tx: Option<Tx> = None;
        let mut current: Option<Current> = None;
        let mut tally = Tally::default();
        let mut seen: Vec<SeenStatement> = Vec::new();
        let mut new_statements = 0usize;
        let mut done = Progress::default();
        while let Some(msg) = receiver.recv().await {
            match msg {
                Msg::Failed(e) => return Err(e.into()),
                Msg::Statement(h) => {
                    let Some(account) = h.account.filter(|a| *a == collection.account) else {
                        return Err(ImportError::Refused {
                            line: h.line,
                            reason: format!(
                                "Stmt/Acct: the statement is for account {}, not ePošta's collection account {} (EPOSTA_PAYMENTS_COLLECTION_ACCOUNT)",
                                h.account.map_or_else(|| h.account_text.clone(), |a| a.dashed()),
                                collection.account.dashed()
                            ),
                        });
                    };
                    let tx = match &mut tx {
                        Some(t) => t,
                        None => {
                            // The first write takes SQLite's write lock at once.
                            let mut t = app.db.begin().await?;
                            store::insert_import(
                                &mut t,
                                &store::NewImport {
                                    id,
                                    file_name: &file_name,
                                    message_id: &h.message_id,
                                    source: req.source.as_str(),
                                    imported_by: &actor,
                                    at: app.now(),
                                },
                            )
                            .await?;
                            tx.insert(t)
                        }
                    };
                    flush_entries(tx, id, current.as_ref()).await?;
                    let account = account.as_str().to_owned();
                    let earlier =
                        store::claim_statement(tx, id, &account, &h.id, h.created.as_deref())
                            .await?;
                    match earlier {
                        Some(import) => seen.push(SeenStatement {
                            account: account.clone(),
                            statement_id: h.id.clone(),
                            import,
                        }),
                        None => new_statements += 1,
                    }
                    current = Some(Current {
                        header: h,
                        account,
                        seen: earlier,
                        entries: 0,
                    });
                }
                Msg::Lines(lines, bytes) => {
                    let (Some(tx), Some(cur)) = (&mut tx, &mut current) else {
                        return Err(Error::Internal(anyhow::anyhow!(
                            "reconciliation: entries before their statement"
                        ))
                        .into());
                    };
                    apply_batch(app, tx, id, &actor, cur, &lines, &mut tally).await?;
                    done.bytes = bytes;
                    done.entries += lines.len() as u64;
                    progress(done);
                }
                Msg::End { sha256, bytes } => {
                    done.bytes = bytes;
                    progress(done);
                    let Some(mut tx) = tx else {
                        return Err(ImportError::Refused {
                            line: 1,
                            reason: "the file holds no statement".into(),
                        });
                    };
                    if new_statements == 0 {
                        drop(tx);
                        return Ok(Imported::AlreadyImported(seen));
                    }
                    flush_entries(&mut tx, id, current.as_ref()).await?;
                    store::finish_import(&mut tx, id, &sha256, i64::try_from(done.entries).unwrap_or(i64::MAX))
                        .await?;
                    let rows = tally.rows();
                    store::insert_outcomes(&mut tx, id, &rows).await?;
                    let counts: serde_json::Map<String, serde_json::Value> = rows
                        .iter()
                        .map(|(o, n, _)| (o.as_str().to_owned(), json!(n)))
                        .collect();
                    audit::append(
                        &mut tx,
                        app.now(),
                        audit::Entry {
                            actor: req.actor,
                            action: "payments.statement.imported",
                            subject: &format!("statement_import:{id}"),
                            office_id: None,
                            details: json!({
                                "source": req.source.as_str(),
                                "statements": new_statements,
                                "statements_seen": seen.len(),
                                "entries": done.entries,
                                "outcomes": counts,
                            }),
                        },
                    )
                    .await?;
                    tx.commit().await?;
                    tracing::info!(
                        import = %id,
                        entries = done.entries,
                        completed = tally.get(Outcome::Completed),
                        listed = Outcome::ALL.into_iter().filter(|o| o.is_listed()).map(|o| tally.get(o)).sum::<i64>(),
                        "bank statement imported"
                    );
                    return Ok(Imported::New(id));
                }
            }
        }
        Err(Error::Internal(anyhow::anyhow!("reconciliation: the statement reader stopped")).into())
    }
    .await;
    // On an early return the receiver is dropped here, which stops the reading thread.
    drop(receiver);
    let _ = reading.await;
    outcome
}

/// Records the number of entries of the statement read so far.
async fn flush_entries(tx: &mut Tx, import: Uuid, current: Option<&Current>) -> Result<(), Error> {
    if let Some(c) = current.filter(|c| c.seen.is_none() && c.entries > 0) {
        store::count_statement_entries(tx, import, &c.account, &c.header.id, c.entries).await?;
    }
    Ok(())
}

/// Applies one batch of a statement's lines.
async fn apply_batch(
    app: &App,
    tx: &mut Tx,
    import: Uuid,
    actor: &str,
    current: &mut Current,
    lines: &[Line],
    tally: &mut Tally,
) -> Result<(), Error> {
    if current.seen.is_some() {
        for l in lines {
            tally.add(Outcome::StatementSeen, l.para);
        }
        return Ok(());
    }
    current.entries += lines.len() as i64;
    let mut items: Vec<ItemRow> = Vec::new();
    let item = |l: &Line, outcome: Outcome, m: Option<&TransferMatch>| {
        let (payment, expected, state) = match m {
            Some(TransferMatch::AlreadyCompleted { payment }) => (Some(*payment), None, None),
            Some(TransferMatch::NotMatched(NotMatched::AmountMismatch {
                payment,
                expected_para,
            })) => (Some(*payment), Some(*expected_para), None),
            Some(TransferMatch::NotMatched(NotMatched::NotPending { payment, state })) => {
                (Some(*payment), None, Some(state.as_str().to_owned()))
            }
            Some(TransferMatch::NotMatched(NotMatched::BankRefUsed { payment })) => {
                (Some(*payment), None, None)
            }
            _ => (None, None, None),
        };
        ItemRow {
            id: 0,
            line: i64::try_from(l.line).unwrap_or(i64::MAX),
            statement_id: current.header.id.clone(),
            outcome: outcome.as_str().to_owned(),
            amount_para: l.para,
            currency: l.currency.to_string(),
            reference: l.reference.clone(),
            bank_ref: l.bank_ref.clone(),
            booking_date: l.booking_date.map(|d| d.to_string()),
            payment_id: payment,
            expected_para: expected,
            payment_state: state,
        }
    };
    // The credits to match, and the other entries' outcomes.
    let mut credits: Vec<&Line> = Vec::with_capacity(lines.len());
    let mut debits: Vec<&Line> = Vec::new();
    for l in lines {
        match classify(l) {
            Some(Outcome::Debit) if l.booked => debits.push(l),
            Some(o) => {
                tally.add(o, l.para);
                if o.is_listed() {
                    items.push(item(l, o, None));
                }
            }
            None => credits.push(l),
        }
    }
    let references: Vec<&str> = credits
        .iter()
        .filter_map(|l| l.reference.as_deref())
        .filter(|r| r.starts_with("97"))
        .collect();
    let bank_refs: Vec<&str> = credits.iter().map(|l| l.bank_ref.as_str()).collect();
    let mut by_reference: HashMap<String, Found> = HashMap::new();
    let mut by_bank_ref: HashMap<String, Uuid> = HashMap::new();
    if !credits.is_empty() {
        for (found, reference) in store::lookup(tx, &references, &bank_refs).await? {
            if let Some(b) = &found.bank_ref {
                by_bank_ref.insert(b.clone(), found.id);
            }
            if let Some(r) = reference {
                by_reference.insert(r, found);
            }
        }
    }
    let now = app.now();
    let mut completions: Vec<Completion> = Vec::new();
    for l in credits {
        let found = l.reference.as_deref().and_then(|r| by_reference.get_mut(r));
        let used_by = by_bank_ref.get(&l.bank_ref).copied();
        let m = decide(found.as_deref(), used_by, l.para);
        let outcome = Outcome::of(&m);
        tally.add(outcome, l.para);
        if let (TransferMatch::Completed { payment }, Some(p)) = (&m, found) {
            // Later credits of this batch see the payment as completed by this one.
            p.state = crate::domain::State::Succeeded;
            p.bank_ref = Some(l.bank_ref.clone());
            by_bank_ref.insert(l.bank_ref.clone(), *payment);
            completions.push(Completion {
                id: *payment,
                bank_ref: l.bank_ref.clone(),
                payer_account: l.debtor_account,
                detail: json!({
                    "method": "ips",
                    "amount_para": p.amount_para,
                    "refunded_para": 0,
                    "statement_import": import,
                })
                .to_string(),
            });
        } else {
            items.push(item(l, outcome, Some(&m)));
        }
    }
    store::complete(tx, &completions, actor, now).await?;
    store::insert_items(tx, import, &items).await?;
    debits::settle(tx, import, now, &debits, tally).await?;
    Ok(())
}

/// An import's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub import: store::ImportRow,
    pub statements: Vec<store::StatementRow>,
    /// Every outcome with its count and sum (zero when none), in [`Outcome::ALL`]'s order.
    pub outcomes: Vec<(Outcome, i64, i64)>,
}

impl Report {
    pub fn count(&self, o: Outcome) -> i64 {
        self.outcomes
            .iter()
            .find(|(x, _, _)| *x == o)
            .map_or(0, |(_, n, _)| *n)
    }

    /// Credits listed for a person.
    pub fn listed(&self) -> i64 {
        Outcome::ALL
            .into_iter()
            .filter(|o| o.is_listed())
            .map(|o| self.count(o))
            .sum()
    }
}

/// An import's report (404 for an unknown id).
pub async fn report(app: &App, id: Uuid) -> Result<Report, Error> {
    let mut conn = app.db.conn().await?;
    let import = store::import_by_id(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    let statements = store::statements_of(&mut conn, id).await?;
    let stored = store::outcomes_of(&mut conn, id).await?;
    let outcomes = Outcome::ALL
        .into_iter()
        .map(|o| {
            stored
                .iter()
                .find(|(s, _, _)| s == o.as_str())
                .map_or((o, 0, 0), |(_, n, p)| (o, *n, *p))
        })
        .collect();
    Ok(Report {
        import,
        statements,
        outcomes,
    })
}

/// Listed credits of an import, in file order, `limit` after the item `after` (0: first).
pub async fn items(app: &App, id: Uuid, after: i64, limit: i64) -> Result<Vec<ItemRow>, Error> {
    let mut conn = app.db.conn().await?;
    store::items_of(&mut conn, id, after, limit).await
}

/// The latest imports, newest first.
pub async fn recent(app: &App, limit: i64) -> Result<Vec<store::ImportRow>, Error> {
    let mut conn = app.db.conn().await?;
    store::recent_imports(&mut conn, limit).await
}

/// `1025.50 RSD`, for reports.
pub fn amount_text(para: i64, currency: &str) -> String {
    format!("{} {currency}", format_amount(para))
}
