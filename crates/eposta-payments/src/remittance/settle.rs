//! Settlement of remittance batches, the bank's side: a pain.002 status report is matched to
//! the batch its `OrgnlMsgId` names (the batch's message id) and to its transfers by
//! end-to-end id, and the statuses are recorded beside the immutable batches
//! (`remittance_batch_status`, `remittance_transfer_status`, with an append-only history).
//! A rejected transfer makes its payment due again: the next run sends it in a new batch.
//! docs/payments-reconciliation.md, "Settlement", describes it.

use std::collections::{HashMap, HashSet};

use eposta_formats::iso20022::pain002::{self, Status};
use eposta_kernel::App;
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::ids::new_id;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::settle_store::{self as db, Rejection, StatusChange};
use super::status::{Change, Settlement, next};
use crate::reconcile::{ImportError, Source};

/// Who imports which file.
pub struct Request<'a> {
    pub actor: &'a Actor,
    pub source: Source,
    /// The file's name as given, at most 200 characters kept.
    pub file_name: &'a str,
}

/// What a report's transaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxResult {
    /// The transfer's status changed (to a rejection: its payment is due again).
    Changed,
    /// It had that status already.
    Same,
    /// Older news than its status: ignored.
    Older,
    /// Contradicts its final status (rejected after it was paid out, or the reverse):
    /// ignored, for a person to look at.
    Conflict,
    /// No transfer of the batch has this end-to-end id (or the report named no batch of
    /// ours).
    Unknown,
}

impl TxResult {
    pub fn as_str(self) -> &'static str {
        match self {
            TxResult::Changed => "changed",
            TxResult::Same => "same",
            TxResult::Older => "older",
            TxResult::Conflict => "conflict",
            TxResult::Unknown => "unknown",
        }
    }
}

/// One `TxInfAndSts` of the report and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxOutcome {
    pub line: u64,
    pub end_to_end_id: String,
    pub status: Option<Status>,
    pub reason_code: Option<String>,
    pub payment: Option<Uuid>,
    pub result: TxResult,
}

/// What a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub id: Uuid,
    /// The report's `GrpHdr/MsgId`.
    pub message_id: String,
    /// The pain.001 it answers.
    pub original_message_id: String,
    /// The batch it names; none when no batch has that message id (reported, not an error).
    pub batch: Option<Uuid>,
    /// The batch's status after the report, and what the report's own status did to it.
    pub batch_status: Option<Settlement>,
    pub batch_change: Option<Change>,
    pub transactions: Vec<TxOutcome>,
    /// Transfers of the batch the report rejected as a whole (not listed one by one).
    pub rejected_with_batch: usize,
    /// `OrgnlPmtInfId`s that are not the batch's.
    pub unknown_payment_infos: Vec<String>,
}

impl StatusReport {
    pub fn count(&self, r: TxResult) -> usize {
        self.transactions.iter().filter(|t| t.result == r).count()
    }

    /// Payments made due again by this report.
    pub fn rejected(&self) -> usize {
        self.rejected_with_batch
            + self
                .transactions
                .iter()
                .filter(|t| t.result == TxResult::Changed && t.status == Some(Status::Rjct))
                .count()
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusImported {
    New(StatusReport),
    /// A report with this `GrpHdr/MsgId` was read before (that import): nothing changed.
    AlreadyImported(Uuid),
}

/// Reports larger than this are refused (a pain.002 of our largest batch is about 3 MB).
pub const MAX_BYTES: usize = 32 * 1024 * 1024;

/// The first reason's code and its additional information in one line.
fn reason_of(reasons: &[pain002::StatusReason]) -> (Option<String>, Option<String>) {
    let Some(r) = reasons.first() else {
        return (None, None);
    };
    let info = (!r.additional_info.is_empty()).then(|| r.additional_info.join(" "));
    (r.code.clone(), info)
}

/// Whether a group status also says what happened to each transfer.
fn for_each_transfer(s: Status) -> bool {
    s.of_transaction()
}

/// Imports a pain.002 report (see the module's notes). The report is parsed whole first: a
/// broken file changes nothing and says its line and reason.
pub async fn import(
    app: &App,
    req: &Request<'_>,
    bytes: &[u8],
) -> Result<StatusImported, ImportError> {
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::Refused {
            line: 1,
            reason: format!("the file is larger than {} MB", MAX_BYTES / (1024 * 1024)),
        });
    }
    let report = pain002::parse(bytes).map_err(|e| ImportError::Refused {
        line: e.line,
        reason: e.reason,
    })?;
    let sha256 = hex::encode(Sha256::digest(bytes));
    let now = app.now();
    let actor = req.actor.to_string();
    let file_name: String = req.file_name.chars().take(200).collect();

