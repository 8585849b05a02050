//! A camt.053 writer for tests and benchmarks: one statement of N booked entries, each with
//! one transaction, written as it goes (nothing per entry is kept), with balances and
//! transaction summary that add up. Not a bank: it writes what we read, in the schema's
//! order, so that every generated file is valid against the official XSD of its version.

use std::io::{self, BufWriter, Write};

use crate::account::AccountNumber;
use crate::iso20022::xml::{XmlWriter, creditor_reference};
use crate::iso20022::{CreditDebit, Currency, Date, format_amount};
use crate::reference::Reference;

/// The message version written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// camt.053.001.02 (2009), still the most common.
    V02,
    /// camt.053.001.08 (2019).
    V08,
}

impl Version {
    pub fn namespace(self) -> &'static str {
        match self {
            Version::V02 => "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02",
            Version::V08 => "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
        }
    }
}

/// The statement around the entries.
#[derive(Debug, Clone)]
pub struct StatementSpec {
    pub version: Version,
    pub message_id: String,
    pub statement_id: String,
    /// `xs:dateTime` text (`2026-11-25T18:00:00`).
    pub created: String,
    pub account: AccountNumber,
    /// `Acct/Id/IBAN` (`RS35…`) when true, else `Acct/Id/Othr/Id` with the 18 digits.
    pub iban: bool,
    pub currency: Currency,
    /// Signed hundredths (negative for a debit balance).
    pub opening_para: i64,
    /// The date of the balances and the booking date of every entry.
    pub date: Date,
}

/// One entry and its single transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionSpec {
    pub direction: CreditDebit,
    /// Hundredths, more than zero.
    pub para: i64,
    /// Written as `RmtInf/Strd/CdtrRefInf`: the model as `Tp/CdOrPrtry/Prtry`, the number
    /// as `Ref`.
    pub reference: Option<Reference>,
    /// Written as `RmtInf/Ustrd` (at most 140 characters).
    pub unstructured: Option<String>,
    pub end_to_end_id: Option<String>,
    pub account_servicer_reference: Option<String>,
    pub debtor_name: Option<String>,
    pub debtor_account: Option<AccountNumber>,
    /// Defaults to the statement's date.
    pub value_date: Option<Date>,
}

