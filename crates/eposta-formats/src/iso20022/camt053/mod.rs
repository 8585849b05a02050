//! camt.053 (BankToCustomerStatement) bank statements, read as a stream: one
//! [`Entry`] per transaction (`Ntry/NtryDtls/TxDtls`, or the `Ntry` itself when it has no
//! details), in memory that does not grow with the file.
//!
//! Lenient about the version, strict about the structure:
//! - any `urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN` namespace is read (.02 to .14 share
//!   what we read; the differences we meet, `Sts` as text or `Sts/Cd`, `Dbtr/Nm` or
//!   `Dbtr/Pty/Nm`, `TxDtls/Amt` or `TxDtls/AmtDtls/TxAmt/Amt`, are all accepted), elements we
//!   do not use are skipped;
//! - what we use must be where the schema puts it, once, and well-formed: amounts exact to
//!   the para, codes from their lists, dates that exist; `GrpHdr/MsgId`, `Stmt/Id`,
//!   `Stmt/Acct/Id`, `Ntry/Amt`, `Ntry/CdtDbtInd` and `Ntry/Sts` are required;
//! - each statement is checked as a whole when it ends: its entries against
//!   `TxsSummry` (counts and sums, when given) and its opening balance plus its booked
//!   entries against its closing balance (when both are given).
//!
//! Every error carries the line it was found on and refuses the rest of the file: the
//! reader stops. Because a problem may sit at the end (a closing balance that does not add
//! up, a cut-off file), apply nothing before the whole file has been read once: [`validate`]
//! is that first pass, and a second [`Reader`] over the same bytes then yields the entries.
//! Neither keeps anything per entry.
//!
//! UTF-8 only (the encoding of every statement we know of); a DOCTYPE and entities other
//! than the five predefined ones and character references are refused.

mod build;
mod read;
mod tags;
#[cfg(test)]
mod tests;
mod write;

pub use read::{Reader, validate};
pub use write::{StatementSpec, TransactionSpec, Version, write_statement};

use crate::iso20022::{AccountId, Amount, CreditDebit, Date};
use crate::reference::{Model, Reference};

/// A statement's header, known before its first entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The position of the statement in the message (`0` for the first `Stmt`).
    pub index: u32,
    /// The line its `Stmt` element starts on.
    pub line: u64,
    /// `Stmt/Id`.
    pub id: String,
    /// `Stmt/CreDtTm`, as written.
    pub created: Option<String>,
    /// `Stmt/ElctrncSeqNb`.
    pub sequence: Option<String>,
    /// `Stmt/Acct/Id`: the account the statement is for.
    pub account: AccountId,
    /// `Stmt/Acct/Ccy`.
    pub currency: Option<crate::iso20022::Currency>,
    /// The first `Bal` with code `OPBD` (or `PRCD`), signed (negative when `DBIT`).
    pub opening_balance: Option<Balance>,
    /// The `Bal` with code `CLBD`, signed.
    pub closing_balance: Option<Balance>,
}

/// A balance: signed hundredths (negative for a debit balance), its currency and date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub para: i64,
    pub currency: crate::iso20022::Currency,
    pub date: Date,
}

/// The status of an entry (`Sts`, or `Sts/Cd` from version .08).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `BOOK`: on the account. Only these move the balance.
    Booked,
    /// `PDNG`.
    Pending,
    /// `INFO`.
    Information,
    /// Another code (from version .08 the list is external and may grow).
    Other,
}

/// `CdtrRefInf`: the structured creditor reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditorReference {
    /// `Tp/CdOrPrtry/Cd` or `Tp/CdOrPrtry/Prtry` (`SCOR`, or a model such as `97`).
    pub kind: Option<String>,
    /// `Issr`.
    pub issuer: Option<String>,
    /// `Ref`.
    pub reference: String,
}

