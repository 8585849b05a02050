//! Tests of the statement reader and writer: the samples in `testdata/camt053/` field by
//! field, a table of broken statements with the line and reason each must give, generated
//! statements read back (property), and a long statement streamed through a pipe to show
//! that the reader's state does not grow.

use proptest::prelude::*;

use super::*;
use crate::account::AccountNumber;
use crate::iso20022::{Currency, Date};

const V02: &str = include_str!("../../../testdata/camt053/v02-statement.xml");
const V08: &str = include_str!("../../../testdata/camt053/v08-batch.xml");

fn read_all(xml: &str) -> Result<Vec<Entry>, Camt053Error> {
    Reader::new(xml.as_bytes()).collect()
}

fn rsd(para: i64) -> crate::iso20022::Amount {
    crate::iso20022::Amount {
        para,
        currency: Currency::RSD,
    }
}

fn date(y: u16, m: u8, d: u8) -> Option<Date> {
    Date::new(y, m, d)
}

/// The line (from 1) of the `nth` occurrence (from 0) of `needle`.
fn line_of(text: &str, needle: &str, nth: usize) -> u64 {
    let (i, _) = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} #{nth} not in the text"));
    text[..i].matches('\n').count() as u64 + 1
}

#[test]
fn the_v02_sample_field_by_field() {
    let mut reader = Reader::new(V02.as_bytes());
    let entries: Vec<Entry> = reader.by_ref().collect::<Result<_, _>>().expect("valid");
    assert_eq!(reader.message_id(), Some("BPS20261125-0001"));
    assert_eq!(reader.version(), Some("001.02"));
    let s = reader.statement().expect("one statement");
    assert_eq!(s.id, "200-2900123456-34-2026-229");
    assert_eq!(s.index, 0);
    assert_eq!(s.line, line_of(V02, "<Stmt>", 0));
    assert_eq!(s.sequence.as_deref(), Some("229"));
    assert_eq!(s.account, AccountId::Iban("RS35200000290012345634".into()));
    assert_eq!(
        s.account.serbian().map(|a| a.dashed()),
        Some("200-2900123456-34".to_owned())
    );
    assert_eq!(s.currency, Some(Currency::RSD));
    assert_eq!(s.opening_balance.map(|b| b.para), Some(15_000_000));
    assert_eq!(s.closing_balance.map(|b| b.para), Some(15_339_050));

    assert_eq!(entries.len(), 3);
    let [first, second, fee] = &entries[..] else {
        unreachable!()
    };
    assert_eq!(first.line, line_of(V02, "<TxDtls>", 0));
    assert_eq!(first.direction, CreditDebit::Credit);
    assert_eq!(first.amount, rsd(254_000));
    assert_eq!(first.status, Status::Booked);
    assert_eq!(first.booking_date, date(2026, 11, 25));
    assert_eq!(first.entry_reference.as_deref(), Some("1"));
    assert_eq!(
        first.account_servicer_reference.as_deref(),
        Some("2026112500001")
    );
    assert_eq!(first.end_to_end_id.as_deref(), Some("IPS-7F3A9C21"));
    assert_eq!(
        first.creditor_reference,
        Some(CreditorReference {
            kind: Some("97".into()),
            issuer: None,
            reference: "182026001".into()
        })
    );
    assert_eq!(
        first.unstructured,
        vec!["Uplata racuna za struju".to_owned()]
    );
    assert_eq!(first.debtor_name.as_deref(), Some("Petar Petrović"));
    assert_eq!(
        first.debtor_account.as_ref().and_then(AccountId::serbian),
        AccountNumber::parse("160-5100-05").ok()
    );
    assert_eq!(
        first.reference().map(|r| r.to_string()),
        Some("97 182026001".to_owned())
    );

    assert_eq!(second.amount, rsd(120_050));
    assert_eq!(second.value_date, date(2026, 11, 24));
    assert_eq!(second.end_to_end_id, None, "NOTPROVIDED reads as none");
    assert_eq!(
        second.account_servicer_reference.as_deref(),
        Some("2026112500002"),
        "the entry's reference when the transaction has none"
    );
    assert_eq!(
        second.debtor_name.as_deref(),
        Some("Jovanović & sinovi d.o.o.")
    );
    assert_eq!(
        second.debtor_account,
        Some(AccountId::Other("265100000001234570".into()))
    );
    assert_eq!(second.creditor_reference, None);
    assert_eq!(
        second.reference().map(|r| r.to_string()),
        Some("97 152026002".to_owned()),
        "found in Ustrd, dashes dropped"
    );

    assert_eq!(
        fee.line,
        line_of(V02, "<Ntry>", 2),
        "no details: the Ntry's line"
    );
    assert_eq!(fee.direction, CreditDebit::Debit);
    assert_eq!(fee.amount, rsd(35_000));
    assert_eq!(
        fee.additional_info.as_deref(),
        Some("Naknada za vođenje računa za novembar")
    );
    assert_eq!(fee.reference(), None);
    assert_eq!(fee.debtor_name, None);
}

