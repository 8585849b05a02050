//! The statement being read, as the reader's events fill it: the fields of the current
//! statement, balance, entry and transaction, the checks made when each ends, and the entry
//! that is ready. Independent of the XML reader and of IO.

use super::tags::Tag;
use super::{
    Balance, Camt053Error, CreditorReference, Entry, Reason, Statement, StatementTotals, Status,
};
use crate::iso20022::{
    AccountId, Amount, CreditDebit, Currency, Date, format_amount, is_date_time, parse_amount,
};

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

/// Sets a field that the schema allows once.
fn once<T>(slot: &mut Option<T>, value: T, element: &'static str) -> Result<(), Reason> {
    if slot.is_some() {
        return Err(Reason::Repeated(element));
    }
    *slot = Some(value);
    Ok(())
}

fn invalid(element: &'static str, rule: impl Into<String>) -> Reason {
    Reason::Invalid {
        element,
        rule: rule.into(),
    }
}

fn date(element: &'static str, text: &str, time: bool) -> Result<Date, Reason> {
    let d = if time {
        Date::of_date_time(text).filter(|_| is_date_time(text))
    } else {
        Date::parse(text)
    };
    d.ok_or_else(|| {
        invalid(
            element,
            if time {
                "not a date and time (2026-11-25T10:15:00)"
            } else {
                "not a date (2026-11-25)"
            },
        )
    })
}

fn direction(element: &'static str, text: &str) -> Result<CreditDebit, Reason> {
    CreditDebit::parse(text).ok_or_else(|| invalid(element, "must be CRDT or DBIT"))
}

fn status(text: &str) -> Status {
    match text {
        "BOOK" => Status::Booked,
        "PDNG" => Status::Pending,
        "INFO" => Status::Information,
        _ => Status::Other,
    }
}

fn count(element: &'static str, text: &str) -> Result<u64, Reason> {
    if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(element, "must be 1 to 15 digits"));
    }
    text.parse()
        .map_err(|_| invalid(element, "must be 1 to 15 digits"))
}

