//! pain.002 vectors, written by hand after the ISO 20022 message definition of
//! CustomerPaymentStatusReportV03 (`pain.002.001.03.xsd`, ISO 20022 catalogue, Payments
//! Initiation: element names, nesting, order and cardinalities) and the status codes of
//! `TransactionGroupStatus3Code` / `TransactionIndividualStatus3Code`; the reason codes
//! (`AC01` IncorrectAccountNumber, `AC04` ClosedAccountNumber, `AM04` InsufficientFunds) are
//! from the ISO external code set `ExternalStatusReason1Code`.

use super::*;

const NS03: &str = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03";

/// A report of `body` (the elements after `GrpHdr`) in version `ns`.
fn doc(ns: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{ns}">
  <CstmrPmtStsRpt>
    <GrpHdr>
      <MsgId>STS-20260303-0001</MsgId>
      <CreDtTm>2026-03-03T09:15:00</CreDtTm>
      <DbtrAgt><FinInstnId><BIC>AIKBRS22</BIC></FinInstnId></DbtrAgt>
    </GrpHdr>
{body}
  </CstmrPmtStsRpt>
</Document>
"#
    )
}

const ACCEPTED: &str = r#"    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>EPR-20260302-845000000040484987-1</OrgnlMsgId>
      <OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>
      <OrgnlNbOfTxs>3</OrgnlNbOfTxs>
      <OrgnlCtrlSum>6000.00</OrgnlCtrlSum>
      <GrpSts>ACCP</GrpSts>
    </OrgnlGrpInfAndSts>"#;

const PARTLY: &str = r#"    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>EPR-20260302-845000000040484987-1</OrgnlMsgId>
      <OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>
      <GrpSts>PART</GrpSts>
      <NbOfTxsPerSts><DtldNbOfTxs>2</DtldNbOfTxs><DtldSts>ACSC</DtldSts></NbOfTxsPerSts>
      <NbOfTxsPerSts><DtldNbOfTxs>1</DtldNbOfTxs><DtldSts>RJCT</DtldSts></NbOfTxsPerSts>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>EPR-20260302-845000000040484987-1</OrgnlPmtInfId>
      <PmtInfSts>PART</PmtInfSts>
      <TxInfAndSts>
        <StsId>1</StsId>
        <OrgnlEndToEndId>EP-AAAA-0001</OrgnlEndToEndId>
        <TxSts>ACSC</TxSts>
      </TxInfAndSts>
      <TxInfAndSts><StsId>2</StsId>
        <OrgnlInstrId>I2</OrgnlInstrId>
        <OrgnlEndToEndId>EP-AAAA-0002</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf>
          <Orgtr><Nm>Banka</Nm></Orgtr>
          <Rsn><Cd>AC04</Cd></Rsn>
          <AddtlInf>Racun primaoca je ugasen</AddtlInf>
          <AddtlInf>second line &amp; more</AddtlInf>
        </StsRsnInf>
        <OrgnlTxRef><Amt><InstdAmt Ccy="RSD">2000.00</InstdAmt></Amt></OrgnlTxRef>
      </TxInfAndSts>
    </OrgnlPmtInfAndSts>"#;

#[test]
fn a_group_accepted_whole() {
    let r = parse(doc(NS03, ACCEPTED).as_bytes()).expect("valid");
    assert_eq!(r.version, "001.03");
    assert_eq!(r.message_id, "STS-20260303-0001");
    assert_eq!(r.created.as_deref(), Some("2026-03-03T09:15:00"));
    assert_eq!(r.original_message_id, "EPR-20260302-845000000040484987-1");
    assert_eq!(r.original_message_name.as_deref(), Some("pain.001.001.03"));
    assert_eq!(r.group_status, Some(Status::Accp));
    assert!(r.payment_infos.is_empty());
    assert_eq!(r.transactions().count(), 0);
}

#[test]
fn a_partly_rejected_batch_names_each_transaction() {
    let r = parse(doc(NS03, PARTLY).as_bytes()).expect("valid");
    assert_eq!(r.group_status, Some(Status::Part));
    assert_eq!(r.payment_infos.len(), 1);
    let p = &r.payment_infos[0];
    assert_eq!(
        p.original_payment_info_id,
        "EPR-20260302-845000000040484987-1"
    );
    assert_eq!(p.status, Some(Status::Part));
    let t: Vec<&Transaction> = r.transactions().collect();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].original_end_to_end_id, "EP-AAAA-0001");
    assert_eq!(t[0].status, Some(Status::Acsc));
    assert!(t[0].reasons.is_empty());
    assert_eq!(t[1].original_end_to_end_id, "EP-AAAA-0002");
    assert_eq!(t[1].status, Some(Status::Rjct));
    assert_eq!(
        t[1].reasons,
        vec![StatusReason {
            code: Some("AC04".into()),
            additional_info: vec![
                "Racun primaoca je ugasen".into(),
                "second line & more".into()
            ],
        }]
    );
    // The line each transaction starts on.
    let text = doc(NS03, PARTLY);
    let want = text
        .lines()
        .position(|l| l.contains("<TxInfAndSts>"))
        .expect("tx") as u64
        + 1;
    assert_eq!(t[0].line, want);
}