/// Writes a statement of `count` entries; `entry(i)` gives entry `i` (from 0) and is called
/// twice per entry, once to sum the balances and once to write, so it must give the same
/// entry both times. Returns `out` when done.
pub fn write_statement<W: Write>(
    spec: &StatementSpec,
    count: u64,
    mut entry: impl FnMut(u64) -> TransactionSpec,
    out: W,
) -> io::Result<W> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, what.to_owned());
    let (mut credits, mut credit_sum, mut debits, mut debit_sum) = (0u64, 0i64, 0u64, 0i64);
    for i in 0..count {
        let e = entry(i);
        if e.para <= 0 {
            return Err(invalid("an entry's amount must be more than zero"));
        }
        let (n, sum) = match e.direction {
            CreditDebit::Credit => (&mut credits, &mut credit_sum),
            CreditDebit::Debit => (&mut debits, &mut debit_sum),
        };
        *n += 1;
        *sum = sum
            .checked_add(e.para)
            .ok_or_else(|| invalid("the entries' sum overflows"))?;
    }
    let closing = spec
        .opening_para
        .checked_add(credit_sum)
        .and_then(|c| c.checked_sub(debit_sum))
        .ok_or_else(|| invalid("the closing balance overflows"))?;
    let total = credit_sum
        .checked_add(debit_sum)
        .ok_or_else(|| invalid("the entries' sum overflows"))?;

    let v08 = spec.version == Version::V08;
    let ccy = spec.currency.as_str();
    let date = spec.date.to_string();
    let mut w = XmlWriter::new(BufWriter::with_capacity(256 * 1024, out))?;
    w.open_attr("Document", Some(("xmlns", spec.version.namespace())))?;
    w.open("BkToCstmrStmt")?;
    w.open("GrpHdr")?;
    w.leaf("MsgId", &spec.message_id)?;
    w.leaf("CreDtTm", &spec.created)?;
    w.close("GrpHdr")?;
    w.open("Stmt")?;
    w.leaf("Id", &spec.statement_id)?;
    w.leaf("ElctrncSeqNb", "1")?;
    w.leaf("CreDtTm", &spec.created)?;
    w.open("Acct")?;
    w.open("Id")?;
    if spec.iban {
        w.leaf("IBAN", &spec.account.iban())?;
    } else {
        w.open("Othr")?;
        w.leaf("Id", spec.account.as_str())?;
        w.close("Othr")?;
    }
    w.close("Id")?;
    w.leaf("Ccy", ccy)?;
    w.close("Acct")?;
    for (code, para) in [("OPBD", spec.opening_para), ("CLBD", closing)] {
        w.open("Bal")?;
        w.open("Tp")?;
        w.open("CdOrPrtry")?;
        w.leaf("Cd", code)?;
        w.close("CdOrPrtry")?;
        w.close("Tp")?;
        w.leaf_attr("Amt", Some(("Ccy", ccy)), &format_amount(para.abs()))?;
        let dir = if para < 0 {
            CreditDebit::Debit
        } else {
            CreditDebit::Credit
        };
        w.leaf("CdtDbtInd", dir.code())?;
        w.open("Dt")?;
        w.leaf("Dt", &date)?;
        w.close("Dt")?;
        w.close("Bal")?;
    }
    w.open("TxsSummry")?;
    w.open("TtlNtries")?;
    w.leaf("NbOfNtries", &(credits + debits).to_string())?;
    w.leaf("Sum", &format_amount(total))?;
    w.close("TtlNtries")?;
    for (tag, n, sum) in [
        ("TtlCdtNtries", credits, credit_sum),
        ("TtlDbtNtries", debits, debit_sum),
    ] {
        w.open(tag)?;
        w.leaf("NbOfNtries", &n.to_string())?;
        w.leaf("Sum", &format_amount(sum))?;
        w.close(tag)?;
    }
    w.close("TxsSummry")?;

    let mut number = String::new();
    for i in 0..count {
        let e = entry(i);
        let amount = format_amount(e.para);
        number.clear();
        number.push_str(&(i + 1).to_string());
        w.open("Ntry")?;
        w.leaf("NtryRef", &number)?;
        w.leaf_attr("Amt", Some(("Ccy", ccy)), &amount)?;
        w.leaf("CdtDbtInd", e.direction.code())?;
        if v08 {
            w.open("Sts")?;
            w.leaf("Cd", "BOOK")?;
            w.close("Sts")?;
        } else {
            w.leaf("Sts", "BOOK")?;
        }
        w.open("BookgDt")?;
        w.leaf("Dt", &date)?;
        w.close("BookgDt")?;
        w.open("ValDt")?;
        w.leaf(
            "Dt",
            &e.value_date.map_or_else(|| date.clone(), |d| d.to_string()),
        )?;
        w.close("ValDt")?;
        w.opt_leaf("AcctSvcrRef", e.account_servicer_reference.as_deref())?;
        bank_transaction_code(&mut w, e.direction)?;
        w.open("NtryDtls")?;
        w.open("TxDtls")?;
        if e.end_to_end_id.is_some() || e.account_servicer_reference.is_some() {
            w.open("Refs")?;
            w.opt_leaf("AcctSvcrRef", e.account_servicer_reference.as_deref())?;
            w.opt_leaf("EndToEndId", e.end_to_end_id.as_deref())?;
            w.close("Refs")?;
        }
        if v08 {
            w.leaf_attr("Amt", Some(("Ccy", ccy)), &amount)?;
            w.leaf("CdtDbtInd", e.direction.code())?;
        } else {
            w.open("AmtDtls")?;
            w.open("TxAmt")?;
            w.leaf_attr("Amt", Some(("Ccy", ccy)), &amount)?;
            w.close("TxAmt")?;
            w.close("AmtDtls")?;
        }
        if e.debtor_name.is_some() || e.debtor_account.is_some() {
            w.open("RltdPties")?;
            if let Some(name) = &e.debtor_name {
                w.open("Dbtr")?;
                if v08 {
                    w.open("Pty")?;
                    w.leaf("Nm", name)?;
                    w.close("Pty")?;
                } else {
                    w.leaf("Nm", name)?;
                }
                w.close("Dbtr")?;
            }
            if let Some(account) = &e.debtor_account {
                w.open("DbtrAcct")?;
                w.open("Id")?;
                w.leaf("IBAN", &account.iban())?;
                w.close("Id")?;
                w.close("DbtrAcct")?;
            }
            w.close("RltdPties")?;
        }
        if e.reference.is_some() || e.unstructured.is_some() {
            w.open("RmtInf")?;
            w.opt_leaf("Ustrd", e.unstructured.as_deref())?;
            if let Some(r) = &e.reference {
                creditor_reference(&mut w, r)?;
            }
            w.close("RmtInf")?;
        }
        w.close("TxDtls")?;
        w.close("NtryDtls")?;
        w.close("Ntry")?;
    }
    w.close("Stmt")?;
    w.close("BkToCstmrStmt")?;
    w.close("Document")?;
    w.finish()?
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))
}

/// `BkTxCd`: Payments / received or issued credit transfers / domestic (ISO external code
/// list).
fn bank_transaction_code<W: Write>(w: &mut XmlWriter<W>, dir: CreditDebit) -> io::Result<()> {
    w.open("BkTxCd")?;
    w.open("Domn")?;
    w.leaf("Cd", "PMNT")?;
    w.open("Fmly")?;
    w.leaf(
        "Cd",
        match dir {
            CreditDebit::Credit => "RCDT",
            CreditDebit::Debit => "ICDT",
        },
    )?;
    w.leaf("SubFmlyCd", "DMCT")?;
    w.close("Fmly")?;
    w.close("Domn")?;
    w.close("BkTxCd")
}