/// One transaction of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The position of its statement in the message ([`Statement::index`]).
    pub statement: u32,
    /// The line its `TxDtls` (or its `Ntry`, when it has no details) starts on.
    pub line: u64,
    /// `CdtDbtInd` of the transaction, else of the entry.
    pub direction: CreditDebit,
    /// `RvslInd`: the entry reverses an earlier one (a `CRDT` reversal undoes a debit).
    pub reversal: bool,
    /// The transaction's amount (`TxDtls/Amt`, `TxDtls/AmtDtls/TxAmt/Amt`), else the
    /// entry's (`Ntry/Amt`, only when the entry has at most one transaction).
    pub amount: Amount,
    pub status: Status,
    /// `BookgDt` (its date part when given as `DtTm`).
    pub booking_date: Option<Date>,
    /// `ValDt`.
    pub value_date: Option<Date>,
    /// `Ntry/NtryRef`.
    pub entry_reference: Option<String>,
    /// The bank's reference: `TxDtls/Refs/AcctSvcrRef`, else `Ntry/AcctSvcrRef`.
    pub account_servicer_reference: Option<String>,
    /// `Refs/EndToEndId`; `NOTPROVIDED` reads as none.
    pub end_to_end_id: Option<String>,
    /// `RmtInf/Strd/CdtrRefInf` (the first one).
    pub creditor_reference: Option<CreditorReference>,
    /// `RmtInf/Ustrd`, every occurrence in order.
    pub unstructured: Vec<String>,
    /// `RltdPties/Dbtr/Nm` (`Dbtr/Pty/Nm` from version .08).
    pub debtor_name: Option<String>,
    /// `RltdPties/DbtrAcct/Id`.
    pub debtor_account: Option<AccountId>,
    /// `Ntry/AddtlNtryInf`, read only for entries without transaction details (it
    /// follows them in the file).
    pub additional_info: Option<String>,
}

impl Entry {
    /// The payment's reference (model and number, "model i poziv na broj") when it is
    /// valid:
    /// 1. from `CdtrRefInf`: a two-digit model in `Tp` and the number in `Ref`, or `Ref`
    ///    holding both (`97 14123412`, `9714123412`);
    /// 2. else from `Ustrd` (then `AddtlNtryInf`): the whole text when it is a reference, or
    ///    a model-97 reference inside it (`Racun 97 14123412`, `po pozivu 9714123412`),
    ///    model 97 only, since its control makes a false find unlikely.
    ///
    /// Which of these forms Serbian banks write is not fixed by any text we have read
    /// (docs/iso20022.md); all are accepted.
    pub fn reference(&self) -> Option<Reference> {
        if let Some(r) = &self.creditor_reference {
            let model = r.kind.as_deref().and_then(Model::parse);
            let found = match model {
                Some(m) => Reference::new(m, &r.reference).ok().or_else(|| {
                    Reference::parse(&r.reference)
                        .ok()
                        .filter(|x| x.model() == m)
                }),
                // No model given apart: only a reference whose control checks (or an explicit
                // 00), so that an invoice number is not taken for one.
                None => Reference::parse(&r.reference)
                    .ok()
                    .filter(|x| x.is_checked() || x.model() == Model::None),
            };
            if found.is_some() {
                return found;
            }
        }
        self.unstructured
            .iter()
            .map(String::as_str)
            .chain(self.additional_info.as_deref())
            .find_map(reference_in_text)
    }
}

/// A reference in free text: the whole (trimmed) text, or a checked model-97 reference
/// among its words (`97` followed by the number, or `97` and the number as one word).
pub fn reference_in_text(text: &str) -> Option<Reference> {
    if let Ok(r) = Reference::parse(text)
        && r.is_checked()
    {
        return Some(r);
    }
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '/'))
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().find_map(|(i, w)| {
        if *w == "97" {
            let next = words.get(i + 1)?;
            Reference::new(Model::M97, next).ok()
        } else if w.len() > 4 && w.starts_with("97") {
            Reference::parse(w).ok().filter(|r| r.model() == Model::M97)
        } else {
            None
        }
    })
}

/// Where a statement is wrong: the line (from 1) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct Camt053Error {
    pub line: u64,
    pub reason: Reason,
}

/// Why a statement is refused. Reasons name elements, never the values of parties.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    #[error("could not read the file: {0}")]
    Io(String),
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("not a camt.053 statement: {0}")]
    NotCamt053(String),
    #[error("{0}: missing")]
    Missing(&'static str),
    #[error("{0}: given twice")]
    Repeated(&'static str),
    #[error("{element}: {rule}")]
    Invalid { element: &'static str, rule: String },
    #[error("elements nested deeper than {0}")]
    TooDeep(usize),
    #[error("text of an element longer than {0} bytes")]
    TooLong(usize),
    #[error("statement {statement}: {rule}")]
    Totals { statement: String, rule: String },
}

/// What a whole statement file holds, from [`validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// `GrpHdr/MsgId`.
    pub message_id: String,
    /// The message version from the namespace (`001.02`, `001.08`).
    pub version: String,
    pub statements: Vec<StatementTotals>,
}

/// Per statement: its header, the number of entries the reader yields, and the sums of
/// the credits and debits among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementTotals {
    pub statement: Statement,
    pub entries: u64,
    pub credits: u64,
    pub credit_para: i64,
    pub debits: u64,
    pub debit_para: i64,
}