#[test]
fn later_versions_prefixes_and_every_status_are_read() {
    for version in ["03", "05", "10", "14"] {
        for s in Status::ALL {
            let group = format!(
                "<OrgnlGrpInfAndSts><OrgnlMsgId>M1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId><GrpSts>{s}</GrpSts>\
                 <StsRsnInf><Rsn><Prtry>X1</Prtry></Rsn></StsRsnInf></OrgnlGrpInfAndSts>"
            );
            let ns = format!("urn:iso:std:iso:20022:tech:xsd:pain.002.001.{version}");
            let prefixed = doc(&ns, &group)
                .replace("<Document xmlns=", "<p:Document xmlns:p=")
                .replace("</Document>", "</p:Document>")
                .replace("<CstmrPmtStsRpt>", "<p:CstmrPmtStsRpt>")
                .replace("</CstmrPmtStsRpt>", "</p:CstmrPmtStsRpt>");
            for text in [doc(&ns, &group), prefixed] {
                let r = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{version} {s}: {e}"));
                assert_eq!(r.version, format!("001.{version}"));
                assert_eq!(r.group_status, Some(s));
                assert_eq!(r.group_reasons[0].code.as_deref(), Some("X1"));
            }
        }
    }
}

#[test]
fn broken_reports_name_their_line_and_reason() {
    struct Case {
        name: &'static str,
        find: &'static str,
        replace: &'static str,
        /// The text on the line the error must name.
        marker: &'static str,
        reason: &'static str,
    }
    let cases = [
        Case {
            name: "unknown status",
            find: "<TxSts>RJCT</TxSts>",
            replace: "<TxSts>NOPE</TxSts>",
            marker: "<TxSts>NOPE",
            reason: "TxInfAndSts/TxSts: `NOPE` is not a status we know",
        },
        Case {
            name: "a value that is not a code is not repeated",
            find: "<TxSts>RJCT</TxSts>",
            replace: "<TxSts>Petar Petrovic</TxSts>",
            marker: "<TxSts>Petar",
            reason: "TxInfAndSts/TxSts: a value is not a status we know",
        },
        Case {
            name: "group status on a transaction",
            find: "<TxSts>RJCT</TxSts>",
            replace: "<TxSts>PART</TxSts>",
            marker: "<TxSts>PART",
            reason: "TxInfAndSts/TxSts: PART is the status of a group",
        },
        Case {
            name: "no end-to-end id",
            find: "<OrgnlEndToEndId>EP-AAAA-0002</OrgnlEndToEndId>",
            replace: "",
            marker: "<StsId>2",
            reason: "TxInfAndSts/OrgnlEndToEndId: missing",
        },
        Case {
            name: "end-to-end id twice",
            find: "<OrgnlEndToEndId>EP-AAAA-0002</OrgnlEndToEndId>",
            replace: "<OrgnlEndToEndId>EP-AAAA-0002</OrgnlEndToEndId><OrgnlEndToEndId>X</OrgnlEndToEndId>",
            marker: "<OrgnlEndToEndId>EP-AAAA-0002",
            reason: "TxInfAndSts/OrgnlEndToEndId: given twice",
        },
        Case {
            name: "no original message id",
            find: "<OrgnlMsgId>EPR-20260302-845000000040484987-1</OrgnlMsgId>",
            replace: "",
            marker: "<OrgnlGrpInfAndSts>",
            reason: "OrgnlGrpInfAndSts/OrgnlMsgId: missing",
        },
        Case {
            name: "no payment information id",
            find: "<OrgnlPmtInfId>EPR-20260302-845000000040484987-1</OrgnlPmtInfId>",
            replace: "",
            marker: "<OrgnlPmtInfAndSts>",
            reason: "OrgnlPmtInfAndSts/OrgnlPmtInfId: missing",
        },
        Case {
            name: "group status twice",
            find: "<GrpSts>PART</GrpSts>",
            replace: "<GrpSts>PART</GrpSts><GrpSts>ACCP</GrpSts>",
            marker: "<GrpSts>PART",
            reason: "OrgnlGrpInfAndSts/GrpSts: given twice",
        },
        Case {
            name: "mismatched tag",
            find: "<TxSts>ACSC</TxSts>",
            replace: "<TxSts>ACSC</TxStatus>",
            marker: "<TxSts>ACSC",
            reason: "the end tag of `TxStatus` where `TxSts` should end",
        },
        Case {
            name: "entity",
            find: "second line &amp; more",
            replace: "second line &nbsp; more",
            marker: "&nbsp;",
            reason: "an entity other than the five of XML",
        },
        Case {
            name: "camt.053 is not a pain.002",
            find: NS03,
            replace: "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02",
            marker: "<Document",
            reason: "not a pain.002: namespace",
        },
        Case {
            name: "version .02",
            find: NS03,
            replace: "urn:iso:std:iso:20022:tech:xsd:pain.002.001.02",
            marker: "<Document",
            reason: "pain.002.001.02 is not read",
        },
        Case {
            name: "wrong message element",
            find: "<CstmrPmtStsRpt>",
            replace: "<FIToFIPmtStsRpt>",
            marker: "<FIToFIPmtStsRpt>",
            reason: "Document does not hold CstmrPmtStsRpt",
        },
        Case {
            name: "no message id",
            find: "<MsgId>STS-20260303-0001</MsgId>",
            replace: "",
            marker: "<GrpHdr>",
            reason: "GrpHdr/MsgId: missing",
        },
        Case {
            name: "message id too long",
            find: "<MsgId>STS-20260303-0001</MsgId>",
            replace: "<MsgId>STS-20260303-0001-0123456789-0123456789</MsgId>",
            marker: "<MsgId>",
            reason: "GrpHdr/MsgId: longer than 35 characters",
        },
        Case {
            name: "doctype",
            find: "<Document",
            replace: "<!DOCTYPE Document>\n<Document",
            marker: "<!DOCTYPE",
            reason: "a DOCTYPE is not allowed",
        },
    ];
    let base = doc(NS03, PARTLY);
    for c in cases {
        assert!(
            base.contains(c.find),
            "{}: {} not in the base",
            c.name,
            c.find
        );
        let text = base.replacen(c.find, c.replace, 1);
        let want = text
            .lines()
            .position(|l| l.contains(c.marker))
            .unwrap_or_else(|| panic!("{}: marker", c.name)) as u64
            + 1;
        let e = parse(text.as_bytes()).expect_err(c.name);
        assert!(
            e.reason.contains(c.reason),
            "{}: {} does not say {}",
            c.name,
            e,
            c.reason
        );
        assert_eq!(e.line, want, "{}: {e}", c.name);
    }
}

