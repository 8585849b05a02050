//! The reading side of an import: a blocking thread reads the statement file once with the
//! streaming camt.053 reader and sends what matching needs, in batches, over a bounded
//! channel, so the file is parsed on one core while the database works on the other, and
//! at most a few batches are held in memory whatever the size of the file.

use std::io::Read;

use eposta_formats::account::AccountNumber;
use eposta_formats::iso20022::camt053::{Camt053Error, Entry, Reader, Statement, Status};
use eposta_formats::iso20022::{AccountId, CreditDebit, Currency, Date};
use eposta_formats::reference::Model;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::service::transfer::MAX_BANK_REF;

/// Entries per batch: one lookup query of at most this many references.
pub const BATCH: usize = 1000;
/// Batches read ahead of the database.
pub const AHEAD: usize = 4;

/// A statement's header, sent before its first entry.
#[derive(Debug, Clone)]
pub struct Header {
    pub index: u32,
    pub line: u64,
    pub message_id: String,
    pub id: String,
    pub created: Option<String>,
    /// The account as written (IBAN or `Othr/Id`), for messages.
    pub account_text: String,
    /// The Serbian account it names, if any.
    pub account: Option<AccountNumber>,
}

/// One transaction of the statement, as matching needs it. No names of payers; the payer's
/// account only to keep it for a completed payment's refund (never logged or reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub line: u64,
    pub direction: CreditDebit,
    pub reversal: bool,
    pub booked: bool,
    pub para: i64,
    pub currency: Currency,
    /// A model-97 reference in IPS form (`97…`), or another model's as `NN…`; none when
    /// the entry carries no valid reference.
    pub reference: Option<String>,
    /// The bank's reference of the transaction ([`bank_ref`]).
    pub bank_ref: String,
    pub booking_date: Option<Date>,
    /// For a debit only (none for credits, so that they cost nothing): what may name the
    /// remittance transfer or batch it pays out (`reconcile::debits`).
    pub debit: Option<Box<DebitRefs>>,
    /// `RltdPties/DbtrAcct` when it names a Serbian account: where a refund goes back to.
    pub debtor_account: Option<AccountNumber>,
}

/// The references of a debit: its end-to-end id (a transfer's), and the entry's and the
/// bank's references (a batch booked as one entry may carry the batch's message id).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DebitRefs {
    pub end_to_end_id: Option<String>,
    pub references: Vec<String>,
}

impl DebitRefs {
    fn of(entry: &Entry) -> Option<Box<DebitRefs>> {
        if entry.direction != CreditDebit::Debit {
            return None;
        }
        let keep = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty() && r.chars().count() <= 35)
                .map(str::to_owned)
        };
        let mut references: Vec<String> =
            [&entry.entry_reference, &entry.account_servicer_reference]
                .into_iter()
                .filter_map(keep)
                .collect();
        references.dedup();
        Some(Box::new(DebitRefs {
            end_to_end_id: keep(&entry.end_to_end_id),
            references,
        }))
    }
}

/// What the reading thread sends.
#[derive(Debug)]
pub enum Msg {
    Statement(Header),
    /// Entries of the statement last announced, and the bytes read so far.
    Lines(Vec<Line>, u64),
    /// The whole file was read and checked: its SHA-256 (hex) and size.
    End {
        sha256: String,
        bytes: u64,
    },
    Failed(Camt053Error),
}

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Follows consecutive transactions that carry the same bank reference: the transactions of
/// one batch entry (`Ntry` with several `TxDtls`) inherit the entry's `AcctSvcrRef` when they
/// have none of their own.
#[derive(Debug, Default)]
pub struct BankRefs {
    last: Option<(u32, String)>,
    repeat: u32,
}

impl BankRefs {
    /// The reference under which a transaction completes a payment, unique per transaction
    /// and the same whenever the same transaction is read again (in a later statement or a
    /// re-download): the bank's `AcctSvcrRef` (of the transaction, else of its entry), else
    /// the entry's `NtryRef`; the second and later transactions that repeat the reference
    /// just before them get `/2`, `/3`, … appended (they are the transactions of one batch
    /// entry, in the order the bank lists them). Without any bank reference, or when that
    /// would be longer than 35 characters, a digest of the account, the statement and the
    /// position in it (`S` and 34 hex digits).
    pub fn next(&mut self, statement: &Header, ordinal: u64, entry: &Entry) -> String {
        let given = entry
            .account_servicer_reference
            .as_deref()
            .or(entry.entry_reference.as_deref())
            .map(str::trim)
            .filter(|r| !r.is_empty());
        let Some(given) = given else {
            self.last = None;
            return synthetic(statement, ordinal);
        };
        let same = self
            .last
            .as_ref()
            .is_some_and(|(s, r)| *s == statement.index && r == given);
        if same {
            self.repeat += 1;
        } else {
            self.last = Some((statement.index, given.to_owned()));
            self.repeat = 1;
        }
        let r = if self.repeat > 1 {
            format!("{given}/{}", self.repeat)
        } else {
            given.to_owned()
        };
        if r.chars().count() > MAX_BANK_REF {
            synthetic(statement, ordinal)
        } else {
            r
        }
    }
}