fn non_empty(element: &'static str, text: &str) -> Result<String, Reason> {
    if text.is_empty() {
        return Err(invalid(element, "empty"));
    }
    Ok(text.to_owned())
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

    fn grp_hdr(&mut self, rel: &[Tag], text: &str) -> Result<(), Reason> {
        match rel {
            [Tag::MsgId] => once(
                &mut self.message_id,
                non_empty("GrpHdr/MsgId", text)?,
                "GrpHdr/MsgId",
            ),
            [Tag::CreDtTm] if !is_date_time(text) => Err(invalid(
                "GrpHdr/CreDtTm",
                "not a date and time (2026-11-25T10:15:00)",
            )),
            _ => Ok(()),
        }
    }

    fn amount(&mut self, element: &'static str, text: &str) -> Result<Amount, Reason> {
        let currency = match self.ccy.take() {
            None => return Err(invalid(element, "the Ccy attribute is missing")),
            Some(c) => Currency::parse(&c)
                .ok_or_else(|| invalid(element, "Ccy must be three capital letters"))?,
        };
        let para = parse_amount(text).map_err(|e| invalid(element, e.to_string()))?;
        Ok(Amount { para, currency })
    }

    fn statement_field(&mut self, rel: &[Tag], text: &str) -> Result<(), Reason> {
        use Tag::*;
        let Some(s) = self.stmt.as_mut() else {
            return Ok(());
        };
        match rel {
            [Id] => once(&mut s.id, non_empty("Stmt/Id", text)?, "Stmt/Id"),
            [CreDtTm] if !is_date_time(text) => Err(invalid(
                "Stmt/CreDtTm",
                "not a date and time (2026-11-25T10:15:00)",
            )),
            [CreDtTm] => once(&mut s.created, text.to_owned(), "Stmt/CreDtTm"),
            [ElctrncSeqNb] => once(&mut s.sequence, text.to_owned(), "Stmt/ElctrncSeqNb"),
            [Acct, Id, Iban] => once(
                &mut s.account,
                AccountId::Iban(non_empty("Stmt/Acct/Id/IBAN", text)?),
                "Stmt/Acct/Id",
            ),
            [Acct, Id, Othr, Id] => once(
                &mut s.account,
                AccountId::Other(non_empty("Stmt/Acct/Id/Othr/Id", text)?),
                "Stmt/Acct/Id",
            ),
            [Acct, Ccy] => match Currency::parse(text) {
                Some(c) => once(&mut s.currency, c, "Stmt/Acct/Ccy"),
                None => Err(invalid("Stmt/Acct/Ccy", "must be three capital letters")),
            },
            [TxsSummry, TtlNtries, NbOfNtries] => count("TxsSummry/TtlNtries/NbOfNtries", text)
                .and_then(|n| once(&mut s.summary.total, n, "TxsSummry/TtlNtries/NbOfNtries")),
            [TxsSummry, TtlNtries, Sum] => summary_sum("TxsSummry/TtlNtries/Sum", text)
                .and_then(|n| once(&mut s.summary.total_sum, n, "TxsSummry/TtlNtries/Sum")),
            [TxsSummry, TtlCdtNtries, NbOfNtries] => {
                count("TxsSummry/TtlCdtNtries/NbOfNtries", text).and_then(|n| {
                    once(
                        &mut s.summary.credits,
                        n,
                        "TxsSummry/TtlCdtNtries/NbOfNtries",
                    )
                })
            }
            [TxsSummry, TtlCdtNtries, Sum] => summary_sum("TxsSummry/TtlCdtNtries/Sum", text)
                .and_then(|n| once(&mut s.summary.credit_sum, n, "TxsSummry/TtlCdtNtries/Sum")),
            [TxsSummry, TtlDbtNtries, NbOfNtries] => {
                count("TxsSummry/TtlDbtNtries/NbOfNtries", text).and_then(|n| {
                    once(
                        &mut s.summary.debits,
                        n,
                        "TxsSummry/TtlDbtNtries/NbOfNtries",
                    )
                })
            }
            [TxsSummry, TtlDbtNtries, Sum] => summary_sum("TxsSummry/TtlDbtNtries/Sum", text)
                .and_then(|n| once(&mut s.summary.debit_sum, n, "TxsSummry/TtlDbtNtries/Sum")),
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

    fn balance(&mut self, rel: &[Tag], text: &str) -> Result<(), Reason> {
        use Tag::*;
        let amount = match rel {
            [Amt] => Some(self.amount("Bal/Amt", text)?),
            _ => None,
        };
        let Some(b) = self.bal.as_mut() else {
            return Ok(());
        };
        match rel {
            [Amt] => match amount {
                Some(a) => once(&mut b.amount, a, "Bal/Amt"),
                None => Ok(()),
            },
            [Tp, CdOrPrtry, Cd | Prtry] => once(&mut b.code, text.to_owned(), "Bal/Tp/CdOrPrtry"),
            [CdtDbtInd] => direction("Bal/CdtDbtInd", text)
                .and_then(|d| once(&mut b.direction, d, "Bal/CdtDbtInd")),
            [Dt, Dt] => date("Bal/Dt/Dt", text, false).and_then(|d| once(&mut b.date, d, "Bal/Dt")),
            [Dt, DtTm] => {
                date("Bal/Dt/DtTm", text, true).and_then(|d| once(&mut b.date, d, "Bal/Dt"))
            }
            _ => Ok(()),
        }
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

    fn entry(&mut self, rel: &[Tag], text: &str) -> Result<(), Reason> {
        use Tag::*;
        let amount = match rel {
            [Amt] => Some(self.amount("Ntry/Amt", text)?),
            _ => None,
        };
        let Some(n) = self.ntry.as_mut() else {
            return Ok(());
        };
        match rel {
            [Amt] => match amount {
                Some(a) => once(&mut n.amount, a, "Ntry/Amt"),
                None => Ok(()),
            },
            [NtryRef] => once(&mut n.entry_reference, text.to_owned(), "Ntry/NtryRef"),
            [CdtDbtInd] => direction("Ntry/CdtDbtInd", text)
                .and_then(|d| once(&mut n.direction, d, "Ntry/CdtDbtInd")),
            [RvslInd] => match text {
                "true" | "1" => once(&mut n.reversal, true, "Ntry/RvslInd"),
                "false" | "0" => once(&mut n.reversal, false, "Ntry/RvslInd"),
                _ => Err(invalid("Ntry/RvslInd", "must be true or false")),
            },
            // Text up to version .04, a code element from .08 (`Sts/Cd`).
            [Sts] if !text.is_empty() => once(&mut n.status, status(text), "Ntry/Sts"),
            [Sts, Cd | Prtry] => once(&mut n.status, status(text), "Ntry/Sts"),
            [BookgDt, Dt] => date("Ntry/BookgDt/Dt", text, false)
                .and_then(|d| once(&mut n.booking_date, d, "Ntry/BookgDt")),
            [BookgDt, DtTm] => date("Ntry/BookgDt/DtTm", text, true)
                .and_then(|d| once(&mut n.booking_date, d, "Ntry/BookgDt")),
            [ValDt, Dt] => date("Ntry/ValDt/Dt", text, false)
                .and_then(|d| once(&mut n.value_date, d, "Ntry/ValDt")),
            [ValDt, DtTm] => date("Ntry/ValDt/DtTm", text, true)
                .and_then(|d| once(&mut n.value_date, d, "Ntry/ValDt")),
            [AcctSvcrRef] => once(
                &mut n.account_servicer_reference,
                text.to_owned(),
                "Ntry/AcctSvcrRef",
            ),
            [AddtlNtryInf] => once(&mut n.additional_info, text.to_owned(), "Ntry/AddtlNtryInf"),
            _ => Ok(()),
        }
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

    fn transaction(&mut self, rel: &[Tag], text: &str) -> Result<(), Reason> {
        use Tag::*;
        let amount = match rel {
            [Amt] => Some(self.amount("TxDtls/Amt", text)?),
            [AmtDtls, TxAmt, Amt] => Some(self.amount("TxDtls/AmtDtls/TxAmt/Amt", text)?),
            _ => None,
        };
        let Some(t) = self.tx.as_mut() else {
            return Ok(());
        };
        match (rel, amount) {
            ([Amt], Some(a)) => once(&mut t.amount, a, "TxDtls/Amt"),
            ([AmtDtls, TxAmt, Amt], Some(a)) => {
                once(&mut t.tx_amount, a, "TxDtls/AmtDtls/TxAmt/Amt")
            }
            ([CdtDbtInd], _) => direction("TxDtls/CdtDbtInd", text)
                .and_then(|d| once(&mut t.direction, d, "TxDtls/CdtDbtInd")),
            ([Refs, EndToEndId], _) => {
                once(&mut t.end_to_end_id, text.to_owned(), "Refs/EndToEndId")
            }
            ([Refs, AcctSvcrRef], _) => once(
                &mut t.account_servicer_reference,
                text.to_owned(),
                "Refs/AcctSvcrRef",
            ),
            ([RltdPties, Dbtr, Nm] | [RltdPties, Dbtr, Pty, Nm], _) => {
                once(&mut t.debtor_name, text.to_owned(), "RltdPties/Dbtr/Nm")
            }
            ([RltdPties, DbtrAcct, Id, Iban], _) => once(
                &mut t.debtor_account,
                AccountId::Iban(text.to_owned()),
                "RltdPties/DbtrAcct/Id",
            ),
            ([RltdPties, DbtrAcct, Id, Othr, Id], _) => once(
                &mut t.debtor_account,
                AccountId::Other(text.to_owned()),
                "RltdPties/DbtrAcct/Id",
            ),
            ([RmtInf, Ustrd], _) => {
                if t.unstructured.len() < MAX_USTRD {
                    t.unstructured.push(text.to_owned());
                }
                Ok(())
            }
            ([RmtInf, Strd, CdtrRefInf, rest @ ..], _) if !t.reference_done => match rest {
                [Tp, CdOrPrtry, Cd | Prtry] => {
                    once(&mut t.ref_kind, text.to_owned(), "CdtrRefInf/Tp/CdOrPrtry")
                }
                [Tp, Issr] => once(&mut t.ref_issuer, text.to_owned(), "CdtrRefInf/Tp/Issr"),
                [Ref] => once(&mut t.reference, text.to_owned(), "CdtrRefInf/Ref"),
                [] => {
                    if t.reference.is_none() {
                        // A type or issuer without the reference itself: nothing to match.
                        t.ref_kind = None;
                        t.ref_issuer = None;
                    } else {
                        t.reference_done = true;
                    }
                    Ok(())
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        }
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

fn summary_sum(element: &'static str, text: &str) -> Result<i64, Reason> {
    parse_amount(text).map_err(|e| invalid(element, e.to_string()))
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