#[test]
fn the_v08_sample_with_a_prefix_a_batch_and_a_pending_entry() {
    let entries = read_all(V08).expect("valid");
    assert_eq!(entries.len(), 3);
    let [a, b, pending] = &entries[..] else {
        unreachable!()
    };
    assert_eq!(a.amount, rsd(180_000));
    assert_eq!(b.amount, rsd(120_000));
    assert_eq!(a.booking_date, date(2026, 11, 26), "the date of a DtTm");
    assert_eq!(a.value_date, date(2026, 11, 26));
    assert_eq!(
        a.debtor_name.as_deref(),
        Some("Марко Марковић"),
        "Dbtr/Pty/Nm"
    );
    assert_eq!(a.account_servicer_reference.as_deref(), Some("B-77-1"));
    assert_eq!(b.account_servicer_reference.as_deref(), Some("B-77-2"));
    assert_eq!(a.end_to_end_id.as_deref(), Some("E2E-0001"));
    assert_eq!(
        a.reference().map(|r| r.to_string()),
        Some("97 122026003".into()),
        "model and number together in Ref"
    );
    assert_eq!(
        b.creditor_reference
            .as_ref()
            .and_then(|r| r.issuer.as_deref()),
        Some("NBS")
    );
    assert_eq!(
        b.reference().map(|r| r.to_string()),
        Some("97 092026004".into())
    );
    assert_eq!(pending.status, Status::Pending);
    assert_eq!(
        pending.amount,
        rsd(50_000),
        "the entry's amount, one TxDtls"
    );
    assert_eq!(pending.line, line_of(V08, "<c:TxDtls>", 2));
    assert_eq!(
        pending.reference().map(|r| r.to_string()),
        Some("97 14123412".into())
    );

    let summary = validate(V08.as_bytes()).expect("valid");
    assert_eq!(summary.message_id, "STMT-2026-11-26-A");
    assert_eq!(summary.version, "001.08");
    let [totals] = &summary.statements[..] else {
        unreachable!()
    };
    assert_eq!(
        totals.statement.account.serbian().map(|a| a.iban()),
        Some("RS35200000290012345634".into())
    );
    assert_eq!(
        totals.statement.opening_balance.map(|b| b.para),
        Some(-100_000)
    );
    assert_eq!(
        (
            totals.entries,
            totals.credits,
            totals.credit_para,
            totals.debits
        ),
        (3, 3, 350_000, 0)
    );
}

#[test]
fn validate_sums_the_v02_sample() {
    let summary = validate(V02.as_bytes()).expect("valid");
    assert_eq!(summary.version, "001.02");
    let t = &summary.statements[0];
    assert_eq!(
        (t.entries, t.credits, t.credit_para, t.debits, t.debit_para),
        (3, 2, 374_050, 1, 35_000)
    );
}

/// A broken statement: `find` replaced by `replace` (first occurrence) in the v02 sample,
/// the line found by `marker` (its `nth` occurrence in the broken text), and the reason.
struct Broken {
    find: &'static str,
    replace: &'static str,
    marker: &'static str,
    nth: usize,
    reason: &'static str,
}

