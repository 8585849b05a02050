//! pain.001.001.03 (CustomerCreditTransferInitiationV03): a remittance batch for the bank,
//! from ePošta's collection account to the payees.
//!
//! Version .03 (2009): the most widely accepted pain.001 for credit-transfer files (most
//! banks' implementation guides in Europe are written for it), and the one our brief names
//! for Serbian banks; no Serbian bank's guide was found to confirm it (docs/iso20022.md).
//! Later versions (.09 on) rename a few elements (`BIC` → `BICFI`, `ReqdExctnDt` becomes a
//! choice) that older gateways refuse.
//!
//! One `PmtInf` per batch (the debit of the collection account), one `CdtTrfTxInf` per
//! [`Transfer`] (the payments crate makes one per payee account and reference). The batch is
//! checked whole before a byte is written ([`Batch::check`]): the errors name the field.

use std::io::{self, Write};

use crate::account::AccountNumber;
use crate::iso20022::xml::{XmlWriter, creditor_reference, is_xml_char};
use crate::iso20022::{Currency, Date, MAX_AMOUNT, format_amount, is_date_time};
use crate::payment_code::PaymentCode;
use crate::reference::{Model, Reference};

pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03";

/// How accounts are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountForm {
    /// `Id/IBAN`: `RS35` and the 18 digits.
    #[default]
    Iban,
    /// `Id/Othr/Id`: the 18 digits, as domestic payment orders write them.
    Domestic,
}

/// A remittance batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// `GrpHdr/MsgId`: 1 to 35 characters, unique per file (the bank refuses repeats).
    pub message_id: String,
    /// `PmtInf/PmtInfId`: 1 to 35 characters.
    pub payment_info_id: String,
    /// `GrpHdr/CreDtTm`: `xs:dateTime` text (`2026-11-25T18:00:00`).
    pub created: String,
    /// `PmtInf/ReqdExctnDt`.
    pub execution_date: Date,
    /// `GrpHdr/InitgPty/Nm`.
    pub initiator: String,
    /// `PmtInf/Dbtr/Nm`: the holder of the collection account.
    pub debtor_name: String,
    /// `PmtInf/DbtrAcct`: ePošta's collection account.
    pub debtor_account: AccountNumber,
    /// `PmtInf/DbtrAgt/FinInstnId/BIC`; without it the 3-digit bank code of the account is
    /// written as `FinInstnId/Othr/Id`.
    pub debtor_bic: Option<String>,
    /// The currency of every amount.
    pub currency: Currency,
    pub account_form: AccountForm,
    pub transfers: Vec<Transfer>,
}

/// One credit transfer to a payee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// `PmtId/EndToEndId`: 1 to 35 characters; comes back in the payee's statement.
    pub end_to_end_id: String,
    /// `Cdtr/Nm`: 1 to 140 characters, one line.
    pub payee_name: String,
    /// `CdtrAcct`.
    pub payee_account: AccountNumber,
    /// `Amt/InstdAmt`, in hundredths; more than zero.
    pub para: i64,
    /// `Purp/Prtry`: the payment code (šifra plaćanja).
    pub payment_code: Option<PaymentCode>,
    /// Model 97: `RmtInf/Strd/CdtrRefInf` (`Tp/CdOrPrtry/Prtry` = `97`, `Ref` = the number).
    /// Other models: at the start of `RmtInf/Ustrd` (`00 12345`).
    pub reference: Option<Reference>,
    /// `RmtInf/Ustrd` (svrha plaćanja), after a non-97 reference if any; 140 characters in
    /// all.
    pub purpose: Option<String>,
}