#[test]
fn no_group_information_and_cut_off_files_are_refused() {
    let e = parse(doc(NS03, "").as_bytes()).expect_err("no group");
    assert!(e.reason.contains("OrgnlGrpInfAndSts: missing"), "{e}");
    let e = parse(doc(NS03, &format!("{ACCEPTED}\n{ACCEPTED}")).as_bytes()).expect_err("twice");
    assert!(e.reason.contains("OrgnlGrpInfAndSts: given twice"), "{e}");
    let full = doc(NS03, PARTLY);
    for cut in [10, 200, full.len() / 2, full.len() - 3] {
        let e = parse(&full.as_bytes()[..cut]).expect_err("cut off");
        let lines = full[..cut].lines().count() as u64;
        assert!(e.line >= 1 && e.line <= lines + 1, "{cut}: {e}");
    }
    assert!(parse(&b""[..]).is_err());
    assert!(parse(&b"not xml at all"[..]).is_err());
}

#[test]
fn any_byte_changed_never_panics() {
    let full = doc(NS03, PARTLY).into_bytes();
    for i in (0..full.len()).step_by(7) {
        for b in [b'<', b'>', b'&', b'x', 0xFF, b'\n'] {
            let mut v = full.clone();
            v[i] = b;
            if let Err(e) = parse(v.as_slice()) {
                assert!(e.line >= 1, "{i}: {e}");
            }
        }
    }
}

proptest::proptest! {
    /// What the fuzz target (fuzz/fuzz_targets/pain002.rs) checks, on stable: a report
    /// damaged anywhere (a byte changed, or cut short) is read or refused with a line inside
    /// it, never a panic.
    #[test]
    fn damaged_reports_never_panic(pos in 0usize..4000, byte in proptest::prelude::any::<u8>(), cut in proptest::prelude::any::<bool>()) {
        let mut bytes = doc(NS03, PARTLY).into_bytes();
        let pos = pos % bytes.len();
        if cut {
            bytes.truncate(pos);
        } else {
            bytes[pos] = byte;
        }
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        if let Err(e) = parse(&bytes[..]) {
            proptest::prop_assert!(e.line >= 1 && e.line <= lines, "{}", e.reason);
        }
    }
}