#[test]
fn broken_statements_are_refused_with_their_line_and_reason() {
    let cases = [
        Broken {
            find: "<Amt Ccy=\"RSD\">2540.00</Amt>\n        <CdtDbtInd>",
            replace: "<CdtDbtInd>",
            marker: "<Ntry>",
            nth: 0,
            reason: "Ntry/Amt: missing",
        },
        Broken {
            find: "1200.5<",
            replace: "1200.505<",
            marker: "1200.505",
            nth: 0,
            reason: "Ntry/Amt: has more than two decimals that are not zero (not a whole para)",
        },
        Broken {
            find: "1200.5<",
            replace: "1,200.50<",
            marker: "1,200.50",
            nth: 0,
            reason: "Ntry/Amt: must be digits with an optional decimal point (1025.50)",
        },
        Broken {
            find: "1200.5<",
            replace: "-1200.5<",
            marker: "-1200.5",
            nth: 0,
            reason: "Ntry/Amt: must be digits with an optional decimal point (1025.50)",
        },
        Broken {
            find: "<Amt Ccy=\"RSD\">350.00",
            replace: "<Amt>350.00",
            marker: "<Amt>350.00",
            nth: 0,
            reason: "Ntry/Amt: the Ccy attribute is missing",
        },
        Broken {
            find: "<CdtDbtInd>DBIT</CdtDbtInd>",
            replace: "<CdtDbtInd>DEBIT</CdtDbtInd>",
            marker: "DEBIT",
            nth: 0,
            reason: "Ntry/CdtDbtInd: must be CRDT or DBIT",
        },
        Broken {
            find: "<Sts>BOOK</Sts>\n        <BookgDt>\n          <Dt>2026-11-25</Dt>\n        </BookgDt>\n        <ValDt>\n          <Dt>2026-11-25</Dt>\n        </ValDt>\n        <AcctSvcrRef>2026112500003",
            replace: "<AcctSvcrRef>2026112500003",
            marker: "<Ntry>",
            nth: 2,
            reason: "Ntry/Sts: missing",
        },
        Broken {
            find: "<Dt>2026-11-24</Dt>",
            replace: "<Dt>2026-02-30</Dt>",
            marker: "2026-02-30",
            nth: 0,
            reason: "Ntry/ValDt/Dt: not a date (2026-11-25)",
        },
        Broken {
            find: "<EndToEndId>IPS-7F3A9C21</EndToEndId>",
            replace: "<EndToEndId>IPS-7F3A9C21</EndToEndId><EndToEndId>X</EndToEndId>",
            marker: "<EndToEndId>X",
            nth: 0,
            reason: "Refs/EndToEndId: given twice",
        },
        Broken {
            find: "<Nm>Petar Petrović</Nm>",
            replace: "<Nm>Petar Petrović</Name>",
            marker: "</Name>",
            nth: 0,
            reason: "not well-formed XML",
        },
        Broken {
            find: "<Nm>Petar Petrović</Nm>",
            replace: "<Nm>Petar &nbsp; Petrović</Nm>",
            marker: "&nbsp;",
            nth: 0,
            reason: "not well-formed XML: an entity other than the five of XML",
        },
        Broken {
            find: "<Nm>Petar Petrović</Nm>",
            replace: "<Nm>Petar <Petrović</Nm>",
            // `<Petrović</Nm>` reads as a start tag; the fault shows where it must close.
            marker: "</Dbtr>",
            nth: 0,
            reason: "not well-formed XML",
        },
        Broken {
            find: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            replace: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE d [<!ENTITY x \"y\">]>",
            marker: "<!DOCTYPE",
            nth: 0,
            reason: "not well-formed XML: a DOCTYPE is not allowed",
        },
        Broken {
            find: "<Amt Ccy=\"RSD\">153390.50</Amt>",
            replace: "<Amt Ccy=\"RSD\">153390.60</Amt>",
            marker: "<Stmt>",
            nth: 0,
            reason: "statement 200-2900123456-34-2026-229: opening balance 150000.00 plus the booked entries 3390.50 is not the closing balance 153390.60",
        },
        Broken {
            find: "<NbOfNtries>3</NbOfNtries>",
            replace: "<NbOfNtries>4</NbOfNtries>",
            marker: "<Stmt>",
            nth: 0,
            reason: "statement 200-2900123456-34-2026-229: TxsSummry/TtlNtries/NbOfNtries says 4, the entries give 3",
        },
        Broken {
            find: "<Sum>350</Sum>",
            replace: "<Sum>351</Sum>",
            marker: "<Stmt>",
            nth: 0,
            reason: "statement 200-2900123456-34-2026-229: TxsSummry/TtlDbtNtries/Sum says 35100, the entries give 35000",
        },
        Broken {
            find: "xsd:camt.053.001.02\"",
            replace: "xsd:camt.052.001.02\"",
            marker: "<Document",
            nth: 0,
            reason: "not a camt.053 statement: namespace \"urn:iso:std:iso:20022:tech:xsd:camt.052.001.02\", expected urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN",
        },
        Broken {
            find: "<MsgId>BPS20261125-0001</MsgId>",
            replace: "",
            marker: "<Stmt>",
            nth: 0,
            reason: "GrpHdr/MsgId: missing",
        },
        Broken {
            find: "<Id>200-2900123456-34-2026-229</Id>",
            replace: "",
            marker: "<Stmt>",
            nth: 0,
            reason: "Stmt/Id: missing",
        },
        Broken {
            find: "<IBAN>RS35200000290012345634</IBAN>",
            replace: "",
            marker: "<Stmt>",
            nth: 0,
            reason: "Stmt/Acct/Id: missing",
        },
        Broken {
            find: "<Cd>CLBD</Cd>",
            replace: "<Cd>OPBD</Cd>",
            marker: "<Stmt>",
            nth: 0,
            reason: "",
        },
        Broken {
            find: "<AmtDtls>\n              <TxAmt>\n                <Amt Ccy=\"RSD\">2540.00</Amt>\n              </TxAmt>\n            </AmtDtls>",
            replace: "</TxDtls><TxDtls>",
            marker: "<TxDtls>",
            nth: 0,
            reason: "TxDtls/Amt: missing, and the entry has more than one TxDtls to share its amount",
        },
    ];
    for c in &cases {
        assert!(V02.contains(c.find), "{}", c.find);
        let broken = V02.replacen(c.find, c.replace, 1);
        let got = read_all(&broken);
        if c.reason.is_empty() {
            // Two opening balances, no closing one: the first counts, nothing to check.
            assert!(got.is_ok(), "{}: {got:?}", c.replace);
            continue;
        }
        let err = got.expect_err(c.replace);
        assert_eq!(
            err.line,
            line_of(&broken, c.marker, c.nth),
            "{}: {err}",
            c.replace
        );
        assert!(
            err.reason.to_string().starts_with(c.reason),
            "{}: {} does not start with {}",
            c.replace,
            err.reason,
            c.reason
        );
        // The first pass refuses it the same way.
        assert_eq!(validate(broken.as_bytes()).err(), Some(err));
    }
}

#[test]
fn a_cut_off_file_or_none_at_all_is_refused() {
    let cut = &V02[..V02.find("<NtryRef>3").expect("third entry")];
    let err = read_all(cut).expect_err("cut off");
    assert!(err.reason.to_string().contains("cut off"), "{err}");
    assert_eq!(err.line, cut.matches('\n').count() as u64 + 1);
    // What came before the cut was yielded: a caller that did not validate first would
    // have seen two entries, which is why `validate` exists.
    let mut reader = Reader::new(cut.as_bytes());
    assert!(reader.next().is_some_and(|e| e.is_ok()));
    assert!(reader.next().is_some_and(|e| e.is_ok()));
    assert!(reader.next().is_some_and(|e| e.is_err()));
    assert!(reader.next().is_none(), "nothing after an error");

    for (text, reason) in [
        ("", "not a camt.053 statement: no Document element"),
        (
            "<?xml version=\"1.0\"?>\n",
            "not a camt.053 statement: no Document element",
        ),
        (
            "<Foo/>",
            "not a camt.053 statement: the root element is not Document",
        ),
        (
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt><GrpHdr><MsgId>1</MsgId></GrpHdr></BkToCstmrStmt></Document>",
            "BkToCstmrStmt/Stmt: missing",
        ),
        (
            "garbage",
            "not well-formed XML: text outside the root element",
        ),
    ] {
        let err = read_all(text).expect_err(text);
        assert_eq!(err.reason.to_string(), reason, "{text:?}");
    }
}

#[test]
fn errors_do_not_echo_names_or_accounts() {
    let broken = V02.replacen(
        "<Nm>Petar Petrović</Nm>",
        "<Nm>Petar Petrović</Nm><Nm>Mika</Nm>",
        1,
    );
    let err = read_all(&broken).expect_err("repeated").to_string();
    assert!(!err.contains("Petar") && !err.contains("Mika"), "{err}");
    let broken = V02.replacen(
        "RS35160000000000510005",
        "RS35160000000000510005</IBAN><IBAN>x",
        1,
    );
    let err = read_all(&broken).expect_err("repeated").to_string();
    assert!(!err.contains("RS35160"), "{err}");
    // Text taken for a tag name by a stray `<` is not repeated.
    let broken = V02.replacen("<Nm>Petar Petrović</Nm>", "<Nm>Petar <Petrović</Nm>", 1);
    let err = read_all(&broken).expect_err("malformed").to_string();
    assert!(!err.contains("Petrov"), "{err}");
    assert!(
        err.ends_with("the end tag of `Dbtr` where a malformed element should end"),
        "{err}"
    );
    let broken = V02.replacen("<Nm>Petar Petrović</Nm>", "<Nm>Petar Petrović</Ime>", 1);
    let err = read_all(&broken).expect_err("malformed").to_string();
    assert!(
        err.ends_with("the end tag of `Ime` where `Nm` should end"),
        "{err}"
    );
}

#[test]
fn references_in_free_text() {
    for (text, expected) in [
        ("97 14123412", Some("97 14123412")),
        ("9714123412", Some("97 14123412")),
        ("Uplata po racunu 97 14123412", Some("97 14123412")),
        ("racun: 97 14-123412, hvala", Some("97 14123412")),
        ("poziv 9714123412", Some("97 14123412")),
        ("97 15123412", None),
        ("9715123412", None),
        ("račun 14123412", None),
        ("", None),
        ("00 12345", None),
    ] {
        assert_eq!(
            reference_in_text(text).map(|r| r.to_string()).as_deref(),
            expected,
            "{text:?}"
        );
    }
}

fn spec(version: Version) -> StatementSpec {
    StatementSpec {
        version,
        message_id: "M-1".into(),
        statement_id: "S-1".into(),
        created: "2026-11-25T18:30:00".into(),
        account: AccountNumber::new(200, 2_900_123_456).expect("in range"),
        iban: version == Version::V02,
        currency: Currency::RSD,
        opening_para: -5_000,
        date: Date::new(2026, 11, 25).expect("a date"),
    }
}

/// The fields compared after a round trip: entry number, direction, amount, reference,
/// debtor name, end-to-end id, debtor account.
type Compared = (
    u64,
    CreditDebit,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// What the reader must give back for a written entry.
fn expected(i: u64, t: &TransactionSpec) -> Compared {
    (
        i + 1,
        t.direction,
        t.para,
        t.reference
            .clone()
            .or_else(|| t.unstructured.as_deref().and_then(reference_in_text))
            .map(|r| r.to_string()),
        t.debtor_name.clone(),
        t.end_to_end_id.clone(),
        t.debtor_account.map(|a| a.iban()),
    )
}

fn transaction() -> impl Strategy<Value = TransactionSpec> {
    (
        any::<bool>(),
        1i64..=crate::iso20022::MAX_AMOUNT / 1_000_000,
        proptest::option::of("[0-9A-Z]{1,12}"),
        any::<bool>(),
        proptest::option::of("[ -~čćšđžČĆŠĐŽа-я]{1,40}"),
        proptest::option::of("[A-Za-z0-9/-]{1,35}"),
        proptest::option::of((0u16..1000, 0u64..10_000_000_000_000)),
    )
        .prop_map(|(credit, para, body, structured, name, e2e, account)| {
            let reference = body.and_then(|b| crate::reference::Reference::model97(&b).ok());
            let (reference, unstructured) = if structured {
                (reference, None)
            } else {
                (
                    None,
                    reference.map(|r| format!("Racun & <uplata> 97 {}", r.reference())),
                )
            };
            TransactionSpec {
                direction: if credit {
                    CreditDebit::Credit
                } else {
                    CreditDebit::Debit
                },
                para,
                reference,
                unstructured,
                end_to_end_id: e2e,
                account_servicer_reference: None,
                debtor_name: name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
                debtor_account: account.and_then(|(b, a)| AccountNumber::new(b, a)),
                value_date: None,
            }
        })
}

proptest! {
    #[test]
    fn every_generated_statement_reads_back_to_its_entries(
        entries in proptest::collection::vec(transaction(), 0..12),
        v08 in any::<bool>(),
    ) {
        let version = if v08 { Version::V08 } else { Version::V02 };
        let out = write_statement(&spec(version), entries.len() as u64, |i| entries[i as usize].clone(), Vec::new())
            .expect("in memory");
        let text = String::from_utf8(out).expect("UTF-8");
        let read = read_all(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(read.len(), entries.len());
        for (i, (got, want)) in read.iter().zip(&entries).enumerate() {
            let got = (
                got.entry_reference.as_deref().and_then(|r| r.parse().ok()).unwrap_or(0),
                got.direction,
                got.amount.para,
                got.reference().map(|r| r.to_string()),
                got.debtor_name.clone(),
                got.end_to_end_id.clone(),
                got.debtor_account.as_ref().map(|a| a.as_str().to_owned()),
            );
            prop_assert_eq!(got, expected(i as u64, want));
        }
        let summary = validate(text.as_bytes()).expect("valid");
        let credits = entries.iter().filter(|e| e.direction == CreditDebit::Credit).count() as u64;
        prop_assert_eq!(summary.statements[0].credits, credits);
    }

    #[test]
    fn damaged_statements_never_panic(pos in 0usize..3000, byte in any::<u8>(), cut in any::<bool>()) {
        let mut bytes = V02.as_bytes().to_vec();
        let pos = pos % bytes.len();
        if cut {
            bytes.truncate(pos);
        } else {
            bytes[pos] = byte;
        }
        // What the fuzz target (fuzz/fuzz_targets/camt053.rs) checks, on stable.
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let mut failed = None;
        let mut entries = 0u64;
        for e in Reader::new(&bytes[..]) {
            prop_assert!(failed.is_none(), "an entry after an error");
            match e {
                Ok(_) => entries += 1,
                Err(e) => {
                    prop_assert!(e.line >= 1 && e.line <= lines, "{e}");
                    failed = Some(e);
                }
            }
        }
        match validate(&bytes[..]) {
            Ok(s) => prop_assert_eq!(s.statements.iter().map(|s| s.entries).sum::<u64>(), entries),
            Err(e) => prop_assert_eq!(Some(e), failed),
        }
    }
}

/// A statement of 20,000 entries (30 MB) written by one thread into a pipe and read by another:
/// neither holds the file, and after the last entry the reader's buffers are as small as
/// after the first (what would grow per entry would show here).
#[test]
fn a_long_statement_streams_in_bounded_memory() {
    const N: u64 = 20_000;
    let (rx, tx) = std::io::pipe().expect("a pipe");
    let writer = std::thread::spawn(move || {
        let entry = |i: u64| TransactionSpec {
            direction: CreditDebit::Credit,
            para: 100 + (i % 1000) as i64,
            reference: crate::reference::Reference::model97(&format!("{i}")).ok(),
            unstructured: Some(format!("Uplata {i}")),
            end_to_end_id: Some(format!("E{i}")),
            account_servicer_reference: Some(format!("A{i}")),
            debtor_name: Some("Petar Petrović".into()),
            debtor_account: AccountNumber::new(160, i),
            value_date: None,
        };
        write_statement(&spec(Version::V08), N, entry, tx).map(drop)
    });
    let mut reader = Reader::new(rx);
    let mut count = 0u64;
    let mut sum = 0i64;
    let mut first_capacities = None;
    while let Some(e) = reader.next() {
        let e = e.expect("valid");
        count += 1;
        sum += e.amount.para;
        let capacities = (
            reader.buf.capacity(),
            reader.stack.capacity(),
            reader.text.capacity(),
        );
        if count == 1 {
            first_capacities = Some(capacities);
        }
        assert!(reader.state.totals.is_none());
    }
    writer.join().expect("writer").expect("written");
    assert_eq!(count, N);
    assert_eq!(sum, (0..N).map(|i| 100 + (i % 1000) as i64).sum::<i64>());
    let last = (
        reader.buf.capacity(),
        reader.stack.capacity(),
        reader.text.capacity(),
    );
    assert_eq!(Some(last), first_capacities);
}
