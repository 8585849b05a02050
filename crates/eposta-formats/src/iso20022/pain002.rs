//! pain.002 CustomerPaymentStatusReport (version .001.03 and later): the bank's answer to a
//! pain.001 credit-transfer file, read whole into a small [`Report`] (one per pain.001, a
//! few thousand transactions at most; bounded below whatever the input).
//!
//! What is read (docs/iso20022.md, "pain.002"), below `Document/CstmrPmtStsRpt`:
//!
//! - `GrpHdr/MsgId` (required), `GrpHdr/CreDtTm`;
//! - `OrgnlGrpInfAndSts` (exactly once): `OrgnlMsgId` (required), `OrgnlMsgNmId`, `GrpSts`,
//!   `StsRsnInf`;
//! - each `OrgnlPmtInfAndSts`: `OrgnlPmtInfId` (required), `PmtInfSts`, `StsRsnInf`, and
//!   each `TxInfAndSts`: `OrgnlEndToEndId` (required: it is how a transaction is matched),
//!   `TxSts`, `StsRsnInf`;
//! - a `StsRsnInf`: `Rsn/Cd` or `Rsn/Prtry`, and its `AddtlInf` lines.
//!
//! Lenient about the version (any namespace `urn:iso:std:iso:20022:tech:xsd:pain.002.001.NN`
//! from 03, with or without a prefix; elements we do not use are skipped), strict about the
//! structure: what we read must sit where the schema puts it, at most once where the schema
//! says once, and a status must be one of [`Status`]. Errors name the line and the element,
//! never a value that could be a party's data. No DOCTYPE, no entities but XML's five.
//!
//! Source of the structure and the codes: the ISO 20022 message definition of
//! CustomerPaymentStatusReportV03 (`pain.002.001.03.xsd` in the ISO 20022 catalogue,
//! iso20022.org, Payments Initiation): `OriginalGroupInformation20` (`OrgnlGrpInfAndSts`),
//! `OriginalPaymentInformation1` (`OrgnlPmtInfAndSts`), `PaymentTransactionInformation25`
//! (`TxInfAndSts`), `StatusReasonInformation8`; the codes of `TransactionGroupStatus3Code`
//! (ACCP, ACSC, ACSP, ACTC, ACWC, PART, PDNG, RCVD, RJCT) and
//! `TransactionIndividualStatus3Code` (the same without PART and RCVD). Later versions
//! (.10 and on) make the status an external code of the same four letters.

use std::fmt;
use std::io::Read;

use quick_xml::XmlVersion;
use quick_xml::events::Event;

use crate::iso20022::text::LineCounter;

const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.";
const MAX_DEPTH: usize = 64;
const MAX_TEXT: usize = 8 * 1024;
/// Transactions in one report: ten times the largest batch we write.
pub const MAX_TRANSACTIONS: usize = 100_000;
/// Status reasons of one group, payment information or transaction.
const MAX_REASONS: usize = 16;
/// `AddtlInf` lines of one reason.
const MAX_INFO: usize = 16;

/// A payment status (ISO 20022 `TransactionGroupStatus3Code` /
/// `TransactionIndividualStatus3Code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Received (group only).
    Rcvd,
    /// Pending.
    Pdng,
    /// Accepted technical validation.
    Actc,
    /// Accepted customer profile.
    Accp,
    /// Accepted settlement in process.
    Acsp,
    /// Accepted with change.
    Acwc,
    /// Accepted settlement completed (the debtor's account is debited).
    Acsc,
    /// Partially accepted (group and payment information only).
    Part,
    /// Rejected.
    Rjct,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Rcvd,
        Status::Pdng,
        Status::Actc,
        Status::Accp,
        Status::Acsp,
        Status::Acwc,
        Status::Acsc,
        Status::Part,
        Status::Rjct,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Rcvd => "RCVD",
            Status::Pdng => "PDNG",
            Status::Actc => "ACTC",
            Status::Accp => "ACCP",
            Status::Acsp => "ACSP",
            Status::Acwc => "ACWC",
            Status::Acsc => "ACSC",
            Status::Part => "PART",
            Status::Rjct => "RJCT",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.code() == s)
    }

    /// Whether a single transaction may have it (PART and RCVD describe groups).
    pub fn of_transaction(self) -> bool {
        !matches!(self, Status::Part | Status::Rcvd)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a status was given (`StsRsnInf`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusReason {
    /// `Rsn/Cd` (an ISO external code such as `AC01`, `AM04`) or `Rsn/Prtry`.
    pub code: Option<String>,
    /// `AddtlInf`, each line.
    pub additional_info: Vec<String>,
}

/// One `TxInfAndSts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// The line its `TxInfAndSts` starts on.
    pub line: u64,
    pub original_end_to_end_id: String,
    pub status: Option<Status>,
    pub reasons: Vec<StatusReason>,
}

/// One `OrgnlPmtInfAndSts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentInfo {
    pub line: u64,
    pub original_payment_info_id: String,
    pub status: Option<Status>,
    pub reasons: Vec<StatusReason>,
    pub transactions: Vec<Transaction>,
}

