//! The statement being read, as the reader's events fill it: the fields of the current
//! statement, balance, entry and transaction, the checks made when each ends, and the entry
//! that is ready. Independent of the XML reader and of IO.

mod fields;

use fields::{invalid, once};

use super::tags::Tag;
use super::{
    Balance, Camt053Error, CreditorReference, Entry, Reason, Statement, StatementTotals, Status,
};
use crate::iso20022::{AccountId, Amount, CreditDebit, Currency, Date, format_amount};

/// `RmtInf/Ustrd` kept per transaction (the schema allows any number).
const MAX_USTRD: usize = 16;

#[derive(Default)]
pub(super) struct Builder {
    /// The `Ccy` attribute of the `Amt` element being read.
    pub(super) ccy: Option<String>,
    pub(super) message_id: Option<String>,
    /// Statements finished so far.
    pub(super) statements: u32,
    stmt: Option<StmtAcc>,
    /// The header of the current (or last) statement.
    pub(super) header: Option<Statement>,
    bal: Option<BalAcc>,
    ntry: Option<NtryAcc>,
    tx: Option<TxAcc>,
    pub(super) ready: Option<Entry>,
    /// Totals of finished statements, kept only by `validate`.
    pub(super) totals: Option<Vec<StatementTotals>>,
}

#[derive(Default)]
struct StmtAcc {
    line: u64,
    id: Option<String>,
    created: Option<String>,
    sequence: Option<String>,
    account: Option<AccountId>,
    currency: Option<Currency>,
    opening: Option<Balance>,
    closing: Option<Balance>,
    summary: SummaryAcc,
    /// Counted over `Ntry` elements (what `TxsSummry` counts).
    ntries: Counts,
    /// Counted over the entries the reader yields.
    yielded: Counts,
    booked_net: i64,
    booked_currency: Option<Currency>,
    mixed_currencies: bool,
}

#[derive(Default)]
struct SummaryAcc {
    total: Option<u64>,
    total_sum: Option<i64>,
    credits: Option<u64>,
    credit_sum: Option<i64>,
    debits: Option<u64>,
    debit_sum: Option<i64>,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    credits: u64,
    credit_para: i64,
    debits: u64,
    debit_para: i64,
}

impl Counts {
    fn add(&mut self, direction: CreditDebit, para: i64) -> Option<()> {
        let (n, sum) = match direction {
            CreditDebit::Credit => (&mut self.credits, &mut self.credit_para),
            CreditDebit::Debit => (&mut self.debits, &mut self.debit_para),
        };
        *n += 1;
        *sum = sum.checked_add(para)?;
        Some(())
    }
}

#[derive(Default)]
struct BalAcc {
    line: u64,
    code: Option<String>,
    amount: Option<Amount>,
    direction: Option<CreditDebit>,
    date: Option<Date>,
}

#[derive(Default)]
struct NtryAcc {
    line: u64,
    entry_reference: Option<String>,
    amount: Option<Amount>,
    direction: Option<CreditDebit>,
    reversal: Option<bool>,
    status: Option<Status>,
    booking_date: Option<Date>,
    value_date: Option<Date>,
    account_servicer_reference: Option<String>,
    additional_info: Option<String>,
    transactions: u64,
    /// The first `TxDtls`, when it has no amount of its own: it takes the entry's amount,
    /// which is right only if no second one follows.
    held: Option<TxAcc>,
}

#[derive(Default)]
struct TxAcc {
    line: u64,
    end_to_end_id: Option<String>,
    account_servicer_reference: Option<String>,
    amount: Option<Amount>,
    tx_amount: Option<Amount>,
    direction: Option<CreditDebit>,
    ref_kind: Option<String>,
    ref_issuer: Option<String>,
    reference: Option<String>,
    /// A second `CdtrRefInf` is skipped.
    reference_done: bool,
    unstructured: Vec<String>,
    debtor_name: Option<String>,
    debtor_account: Option<AccountId>,
}

