//! The values of the elements the reader uses, checked and stored in the statement,
//! balance, entry or transaction being read: one function per context, one match arm per
//! element path (relative to the context).

use super::super::tags::Tag;
use super::{Builder, MAX_USTRD};
use crate::iso20022::camt053::{Reason, Status};
use crate::iso20022::{AccountId, Amount, CreditDebit, Currency, Date, is_date_time, parse_amount};

impl Builder {
    pub(super) fn grp_hdr(&mut self, rel: &[Tag], text: &str) -> Result<(), Reason> {
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

    pub(super) fn amount(&mut self, element: &'static str, text: &str) -> Result<Amount, Reason> {
        let currency = match self.ccy.take() {
            None => return Err(invalid(element, "the Ccy attribute is missing")),
            Some(c) => Currency::parse(&c)
                .ok_or_else(|| invalid(element, "Ccy must be three capital letters"))?,
        };
        let para = parse_amount(text).map_err(|e| invalid(element, e.to_string()))?;
        Ok(Amount { para, currency })
    }

    pub(super) fn statement_field(&mut self, rel: &[Tag], text: &str) -> Result<(), Reason> {
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

    pub(super) fn balance(&mut self, rel: &[Tag], text: &str) -> Result<(), Reason> {
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

    pub(super) fn entry(&mut self, rel: &[Tag], text: &str) -> Result<(), Reason> {
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

    pub(super) fn transaction(&mut self, rel: &[Tag], text: &str) -> Result<(), Reason> {
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
}

/// Sets a field that the schema allows once.
pub(super) fn once<T>(slot: &mut Option<T>, value: T, element: &'static str) -> Result<(), Reason> {
    if slot.is_some() {
        return Err(Reason::Repeated(element));
    }
    *slot = Some(value);
    Ok(())
}

pub(super) fn invalid(element: &'static str, rule: impl Into<String>) -> Reason {
    Reason::Invalid {
        element,
        rule: rule.into(),
    }
}

pub(super) fn date(element: &'static str, text: &str, time: bool) -> Result<Date, Reason> {
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

pub(super) fn direction(element: &'static str, text: &str) -> Result<CreditDebit, Reason> {
    CreditDebit::parse(text).ok_or_else(|| invalid(element, "must be CRDT or DBIT"))
}

pub(super) fn status(text: &str) -> Status {
    match text {
        "BOOK" => Status::Booked,
        "PDNG" => Status::Pending,
        "INFO" => Status::Information,
        _ => Status::Other,
    }
}

pub(super) fn count(element: &'static str, text: &str) -> Result<u64, Reason> {
    if text.is_empty() || text.len() > 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(element, "must be 1 to 15 digits"));
    }
    text.parse()
        .map_err(|_| invalid(element, "must be 1 to 15 digits"))
}

pub(super) fn non_empty(element: &'static str, text: &str) -> Result<String, Reason> {
    if text.is_empty() {
        return Err(invalid(element, "empty"));
    }
    Ok(text.to_owned())
}

fn summary_sum(element: &'static str, text: &str) -> Result<i64, Reason> {
    parse_amount(text).map_err(|e| invalid(element, e.to_string()))
}