/// A status report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The version from the namespace (`001.03`).
    pub version: String,
    /// `GrpHdr/MsgId`: the report's own id.
    pub message_id: String,
    /// `GrpHdr/CreDtTm` as written.
    pub created: Option<String>,
    /// `OrgnlGrpInfAndSts/OrgnlMsgId`: the pain.001's `GrpHdr/MsgId`.
    pub original_message_id: String,
    /// `OrgnlMsgNmId` (`pain.001.001.03`).
    pub original_message_name: Option<String>,
    pub group_status: Option<Status>,
    pub group_reasons: Vec<StatusReason>,
    pub payment_infos: Vec<PaymentInfo>,
}

impl Report {
    /// Every transaction of the report, in file order.
    pub fn transactions(&self) -> impl Iterator<Item = &Transaction> {
        self.payment_infos
            .iter()
            .flat_map(|p| p.transactions.iter())
    }
}

/// Why a report was refused: the line and a reason that names elements, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct Pain002Error {
    pub line: u64,
    pub reason: String,
}

fn err(line: u64, reason: impl Into<String>) -> Pain002Error {
    Pain002Error {
        line,
        reason: reason.into(),
    }
}

/// Whose `StsRsnInf` is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Group,
    PaymentInfo,
    Transaction,
}

struct Parser {
    report: Report,
    stack: Vec<String>,
    text: String,
    root_done: bool,
    group_seen: bool,
    /// Where the open `OrgnlGrpInfAndSts`, `OrgnlPmtInfAndSts`, `TxInfAndSts` started.
    group_line: u64,
    /// Where `GrpHdr` started (0: not seen).
    header_line: u64,
    transactions: usize,
}

/// Reads a whole pain.002 report (see the module's notes).
pub fn parse<R: Read>(input: R) -> Result<Report, Pain002Error> {
    let mut xml = quick_xml::Reader::from_reader(LineCounter::new(input));
    let config = xml.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    config.check_comments = true;
    let mut p = Parser {
        report: Report::default(),
        stack: Vec::with_capacity(16),
        text: String::new(),
        root_done: false,
        group_seen: false,
        group_line: 0,
        header_line: 0,
        transactions: 0,
    };
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        let start = xml.get_ref().position();
        let event = match xml.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                let line = xml.get_ref().line_at(start);
                return Err(err(line, super::xml::describe_error(&e)));
            }
        };
        let line = xml.get_ref().line();
        match event {
            Event::Start(s) => {
                let name = s.name();
                let local = name.local_name().as_ref().to_owned();
                let namespace = if p.stack.is_empty() {
                    let prefix = name.prefix().map(|x| x.as_ref().to_owned());
                    let mut ns = None;
                    for a in s.attributes() {
                        let a = a.map_err(|e| err(line, e.to_string()))?;
                        let key = a.key.as_ref();
                        let is_ns = match &prefix {
                            None => key == "xmlns",
                            Some(px) => key.strip_prefix("xmlns:") == Some(px.as_str()),
                        };
                        if is_ns {
                            let v = a
                                .normalized_value(XmlVersion::Implicit1_0)
                                .map_err(|e| err(line, e.to_string()))?;
                            ns = Some(v.into_owned());
                        }
                    }
                    ns
                } else {
                    None
                };
                p.start(local, namespace, line)?;
            }
            Event::End(_) => p.end(line)?,
            Event::Text(t) => {
                p.push_text(&t.xml10_content(), line)?;
            }
            Event::CData(t) => {
                p.push_text(&t.xml10_content(), line)?;
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err(err(line, "an entity other than the five of XML")),
                    },
                    Err(e) => return Err(err(line, e.to_string())),
                };
                p.push_text(c.encode_utf8(&mut [0; 4]), line)?;
            }
            Event::DocType(_) => return Err(err(line, "a DOCTYPE is not allowed")),
            Event::Eof => {
                if let Some(open) = p.stack.last() {
                    return Err(err(line, format!("the file ends inside {open}: cut off?")));
                }
                if !p.root_done {
                    return Err(err(line, "not a pain.002: no Document element"));
                }
                if !p.group_seen {
                    return Err(err(line, "CstmrPmtStsRpt/OrgnlGrpInfAndSts: missing"));
                }
                if p.header_line == 0 {
                    return Err(err(line, "CstmrPmtStsRpt/GrpHdr: missing"));
                }
                return Ok(p.report);
            }
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
}