fn synthetic(statement: &Header, ordinal: u64) -> String {
    let digest = Sha256::digest(
        format!("{}\n{}\n{ordinal}", statement.account_text, statement.id).as_bytes(),
    );
    let hex = hex::encode(digest);
    format!("S{}", &hex[..MAX_BANK_REF - 1])
}

/// The reference of an entry in IPS form, if it has a valid one.
pub fn reference_of(entry: &Entry) -> Option<String> {
    entry.reference().map(|r| {
        if r.model() == Model::M97 {
            r.ro()
        } else {
            format!("{:02}{}", r.model().number(), r.reference())
        }
    })
}

fn header_of<R: Read>(reader: &Reader<R>, st: &Statement) -> Header {
    Header {
        index: st.index,
        line: st.line,
        message_id: reader.message_id().unwrap_or_default().to_owned(),
        id: st.id.clone(),
        created: st.created.clone(),
        account_text: st.account.as_str().to_owned(),
        account: st.account.serbian(),
    }
}

/// Reads `input` to its end on the calling (blocking) thread, sending headers and batches
/// of lines to `tx`. Stops early when the receiver is gone (the import gave up).
pub fn read_all<R: Read>(input: R, tx: &mpsc::Sender<Msg>) {
    let bytes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut hashing = Hashing {
        inner: input,
        hasher: Sha256::new(),
        bytes: bytes.clone(),
    };
    let read_so_far = || bytes.load(std::sync::atomic::Ordering::Relaxed);
    let mut reader = Reader::new(&mut hashing);
    let mut header: Option<Header> = None;
    let mut batch: Vec<Line> = Vec::with_capacity(BATCH);
    let mut refs = BankRefs::default();
    let mut ordinal = 0u64;
    loop {
        let entry = match reader.next() {
            None => break,
            Some(Err(e)) => {
                let _ = tx.blocking_send(Msg::Failed(e));
                return;
            }
            Some(Ok(e)) => e,
        };
        let Some(st) = reader.statement() else {
            continue;
        };
        if header.as_ref().is_none_or(|h| h.index != st.index) {
            if !batch.is_empty()
                && tx
                    .blocking_send(Msg::Lines(std::mem::take(&mut batch), read_so_far()))
                    .is_err()
            {
                return;
            }
            let h = header_of(&reader, st);
            if tx.blocking_send(Msg::Statement(h.clone())).is_err() {
                return;
            }
            header = Some(h);
            ordinal = 0;
            refs = BankRefs::default();
        }
        let Some(h) = header.as_ref() else {
            continue;
        };
        ordinal += 1;
        batch.push(Line {
            line: entry.line,
            direction: entry.direction,
            reversal: entry.reversal,
            booked: entry.status == Status::Booked,
            para: entry.amount.para,
            currency: entry.amount.currency,
            reference: reference_of(&entry),
            bank_ref: refs.next(h, ordinal, &entry),
            booking_date: entry.booking_date,
            debit: DebitRefs::of(&entry),
            debtor_account: entry.debtor_account.as_ref().and_then(AccountId::serbian),
        });
        if batch.len() >= BATCH
            && tx
                .blocking_send(Msg::Lines(std::mem::take(&mut batch), read_so_far()))
                .is_err()
        {
            return;
        }
    }
    // The last statement may have had no entries: announce it so that it is recorded.
    if let Some(st) = reader.statement()
        && header.as_ref().is_none_or(|h| h.index != st.index)
    {
        let h = header_of(&reader, st);
        if !batch.is_empty()
            && tx
                .blocking_send(Msg::Lines(std::mem::take(&mut batch), read_so_far()))
                .is_err()
        {
            return;
        }
        if tx.blocking_send(Msg::Statement(h)).is_err() {
            return;
        }
    }
    if !batch.is_empty() && tx.blocking_send(Msg::Lines(batch, read_so_far())).is_err() {
        return;
    }
    drop(reader);
    // Whatever follows the document (blanks) is part of the file and of its hash.
    if let Err(e) = std::io::copy(&mut hashing, &mut std::io::sink()) {
        let _ = tx.blocking_send(Msg::Failed(Camt053Error {
            line: 0,
            reason: eposta_formats::iso20022::camt053::Reason::Io(e.to_string()),
        }));
        return;
    }
    let sha256 = hex::encode(hashing.hasher.finalize());
    let _ = tx.blocking_send(Msg::End {
        sha256,
        bytes: read_so_far(),
    });
}