    let mut tx = app.db.begin().await?;
    // Serialised with remittance runs, so that a rejection and a run never cross.
    super::store::lock_runs(&mut tx).await?;
    if let Some((earlier, _)) = db::report_by_message_id(&mut tx, &report.message_id).await? {
        return Ok(StatusImported::AlreadyImported(earlier));
    }
    let id = new_id();
    let found = db::batch_by_message_id(&mut tx, &report.original_message_id).await?;
    let mut out = StatusReport {
        id,
        message_id: report.message_id.clone(),
        original_message_id: report.original_message_id.clone(),
        batch: found.as_ref().map(|(b, _)| *b),
        batch_status: None,
        batch_change: None,
        transactions: Vec::new(),
        rejected_with_batch: 0,
        unknown_payment_infos: Vec::new(),
    };
    let mut changes: Vec<StatusChange> = Vec::new();
    let mut rejections: Vec<Rejection> = Vec::new();

    match found {
        None => {
            for t in report.transactions() {
                out.transactions.push(TxOutcome {
                    line: t.line,
                    end_to_end_id: t.original_end_to_end_id.clone(),
                    status: t.status,
                    reason_code: reason_of(&t.reasons).0,
                    payment: None,
                    result: TxResult::Unknown,
                });
            }
        }
        Some((batch, current)) => {
            let old_batch = current.as_deref().and_then(Settlement::parse);
            // Our pain.001 has one PmtInf, whose id is the message id.
            let (ours, others): (Vec<_>, Vec<_>) = report
                .payment_infos
                .iter()
                .partition(|p| p.original_payment_info_id == report.original_message_id);
            out.unknown_payment_infos = others
                .iter()
                .map(|p| p.original_payment_info_id.clone())
                .collect();
            let info_status = ours.iter().find_map(|p| p.status);
            let batch_news = info_status.or(report.group_status);
            let batch_reasons = ours
                .iter()
                .find(|p| !p.reasons.is_empty())
                .map_or(&report.group_reasons, |p| &p.reasons);
            let (batch_code, batch_info) = reason_of(batch_reasons);
            out.batch_status = old_batch;
            if let Some(news) = batch_news {
                let news = Settlement::Bank(news);
                let change = next(old_batch, news);
                out.batch_change = Some(change);
                if change == Change::Set {
                    out.batch_status = Some(news);
                    changes.push(StatusChange {
                        batch,
                        payment: None,
                        status: news.as_str(),
                        reason_code: batch_code.clone(),
                        reason_info: batch_info.clone(),
                        report: Some(id),
                        statement_import: None,
                    });
                }
            }
            // What a transfer without its own status has: its batch's, when that speaks
            // for every transfer.
            let inherited = old_batch.filter(|s| match s {
                Settlement::Bank(b) => for_each_transfer(*b),
                Settlement::Settled => true,
            });
            let mut transfers: HashMap<String, (db::TransferRow, Option<Settlement>)> =
                db::transfers_of(&mut tx, batch)
                    .await?
                    .into_iter()
                    .map(|t| {
                        let own = t.status.as_deref().and_then(Settlement::parse);
                        (t.end_to_end_id.clone(), (t, own))
                    })
                    .collect();
            let mut listed: HashSet<String> = HashSet::new();
            let mut ctx = Apply {
                batch,
                report: id,
                inherited,
                transfers: &mut transfers,
                changes: &mut changes,
                rejections: &mut rejections,
            };
            for p in &ours {
                for t in &p.transactions {
                    let (code, info) = reason_of(&t.reasons);
                    let news = t
                        .status
                        .or(p.status.filter(|s| for_each_transfer(*s)))
                        .or(report.group_status.filter(|s| for_each_transfer(*s)));
                    let (result, payment) = match news {
                        Some(n) => ctx.apply(
                            &t.original_end_to_end_id,
                            Settlement::Bank(n),
                            code.clone(),
                            info,
                        ),
                        None => (TxResult::Same, ctx.payment_of(&t.original_end_to_end_id)),
                    };
                    listed.insert(t.original_end_to_end_id.clone());
                    out.transactions.push(TxOutcome {
                        line: t.line,
                        end_to_end_id: t.original_end_to_end_id.clone(),
                        status: t.status,
                        reason_code: code,
                        payment,
                        result,
                    });
                }
            }
            for t in others.iter().flat_map(|p| p.transactions.iter()) {
                out.transactions.push(TxOutcome {
                    line: t.line,
                    end_to_end_id: t.original_end_to_end_id.clone(),
                    status: t.status,
                    reason_code: reason_of(&t.reasons).0,
                    payment: None,
                    result: TxResult::Unknown,
                });
            }
            // A batch status that speaks for every transfer reaches those the report did
            // not list: a rejection of the whole batch makes each payment due again; other
            // news moves on those that have a status of their own (the others have the
            // batch's).
            if let Some(news) = batch_news.filter(|s| for_each_transfer(*s))
                && out.batch_change == Some(Change::Set)
            {
                let news = Settlement::Bank(news);
                let mut rest: Vec<String> = ctx
                    .transfers
                    .iter()
                    .filter(|(e2e, (_, own))| {
                        !listed.contains(*e2e) && (own.is_some() || news.is_rejected())
                    })
                    .map(|(e2e, _)| e2e.clone())
                    .collect();
                rest.sort();
                for e2e in rest {
                    let (result, _) = ctx.apply(&e2e, news, batch_code.clone(), batch_info.clone());
                    if result == TxResult::Changed && news.is_rejected() {
                        out.rejected_with_batch += 1;
                    }
                }
            }
        }
    }