/// Sets a value that the schema allows once.
fn once<T>(slot: &mut Option<T>, value: T, line: u64, what: &str) -> Result<(), Pain002Error> {
    if slot.is_some() {
        return Err(err(line, format!("{what}: given twice")));
    }
    *slot = Some(value);
    Ok(())
}

fn once_text(slot: &mut String, value: &str, line: u64, what: &str) -> Result<(), Pain002Error> {
    if !slot.is_empty() {
        return Err(err(line, format!("{what}: given twice")));
    }
    if value.is_empty() {
        return Err(err(line, format!("{what}: empty")));
    }
    if value.chars().count() > 35 {
        return Err(err(line, format!("{what}: longer than 35 characters")));
    }
    *slot = value.to_owned();
    Ok(())
}

fn status(text: &str, line: u64, what: &str, transaction: bool) -> Result<Status, Pain002Error> {
    let Some(s) = Status::parse(text) else {
        let shown = if text.len() == 4 && text.bytes().all(|b| b.is_ascii_uppercase()) {
            format!("`{text}`")
        } else {
            "a value".to_owned()
        };
        return Err(err(
            line,
            format!(
                "{what}: {shown} is not a status we know (ACCP, ACSC, ACSP, ACTC, ACWC, PART, PDNG, RCVD, RJCT)"
            ),
        ));
    };
    if transaction && !s.of_transaction() {
        return Err(err(
            line,
            format!("{what}: {s} is the status of a group, not of a transaction"),
        ));
    }
    Ok(s)
}

/// The path below `Document/CstmrPmtStsRpt`, as local names.
fn below(stack: &[String]) -> Vec<&str> {
    stack.iter().skip(2).map(String::as_str).collect()
}

/// Whose `StsRsnInf` is at the end of `path` (the path of what holds it).
fn owner_of(path: &[&str]) -> Option<Owner> {
    match path {
        ["OrgnlGrpInfAndSts"] => Some(Owner::Group),
        ["OrgnlPmtInfAndSts"] => Some(Owner::PaymentInfo),
        ["OrgnlPmtInfAndSts", "TxInfAndSts"] => Some(Owner::Transaction),
        _ => None,
    }
}

/// The reasons of `owner` (the last one read of its kind).
fn reasons_mut(r: &mut Report, owner: Option<Owner>) -> Option<&mut Vec<StatusReason>> {
    match owner? {
        Owner::Group => Some(&mut r.group_reasons),
        Owner::PaymentInfo => r.payment_infos.last_mut().map(|p| &mut p.reasons),
        Owner::Transaction => r
            .payment_infos
            .last_mut()
            .and_then(|p| p.transactions.last_mut())
            .map(|t| &mut t.reasons),
    }
}