impl Builder {
    /// An element starts at `depth` (its parent is `stack[depth - 1]`).
    pub(super) fn start(&mut self, stack: &[Tag], tag: Tag, line: u64) -> Result<(), Camt053Error> {
        match stack.len() {
            2 if tag == Tag::Stmt => {
                if self.message_id.is_none() {
                    return Err(at(line, Reason::Missing("GrpHdr/MsgId")));
                }
                self.stmt = Some(StmtAcc {
                    line,
                    ..StmtAcc::default()
                });
                self.header = None;
            }
            3 if stack[2] == Tag::Stmt => match tag {
                Tag::Bal => {
                    self.bal = Some(BalAcc {
                        line,
                        ..BalAcc::default()
                    });
                }
                Tag::Ntry => {
                    self.ensure_header()?;
                    self.ntry = Some(NtryAcc {
                        line,
                        ..NtryAcc::default()
                    });
                }
                _ => {}
            },
            5 if tag == Tag::TxDtls && stack[3..] == [Tag::Ntry, Tag::NtryDtls] => {
                let Some(n) = self.ntry.as_mut() else {
                    return Ok(());
                };
                if let Some(held) = &n.held {
                    return Err(at(held.line, several_without_amount()));
                }
                // Read before the details, as the schema orders them.
                for (missing, element) in [
                    (n.amount.is_none(), "Ntry/Amt"),
                    (n.direction.is_none(), "Ntry/CdtDbtInd"),
                    (n.status.is_none(), "Ntry/Sts"),
                ] {
                    if missing {
                        return Err(at(n.line, Reason::Missing(element)));
                    }
                }
                n.transactions += 1;
                self.tx = Some(TxAcc {
                    line,
                    ..TxAcc::default()
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// The element `stack.last()` ends with `text` (trimmed). A fault in its value is
    /// reported with line 0: the reader's current line.
    pub(super) fn end(&mut self, stack: &[Tag], text: &str) -> Result<(), Camt053Error> {
        use Tag::*;
        let field = |r: Result<(), Reason>| r.map_err(|r| at(0, r));
        match stack {
            [Document, BkToCstmrStmt, GrpHdr, rel @ ..] => field(self.grp_hdr(rel, text)),
            [Document, BkToCstmrStmt, Stmt] => self.finish_statement(),
            [Document, BkToCstmrStmt, Stmt, Bal] => self.finish_balance(),
            [Document, BkToCstmrStmt, Stmt, Bal, rel @ ..] => field(self.balance(rel, text)),
            [Document, BkToCstmrStmt, Stmt, Ntry] => self.finish_entry(),
            [Document, BkToCstmrStmt, Stmt, Ntry, NtryDtls, TxDtls] => self.finish_transaction(),
            [
                Document,
                BkToCstmrStmt,
                Stmt,
                Ntry,
                NtryDtls,
                TxDtls,
                rel @ ..,
            ] => field(self.transaction(rel, text)),
            [Document, BkToCstmrStmt, Stmt, Ntry, rel @ ..] => field(self.entry(rel, text)),
            [Document, BkToCstmrStmt, Stmt, rel @ ..] => field(self.statement_field(rel, text)),
            _ => Ok(()),
        }
    }

    /// Builds the statement's header before its first entry (or at its end): what an
    /// entry needs must be known by then.
    fn ensure_header(&mut self) -> Result<(), Camt053Error> {
        if self.header.is_some() {
            return Ok(());
        }
        let Some(s) = self.stmt.as_ref() else {
            return Ok(());
        };
        let (Some(id), Some(account)) = (s.id.clone(), s.account.clone()) else {
            let element = if s.id.is_none() {
                "Stmt/Id"
            } else {
                "Stmt/Acct/Id"
            };
            return Err(at(s.line, Reason::Missing(element)));
        };
        self.header = Some(Statement {
            index: self.statements,
            line: s.line,
            id,
            created: s.created.clone(),
            sequence: s.sequence.clone(),
            account,
            currency: s.currency,
            opening_balance: s.opening,
            closing_balance: s.closing,
        });
        Ok(())
    }

    fn finish_balance(&mut self) -> Result<(), Camt053Error> {
        let Some(b) = self.bal.take() else {
            return Ok(());
        };
        let missing = |e| Err(at(b.line, Reason::Missing(e)));
        let Some(code) = b.code else {
            return missing("Bal/Tp/CdOrPrtry");
        };
        let Some(amount) = b.amount else {
            return missing("Bal/Amt");
        };
        let Some(dir) = b.direction else {
            return missing("Bal/CdtDbtInd");
        };
        let Some(date) = b.date else {
            return missing("Bal/Dt");
        };
        let balance = Balance {
            para: dir.signed(amount.para),
            currency: amount.currency,
            date,
        };
        let Some(s) = self.stmt.as_mut() else {
            return Ok(());
        };
        match code.as_str() {
            "OPBD" | "PRCD" if s.opening.is_none() => s.opening = Some(balance),
            "CLBD" => {
                once(&mut s.closing, balance, "Bal with code CLBD").map_err(|r| at(b.line, r))?
            }
            _ => {}
        }
        Ok(())
    }

    fn finish_entry(&mut self) -> Result<(), Camt053Error> {
        let Some(mut n) = self.ntry.take() else {
            return Ok(());
        };
        let missing = |e| Err(at(n.line, Reason::Missing(e)));
        let Some(amount) = n.amount else {
            return missing("Ntry/Amt");
        };
        let Some(dir) = n.direction else {
            return missing("Ntry/CdtDbtInd");
        };
        let Some(status) = n.status else {
            return missing("Ntry/Sts");
        };
        if let Some(s) = self.stmt.as_mut() {
            let overflow = || {
                at(
                    n.line,
                    Reason::Totals {
                        statement: s.id.clone().unwrap_or_default(),
                        rule: "the sum of the entries overflows".into(),
                    },
                )
            };
            if s.ntries.add(dir, amount.para).is_none() {
                return Err(overflow());
            }
            if status == Status::Booked {
                match s.booked_currency {
                    None => s.booked_currency = Some(amount.currency),
                    Some(c) if c != amount.currency => s.mixed_currencies = true,
                    Some(_) => {}
                }
                s.booked_net = match s.booked_net.checked_add(dir.signed(amount.para)) {
                    Some(v) => v,
                    None => return Err(overflow()),
                };
            }
        }
        if let Some(tx) = n.held.take() {
            let e = build(&n, tx, amount, dir, status);
            return self.emit(e);
        }
        if n.transactions == 0 {
            let e = build(
                &n,
                TxAcc {
                    line: n.line,
                    ..TxAcc::default()
                },
                amount,
                dir,
                status,
            );
            return self.emit(Entry {
                additional_info: n.additional_info.take(),
                ..e
            });
        }
        Ok(())
    }

    fn finish_transaction(&mut self) -> Result<(), Camt053Error> {
        let Some(mut t) = self.tx.take() else {
            return Ok(());
        };
        let Some(n) = self.ntry.as_mut() else {
            return Ok(());
        };
        let Some(amount) = t.amount.or(t.tx_amount) else {
            if n.transactions == 1 {
                n.held = Some(t);
                return Ok(());
            }
            return Err(at(t.line, several_without_amount()));
        };
        t.amount = Some(amount);
        // Checked before the details began.
        let (Some(dir), Some(status)) = (n.direction, n.status) else {
            return Err(at(n.line, Reason::Missing("Ntry/CdtDbtInd")));
        };
        let e = build(n, t, amount, dir, status);
        self.emit(e)
    }

    fn emit(&mut self, entry: Entry) -> Result<(), Camt053Error> {
        if let Some(s) = self.stmt.as_mut()
            && s.yielded.add(entry.direction, entry.amount.para).is_none()
        {
            return Err(at(
                entry.line,
                Reason::Totals {
                    statement: s.id.clone().unwrap_or_default(),
                    rule: "the sum of the entries overflows".into(),
                },
            ));
        }
        self.ready = Some(entry);
        Ok(())
    }

    fn finish_statement(&mut self) -> Result<(), Camt053Error> {
        self.ensure_header()?;
        let Some(s) = self.stmt.take() else {
            return Ok(());
        };
        let statement = s.id.clone().unwrap_or_default();
        let fail = |rule: String| {
            Err(at(
                s.line,
                Reason::Totals {
                    statement: statement.clone(),
                    rule,
                },
            ))
        };
        let n = s.ntries;
        let sum = n.credit_para.checked_add(n.debit_para);
        let checks = [
            (
                "TxsSummry/TtlNtries/NbOfNtries",
                s.summary.total.map(|v| v as i128),
                Some((n.credits + n.debits) as i128),
            ),
            (
                "TxsSummry/TtlNtries/Sum",
                s.summary.total_sum.map(i128::from),
                sum.map(i128::from),
            ),
            (
                "TxsSummry/TtlCdtNtries/NbOfNtries",
                s.summary.credits.map(|v| v as i128),
                Some(n.credits as i128),
            ),
            (
                "TxsSummry/TtlCdtNtries/Sum",
                s.summary.credit_sum.map(i128::from),
                Some(n.credit_para as i128),
            ),
            (
                "TxsSummry/TtlDbtNtries/NbOfNtries",
                s.summary.debits.map(|v| v as i128),
                Some(n.debits as i128),
            ),
            (
                "TxsSummry/TtlDbtNtries/Sum",
                s.summary.debit_sum.map(i128::from),
                Some(n.debit_para as i128),
            ),
        ];
        for (element, stated, counted) in checks {
            if let Some(stated) = stated
                && Some(stated) != counted
            {
                return fail(format!(
                    "{element} says {stated}, the entries give {}",
                    counted.map_or("more than fits".to_owned(), |c| c.to_string())
                ));
            }
        }
        if let (Some(open), Some(close)) = (s.opening, s.closing) {
            if open.currency != close.currency
                || s.mixed_currencies
                || s.booked_currency.is_some_and(|c| c != open.currency)
            {
                return fail("the balances and the booked entries are not in one currency".into());
            }
            if i128::from(open.para) + i128::from(s.booked_net) != i128::from(close.para) {
                return fail(format!(
                    "opening balance {} plus the booked entries {} is not the closing balance {}",
                    format_amount(open.para),
                    format_amount(s.booked_net),
                    format_amount(close.para),
                ));
            }
        }
        if let (Some(totals), Some(header)) = (self.totals.as_mut(), self.header.as_ref()) {
            let y = s.yielded;
            totals.push(StatementTotals {
                statement: header.clone(),
                entries: y.credits + y.debits,
                credits: y.credits,
                credit_para: y.credit_para,
                debits: y.debits,
                debit_para: y.debit_para,
            });
        }
        self.statements += 1;
        Ok(())
    }
}

fn several_without_amount() -> Reason {
    invalid(
        "TxDtls/Amt",
        "missing, and the entry has more than one TxDtls to share its amount",
    )
}

pub(super) fn at(line: u64, reason: Reason) -> Camt053Error {
    Camt053Error { line, reason }
}

pub(super) fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// One entry of an `Ntry` and one of its transactions (or an empty one).
fn build(n: &NtryAcc, t: TxAcc, amount: Amount, dir: CreditDebit, status: Status) -> Entry {
    Entry {
        statement: 0,
        line: t.line,
        direction: t.direction.unwrap_or(dir),
        reversal: n.reversal.unwrap_or(false),
        amount,
        status,
        booking_date: n.booking_date,
        value_date: n.value_date,
        entry_reference: n.entry_reference.clone(),
        account_servicer_reference: t
            .account_servicer_reference
            .or_else(|| n.account_servicer_reference.clone()),
        end_to_end_id: t
            .end_to_end_id
            .filter(|id| id != "NOTPROVIDED" && !id.is_empty()),
        creditor_reference: t.reference.map(|reference| CreditorReference {
            kind: t.ref_kind,
            issuer: t.ref_issuer,
            reference,
        }),
        unstructured: t.unstructured,
        debtor_name: t.debtor_name,
        debtor_account: t.debtor_account,
        additional_info: None,
    }
}