    let unknown = i64::try_from(out.count(TxResult::Unknown)).unwrap_or(i64::MAX);
    let changed = i64::try_from(changes.len()).unwrap_or(i64::MAX);
    db::insert_report(
        &mut tx,
        &db::NewReport {
            id,
            message_id: &report.message_id,
            original_message_id: &report.original_message_id,
            batch: out.batch,
            version: &report.version,
            file_name: &file_name,
            file_sha256: &sha256,
            source: req.source.as_str(),
            imported_by: &actor,
            transactions: i64::try_from(out.transactions.len()).unwrap_or(i64::MAX),
            changed,
            unknown,
            at: now,
        },
    )
    .await?;
    db::record(&mut tx, &changes, now).await?;
    db::insert_rejections(&mut tx, &rejections, now).await?;
    audit::append(
        &mut tx,
        now,
        audit::Entry {
            actor: req.actor,
            action: "payments.remittance.status",
            subject: &format!("remittance_status_report:{id}"),
            office_id: None,
            details: json!({
                "source": req.source.as_str(),
                "message_id": report.message_id,
                "original_message_id": report.original_message_id,
                "batch": out.batch,
                "batch_status": out.batch_status.map(Settlement::as_str),
                "transactions": out.transactions.len(),
                "changed": changed,
                "rejected": rejections.len(),
                "unknown": unknown,
                "file_sha256": sha256,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        report = %id,
        batch = ?out.batch,
        changed,
        rejected = rejections.len(),
        unknown,
        "remittance status report imported"
    );
    Ok(StatusImported::New(out))
}

/// Applies news to the transfers of one batch, collecting the changes and rejections.
struct Apply<'a> {
    batch: Uuid,
    report: Uuid,
    /// The batch's status before the report, when it speaks for every transfer.
    inherited: Option<Settlement>,
    /// By end-to-end id: the transfer and its own status.
    transfers: &'a mut HashMap<String, (db::TransferRow, Option<Settlement>)>,
    changes: &'a mut Vec<StatusChange>,
    rejections: &'a mut Vec<Rejection>,
}

impl Apply<'_> {
    fn payment_of(&self, e2e: &str) -> Option<Uuid> {
        self.transfers.get(e2e).map(|(t, _)| t.payment_id)
    }

    fn apply(
        &mut self,
        e2e: &str,
        news: Settlement,
        code: Option<String>,
        info: Option<String>,
    ) -> (TxResult, Option<Uuid>) {
        let Some((t, own)) = self.transfers.get_mut(e2e) else {
            return (TxResult::Unknown, None);
        };
        let result = match next(own.or(self.inherited), news) {
            Change::Set => {
                *own = Some(news);
                self.changes.push(StatusChange {
                    batch: self.batch,
                    payment: Some(t.payment_id),
                    status: news.as_str(),
                    reason_code: code.clone(),
                    reason_info: info,
                    report: Some(self.report),
                    statement_import: None,
                });
                if news.is_rejected() {
                    self.rejections.push(Rejection {
                        batch: self.batch,
                        payment: t.payment_id,
                        end_to_end_id: t.end_to_end_id.clone(),
                        amount_para: t.amount_para,
                        reason_code: code,
                        report: self.report,
                    });
                }
                TxResult::Changed
            }
            Change::Same => TxResult::Same,
            Change::Older => TxResult::Older,
            Change::Conflict => TxResult::Conflict,
        };
        (result, Some(t.payment_id))
    }
}