impl Parser {
    fn start(
        &mut self,
        local: String,
        namespace: Option<String>,
        line: u64,
    ) -> Result<(), Pain002Error> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(err(line, format!("nested deeper than {MAX_DEPTH}")));
        }
        self.text.clear();
        match self.stack.len() {
            0 => {
                if self.root_done {
                    return Err(err(line, "a second root element"));
                }
                if local != "Document" {
                    return Err(err(
                        line,
                        "not a pain.002: the root element is not Document",
                    ));
                }
                let ns = namespace.unwrap_or_default();
                let version = ns
                    .strip_prefix(NAMESPACE)
                    .filter(|v| v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit()));
                let Some(version) = version else {
                    let shown: String = ns.chars().take(80).collect();
                    return Err(err(
                        line,
                        format!("not a pain.002: namespace {shown:?}, expected {NAMESPACE}NN"),
                    ));
                };
                if version < "03" {
                    return Err(err(
                        line,
                        format!("pain.002.001.{version} is not read: versions from .03 are"),
                    ));
                }
                self.report.version = format!("001.{version}");
            }
            1 if local != "CstmrPmtStsRpt" => {
                return Err(err(
                    line,
                    "not a pain.002: Document does not hold CstmrPmtStsRpt",
                ));
            }
            _ => {}
        }
        self.stack.push(local);
        let path = below(&self.stack);
        match path.as_slice() {
            ["GrpHdr"] => {
                if self.header_line != 0 {
                    return Err(err(line, "GrpHdr: given twice"));
                }
                self.header_line = line;
            }
            ["OrgnlGrpInfAndSts"] => {
                if self.group_seen {
                    return Err(err(line, "OrgnlGrpInfAndSts: given twice"));
                }
                self.group_seen = true;
                self.group_line = line;
            }
            ["OrgnlPmtInfAndSts"] => {
                if !self.group_seen {
                    return Err(err(line, "OrgnlPmtInfAndSts: before OrgnlGrpInfAndSts"));
                }
                self.report.payment_infos.push(PaymentInfo {
                    line,
                    ..PaymentInfo::default()
                });
            }
            ["OrgnlPmtInfAndSts", "TxInfAndSts"] => {
                self.transactions += 1;
                if self.transactions > MAX_TRANSACTIONS {
                    return Err(err(
                        line,
                        format!("more than {MAX_TRANSACTIONS} TxInfAndSts in one report"),
                    ));
                }
                if let Some(p) = self.report.payment_infos.last_mut() {
                    p.transactions.push(Transaction {
                        line,
                        ..Transaction::default()
                    });
                }
            }
            [.., "StsRsnInf"] => {
                let owner = owner_of(&path[..path.len() - 1]);
                if let Some(list) = reasons_mut(&mut self.report, owner) {
                    if list.len() >= MAX_REASONS {
                        return Err(err(
                            line,
                            format!("StsRsnInf: more than {MAX_REASONS} in one place"),
                        ));
                    }
                    list.push(StatusReason::default());
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn push_text(&mut self, s: &str, line: u64) -> Result<(), Pain002Error> {
        if self.text.is_empty() && s.bytes().all(|b| b.is_ascii_whitespace()) {
            return Ok(());
        }
        if self.stack.is_empty() {
            return Err(err(line, "text outside the root element"));
        }
        if self.text.len() + s.len() > MAX_TEXT {
            return Err(err(
                line,
                format!("an element's text is longer than {MAX_TEXT} bytes"),
            ));
        }
        self.text.push_str(s);
        Ok(())
    }

    fn end(&mut self, line: u64) -> Result<(), Pain002Error> {
        let text = std::mem::take(&mut self.text);
        let text = text.trim();
        let path = below(&self.stack);
        let r = &mut self.report;
        match path.as_slice() {
            ["GrpHdr", "MsgId"] => once_text(&mut r.message_id, text, line, "GrpHdr/MsgId")?,
            ["GrpHdr", "CreDtTm"] => {
                once(&mut r.created, text.to_owned(), line, "GrpHdr/CreDtTm")?;
            }
            ["GrpHdr"] if r.message_id.is_empty() => {
                return Err(err(self.header_line, "GrpHdr/MsgId: missing"));
            }
            ["OrgnlGrpInfAndSts", "OrgnlMsgId"] => once_text(
                &mut r.original_message_id,
                text,
                line,
                "OrgnlGrpInfAndSts/OrgnlMsgId",
            )?,
            ["OrgnlGrpInfAndSts", "OrgnlMsgNmId"] => once(
                &mut r.original_message_name,
                text.chars().take(35).collect(),
                line,
                "OrgnlGrpInfAndSts/OrgnlMsgNmId",
            )?,
            ["OrgnlGrpInfAndSts", "GrpSts"] => {
                let s = status(text, line, "OrgnlGrpInfAndSts/GrpSts", false)?;
                once(&mut r.group_status, s, line, "OrgnlGrpInfAndSts/GrpSts")?;
            }
            ["OrgnlGrpInfAndSts"] if r.original_message_id.is_empty() => {
                return Err(err(
                    self.group_line,
                    "OrgnlGrpInfAndSts/OrgnlMsgId: missing",
                ));
            }
            ["OrgnlPmtInfAndSts", "OrgnlPmtInfId"] => {
                if let Some(p) = r.payment_infos.last_mut() {
                    once_text(
                        &mut p.original_payment_info_id,
                        text,
                        line,
                        "OrgnlPmtInfAndSts/OrgnlPmtInfId",
                    )?;
                }
            }
            ["OrgnlPmtInfAndSts", "PmtInfSts"] => {
                let s = status(text, line, "OrgnlPmtInfAndSts/PmtInfSts", false)?;
                if let Some(p) = r.payment_infos.last_mut() {
                    once(&mut p.status, s, line, "OrgnlPmtInfAndSts/PmtInfSts")?;
                }
            }
            ["OrgnlPmtInfAndSts"] => {
                if let Some(p) = r.payment_infos.last()
                    && p.original_payment_info_id.is_empty()
                {
                    return Err(err(p.line, "OrgnlPmtInfAndSts/OrgnlPmtInfId: missing"));
                }
            }
            ["OrgnlPmtInfAndSts", "TxInfAndSts", "OrgnlEndToEndId"] => {
                if let Some(t) = r
                    .payment_infos
                    .last_mut()
                    .and_then(|p| p.transactions.last_mut())
                {
                    once_text(
                        &mut t.original_end_to_end_id,
                        text,
                        line,
                        "TxInfAndSts/OrgnlEndToEndId",
                    )?;
                }
            }
            ["OrgnlPmtInfAndSts", "TxInfAndSts", "TxSts"] => {
                let s = status(text, line, "TxInfAndSts/TxSts", true)?;
                if let Some(t) = r
                    .payment_infos
                    .last_mut()
                    .and_then(|p| p.transactions.last_mut())
                {
                    once(&mut t.status, s, line, "TxInfAndSts/TxSts")?;
                }
            }
            ["OrgnlPmtInfAndSts", "TxInfAndSts"] => {
                if let Some(t) = r.payment_infos.last().and_then(|p| p.transactions.last())
                    && t.original_end_to_end_id.is_empty()
                {
                    return Err(err(t.line, "TxInfAndSts/OrgnlEndToEndId: missing"));
                }
            }
            [.., "StsRsnInf", "Rsn", kind @ ("Cd" | "Prtry")] => {
                let owner = owner_of(&path[..path.len() - 3]);
                let what = format!("StsRsnInf/Rsn/{kind}");
                if let Some(reason) = reasons_mut(r, owner).and_then(|l| l.last_mut()) {
                    if text.is_empty() || text.chars().count() > 35 {
                        return Err(err(
                            line,
                            format!("{what}: empty or longer than 35 characters"),
                        ));
                    }
                    once(&mut reason.code, text.to_owned(), line, &what)?;
                }
            }
            [.., "StsRsnInf", "AddtlInf"] => {
                let owner = owner_of(&path[..path.len() - 2]);
                if let Some(reason) = reasons_mut(r, owner).and_then(|l| l.last_mut()) {
                    if reason.additional_info.len() >= MAX_INFO {
                        return Err(err(
                            line,
                            format!("StsRsnInf/AddtlInf: more than {MAX_INFO}"),
                        ));
                    }
                    reason
                        .additional_info
                        .push(text.chars().take(105).collect());
                }
            }
            _ => {}
        }
        self.stack.pop();
        if self.stack.is_empty() {
            self.root_done = true;
        }
        Ok(())
    }
}