/// Why a batch cannot be written. `field` names it as `transfers[3].payee_name`.
#[derive(Debug, thiserror::Error)]
pub enum Pain001Error {
    #[error("{field}: {rule}")]
    Invalid { field: String, rule: &'static str },
    #[error("writing failed: {0}")]
    Io(#[from] io::Error),
}

fn invalid(field: impl Into<String>, rule: &'static str) -> Pain001Error {
    Pain001Error::Invalid {
        field: field.into(),
        rule,
    }
}

/// The two text lengths of the schema (`Max35Text`, `Max140Text`).
#[derive(Clone, Copy)]
enum Max {
    C35,
    C140,
}

/// Checks a required text field: 1 to 35 or 140 characters, not only blanks, XML
/// characters, no line breaks or other control characters.
fn text(field: &dyn Fn() -> String, s: &str, max: Max) -> Result<(), Pain001Error> {
    if s.trim().is_empty() {
        return Err(invalid(field(), "empty"));
    }
    let (limit, rule) = match max {
        Max::C35 => (35, "longer than 35 characters"),
        Max::C140 => (140, "longer than 140 characters"),
    };
    if s.chars().count() > limit {
        return Err(invalid(field(), rule));
    }
    if s.chars().any(|c| c.is_control() || !is_xml_char(c)) {
        return Err(invalid(field(), "control characters are not allowed"));
    }
    Ok(())
}

impl Transfer {
    /// The text of `RmtInf/Ustrd`, if any: a reference that is not model 97, then the purpose.
    pub fn unstructured(&self) -> Option<String> {
        let reference = self
            .reference
            .as_ref()
            .filter(|r| r.model() != Model::M97)
            .map(|r| format!("{:02} {}", r.model().number(), r.reference()));
        match (reference, self.purpose.as_deref()) {
            (Some(r), Some(p)) => Some(format!("{r} {p}")),
            (Some(r), None) => Some(r),
            (None, Some(p)) => Some(p.to_owned()),
            (None, None) => None,
        }
    }

    /// The model-97 reference, written structured.
    pub fn structured(&self) -> Option<&Reference> {
        self.reference.as_ref().filter(|r| r.model() == Model::M97)
    }
}

impl Batch {
    /// Checks every field the schema and ePošta constrain; returns the number of transfers
    /// and their sum in hundredths (`NbOfTxs`, `CtrlSum`).
    pub fn check(&self) -> Result<(u64, i64), Pain001Error> {
        let f = |name: &'static str| move || name.to_owned();
        text(&f("message_id"), &self.message_id, Max::C35)?;
        text(&f("payment_info_id"), &self.payment_info_id, Max::C35)?;
        if !is_date_time(&self.created) {
            return Err(invalid(
                "created",
                "not a date and time (2026-11-25T18:00:00)",
            ));
        }
        text(&f("initiator"), &self.initiator, Max::C140)?;
        text(&f("debtor_name"), &self.debtor_name, Max::C140)?;
        if let Some(bic) = &self.debtor_bic
            && !is_bic(bic)
        {
            return Err(invalid(
                "debtor_bic",
                "not a BIC (8 or 11 letters and digits)",
            ));
        }
        if self.transfers.is_empty() {
            return Err(invalid("transfers", "a batch needs at least one transfer"));
        }
        let mut sum = 0i64;
        for (i, t) in self.transfers.iter().enumerate() {
            let at = |name: &'static str| move || format!("transfers[{i}].{name}");
            text(&at("end_to_end_id"), &t.end_to_end_id, Max::C35)?;
            text(&at("payee_name"), &t.payee_name, Max::C140)?;
            if t.para <= 0 {
                return Err(invalid(at("para")(), "must be more than zero"));
            }
            if t.para > MAX_AMOUNT {
                return Err(invalid(at("para")(), "larger than 9999999999999999.99"));
            }
            if let Some(r) = t.structured() {
                text(&at("reference"), r.reference(), Max::C35)?;
            }
            if let Some(p) = &t.purpose {
                text(&at("purpose"), p, Max::C140)?;
            }
            if let Some(u) = t.unstructured() {
                text(&at("purpose"), &u, Max::C140)?;
            }
            sum = sum
                .checked_add(t.para)
                .filter(|s| *s <= MAX_AMOUNT)
                .ok_or_else(|| {
                    invalid("transfers", "the sum is larger than 9999999999999999.99")
                })?;
        }
        Ok((self.transfers.len() as u64, sum))
    }
}

/// `[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?`, the schema's BIC pattern.
fn is_bic(s: &str) -> bool {
    let b = s.as_bytes();
    let upper_digit = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && (b[6].is_ascii_uppercase() || (b'2'..=b'9').contains(&b[6]))
        && upper_digit(&b[7])
        && b[7] != b'O'
        && b[8..].iter().all(upper_digit)
}

fn account<W: Write>(
    w: &mut XmlWriter<W>,
    tag: &str,
    a: &AccountNumber,
    form: AccountForm,
    currency: Option<Currency>,
) -> io::Result<()> {
    w.open(tag)?;
    w.open("Id")?;
    match form {
        AccountForm::Iban => w.leaf("IBAN", &a.iban())?,
        AccountForm::Domestic => {
            w.open("Othr")?;
            w.leaf("Id", a.as_str())?;
            w.close("Othr")?;
        }
    }
    w.close("Id")?;
    if let Some(c) = currency {
        w.leaf("Ccy", c.as_str())?;
    }
    w.close(tag)
}

/// Checks the batch and writes it as pain.001.001.03 XML (UTF-8). Nothing is written when
/// the batch is refused. Returns `out`.
pub fn write<W: Write>(batch: &Batch, out: W) -> Result<W, Pain001Error> {
    let (count, sum) = batch.check()?;
    let count = count.to_string();
    let sum = format_amount(sum);
    let ccy = batch.currency.as_str();
    let mut w = XmlWriter::new(out)?;
    w.open_attr("Document", Some(("xmlns", NAMESPACE)))?;
    w.open("CstmrCdtTrfInitn")?;
    w.open("GrpHdr")?;
    w.leaf("MsgId", &batch.message_id)?;
    w.leaf("CreDtTm", &batch.created)?;
    w.leaf("NbOfTxs", &count)?;
    w.leaf("CtrlSum", &sum)?;
    w.open("InitgPty")?;
    w.leaf("Nm", &batch.initiator)?;
    w.close("InitgPty")?;
    w.close("GrpHdr")?;

    w.open("PmtInf")?;
    w.leaf("PmtInfId", &batch.payment_info_id)?;
    w.leaf("PmtMtd", "TRF")?;
    w.leaf("BtchBookg", "true")?;
    w.leaf("NbOfTxs", &count)?;
    w.leaf("CtrlSum", &sum)?;
    w.leaf("ReqdExctnDt", &batch.execution_date.to_string())?;
    w.open("Dbtr")?;
    w.leaf("Nm", &batch.debtor_name)?;
    w.close("Dbtr")?;
    account(
        &mut w,
        "DbtrAcct",
        &batch.debtor_account,
        batch.account_form,
        Some(batch.currency),
    )?;
    w.open("DbtrAgt")?;
    w.open("FinInstnId")?;
    match &batch.debtor_bic {
        Some(bic) => w.leaf("BIC", bic)?,
        None => {
            w.open("Othr")?;
            w.leaf("Id", batch.debtor_account.bank())?;
            w.close("Othr")?;
        }
    }
    w.close("FinInstnId")?;
    w.close("DbtrAgt")?;

    for t in &batch.transfers {
        w.open("CdtTrfTxInf")?;
        w.open("PmtId")?;
        w.leaf("EndToEndId", &t.end_to_end_id)?;
        w.close("PmtId")?;
        w.open("Amt")?;
        w.leaf_attr("InstdAmt", Some(("Ccy", ccy)), &format_amount(t.para))?;
        w.close("Amt")?;
        w.open("Cdtr")?;
        w.leaf("Nm", &t.payee_name)?;
        w.close("Cdtr")?;
        account(
            &mut w,
            "CdtrAcct",
            &t.payee_account,
            batch.account_form,
            None,
        )?;
        if let Some(code) = t.payment_code {
            w.open("Purp")?;
            w.leaf("Prtry", &code.to_string())?;
            w.close("Purp")?;
        }
        let unstructured = t.unstructured();
        if unstructured.is_some() || t.structured().is_some() {
            w.open("RmtInf")?;
            w.opt_leaf("Ustrd", unstructured.as_deref())?;
            if let Some(r) = t.structured() {
                creditor_reference(&mut w, r)?;
            }
            w.close("RmtInf")?;
        }
        w.close("CdtTrfTxInf")?;
    }
    w.close("PmtInf")?;
    w.close("CstmrCdtTrfInitn")?;
    w.close("Document")?;
    Ok(w.finish()?)
}
