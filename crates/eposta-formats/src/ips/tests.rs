use proptest::prelude::*;

use super::*;

const MINIMAL: &str = "K:PR|V:01|C:1|R:840000000095584510|N:Primalac|I:RSD1025,|SF:289";

fn err(s: &str) -> (String, Rule) {
    let e = IpsQr::parse(s).expect_err(s);
    (e.tag.into_owned(), e.rule)
}

/// Every row of testdata/ips.tsv (serbian-formats.md §7.1).
#[test]
fn every_vector_of_ips_tsv() {
    let mut n = 0;
    for line in include_str!("../../testdata/ips.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("string\t"))
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (string, expected, tag, amount) =
            (cols[0].replace("\\n", "\n"), cols[1], cols[2], cols[3]);
        match (IpsQr::parse(&string), expected) {
            (Ok(qr), "valid") => {
                assert_eq!(qr.amount_para().to_string(), amount, "{string}");
                // The canonical form reads back as the same code.
                assert_eq!(IpsQr::parse(&qr.to_string()), Ok(qr.clone()), "{string}");
            }
            (Err(e), "invalid") => assert_eq!(e.tag, tag, "{string}: {e}"),
            (got, _) => panic!("{string}: expected {expected} {tag}, got {got:?}"),
        }
        n += 1;
    }
    assert_eq!(n, 30, "every row was read");
}

#[test]
fn the_first_vector_in_detail() {
    let s = "K:PR|V:01|C:1|R:160000000000060216|N:Telekom Srbija A.D.\nTakovska 2\nBeograd|I:RSD999,99|P:SAVVAS RADEVIĆ\nIMEULICE 01\n11000 BEOGRAD 6|SF:189|S:MTS Račun 01/2020 12345566/2|RO:97082240113797893";
    let qr = IpsQr::parse(s).expect("valid");
    assert_eq!(qr.kind(), Kind::Pr);
    assert_eq!(qr.payee_account().dashed(), "160-602-16");
    assert_eq!(qr.payee(), "Telekom Srbija A.D.\nTakovska 2\nBeograd");
    assert_eq!(qr.amount_para(), 99_999);
    assert_eq!(
        qr.payer(),
        Some("SAVVAS RADEVIĆ\nIMEULICE 01\n11000 BEOGRAD 6")
    );
    assert_eq!(qr.payment_code().map(|c| c.number()), Some(189));
    assert_eq!(qr.purpose(), Some("MTS Račun 01/2020 12345566/2"));
    assert_eq!(
        qr.reference().map(|r| r.to_string()),
        Some("97 082240113797893".to_owned())
    );
    // Already canonical but for the amount's decimals, which are written out.
    assert_eq!(qr.to_string(), s);
    let s3 = "K:PR|V:01|C:1|R:123456789012345611|N:JEST Ltd., Test|I:RSD1295,|SF:123|S:Testing|RO:972012345";
    assert_eq!(
        IpsQr::parse(s3).expect("valid").to_string(),
        s3.replace("RSD1295,", "RSD1295,00")
    );
}

#[test]
fn errors_name_the_tag_and_the_rule() {
    let cases: &[(&str, &str, &str)] = &[
        ("", "K", "missing"),
        (" K:PR", "K", "must start with K:"),
        ("\nK:PR", "K", "must start with K:"),
        ("V:01|C:1", "K", "missing"),
        ("K:XX", "K", "must be PR, PT, PK or EK"),
        ("K:PR", "V", "missing; mandatory for PR"),
        (
            "K:PR|V:01|C:1|R:840000000095584510|N:Primalac|I:RSD1025,",
            "SF",
            "mandatory for PR",
        ),
        ("K:PR|V:01||C:1", "V", "empty field"),
        ("K:PR|V:01|C1", "C1", "no ':'"),
        ("K:PR|V:01|X:1", "X", "not an IPS QR tag"),
        ("K:PR|V:01|V:01", "V", "appears twice"),
        ("K:PR|C:1|V:01", "V", "must come before C"),
        (
            "K:PR|V:01|C:1|R:8400000000955845|N:A|I:RSD1,|SF:289",
            "R",
            "exactly 18 digits",
        ),
        (
            "K:PR|V:01|C:1|R:840000000095584511|N:A|I:RSD1,|SF:289",
            "R",
            "control digits 11, expected 10",
        ),
    ];
    for (s, tag, rule) in cases {
        let e = IpsQr::parse(s).expect_err(s);
        assert_eq!(e.tag, *tag, "{s}: {e}");
        assert!(e.to_string().starts_with(&format!("{tag}: ")), "{e}");
        assert!(e.rule.to_string().contains(rule), "{s}: {e}");
    }
    // Values that break their tag's rule, in the minimal code.
    let with = |from: &str, to: &str| MINIMAL.replace(from, to);
    for (s, tag, rule) in [
        (with("N:Primalac", "N:A\n\nB"), "N", Rule::EmptyLine),
        (with("N:Primalac", "N:A\tB"), "N", Rule::ControlCharacter),
        (with("N:Primalac", "N:A\rB"), "N", Rule::ControlCharacter),
        (format!("{MINIMAL}|S:two\nlines"), "S", Rule::Newline),
        (
            format!("{MINIMAL}|S:{}", "s".repeat(36)),
            "S",
            Rule::TooLong { max: 35 },
        ),
        (format!("{MINIMAL}|S:trailing "), "S", Rule::Trailing),
        (format!("{MINIMAL}\n"), "SF", Rule::Trailing),
        (
            format!("{MINIMAL}|M:12345"),
            "M",
            Rule::Form("must be 4 digits (ISO 18245 merchant category code)"),
        ),
        (
            format!("{MINIMAL}|RO:00{}", "1".repeat(34)),
            "RO",
            Rule::TooLong { max: 35 },
        ),
        (
            with("I:RSD1025,", "I:RSD1025,001"),
            "I",
            Rule::Form("at most 2 decimals"),
        ),
        (
            with("I:RSD1025,", "I:RSD-1,00"),
            "I",
            Rule::Form("digits, one decimal comma, no thousands separator (RSD1025,00)"),
        ),
        (
            with("K:PR", "K:PT")
                .replace("|SF:289", "|SF:289|M:5411")
                .replace("RSD1025,", "RSD0,00"),
            "I",
            Rule::ZeroAmount,
        ),
        (
            format!("{MINIMAL}|RP:ABCD1234240010000011"),
            "RP",
            Rule::Form(
                "must be 19 characters: terminal id (8 letters or digits), year (2 digits), day of the year (001-366), transaction number (6 digits)",
            ),
        ),
        (
            format!("{MINIMAL}|RP:ABCD123424367000001"),
            "RP",
            Rule::Form(
                "must be 19 characters: terminal id (8 letters or digits), year (2 digits), day of the year (001-366), transaction number (6 digits)",
            ),
        ),
    ] {
        assert_eq!(err(&s), (tag.to_owned(), rule), "{s}");
    }
    assert_eq!(
        IpsQr::parse_bytes(b"K:PR|V:01|C:1|N:\xff").map_err(|e| e.tag),
        Err("C".into())
    );
}

#[test]
fn lenient_where_the_rules_allow() {
    // CR LF inside N and P (dusnm emits it) reads as LF; values may hold ':'.
    let s = MINIMAL.replace("N:Primalac", "N:Primalac d.o.o.\r\nUlica 1: ulaz 2");
    let qr = IpsQr::parse(&s).expect("valid");
    assert_eq!(qr.payee(), "Primalac d.o.o.\nUlica 1: ulaz 2");
    // RO: up to 35 characters when parsing; the generator would refuse more than 25.
    let long_ro = format!("{MINIMAL}|RO:00{}", "1".repeat(33));
    assert!(IpsQr::parse(&long_ro).is_ok());
    // Every optional tag at once, in order.
    let all = format!(
        "{}|O:840000074222184357|P:Platilac|SF:289|S:Svrha|M:5411|JS:12345|RK:AB12CD34|RO:9714123412|RL:ref: 1|RP:ABCD123424001000011",
        MINIMAL.replace("|SF:289", "").replace("K:PR", "K:PT")
    );
    let qr = IpsQr::parse(&all).expect("valid");
    assert_eq!(qr.to_string(), all.replace("RSD1025,", "RSD1025,00"));
    assert_eq!(
        (
            qr.mcc(),
            qr.one_time_code(),
            qr.payer_reference(),
            qr.payee_reference(),
            qr.pos_reference()
        ),
        (
            Some("5411"),
            Some("12345"),
            Some("AB12CD34"),
            Some("ref: 1"),
            Some("ABCD123424001000011")
        )
    );
    assert_eq!(
        qr.payer_account().map(|a| a.dashed()),
        Some("840-742221843-57".into())
    );
}

fn fields() -> IpsFields {
    IpsFields {
        payment_code: Some("289".into()),
        purpose: Some("Račun 2024-001".into()),
        reference: Some("97 14-123412".into()),
        payer: Some("Петар Петровић\nУлица 1\n11000 Београд".into()),
        ..IpsFields::new(
            Kind::Pr,
            "840-955845-10",
            "ePošta\nTakovska 2\nBeograd",
            102_550,
        )
    }
}

#[test]
fn generation_writes_the_canonical_string() {
    let qr = IpsQr::new(&fields()).expect("valid");
    assert_eq!(
        qr.to_string(),
        "K:PR|V:01|C:1|R:840000000095584510|N:ePošta\nTakovska 2\nBeograd|I:RSD1025,50|P:Петар Петровић\nУлица 1\n11000 Београд|SF:289|S:Račun 2024-001|RO:9714123412"
    );
    // Empty optional fields are left out rather than written as `S:`.
    let qr = IpsQr::new(&IpsFields {
        purpose: Some(String::new()),
        ..fields()
    })
    .expect("valid");
    assert!(!qr.to_string().contains("|S:"));
}

#[test]
fn generation_is_stricter_than_parsing() {
    let bad = |f: IpsFields| {
        let e = IpsQr::new(&f).expect_err("refused");
        (e.tag.into_owned(), e.rule)
    };
    assert_eq!(
        bad(IpsFields {
            purpose: Some("a|b".into()),
            ..fields()
        }),
        ("S".into(), Rule::Separator)
    );
    assert_eq!(
        bad(IpsFields {
            purpose: Some("Ωmega".into()),
            ..fields()
        }),
        ("S".into(), Rule::Character('Ω'))
    );
    assert_eq!(
        bad(IpsFields {
            payee: "ЩИТ".into(),
            ..fields()
        }),
        ("N".into(), Rule::Character('Щ'))
    );
    assert_eq!(
        bad(IpsFields {
            reference: Some(format!("00{}", "1".repeat(24))),
            ..fields()
        }),
        ("RO".into(), Rule::TooLong { max: 25 })
    );
    assert!(
        IpsQr::new(&IpsFields {
            reference: Some(format!("00{}", "1".repeat(23))),
            ..fields()
        })
        .is_ok()
    );
    assert_eq!(
        bad(IpsFields {
            amount_para: -1,
            ..fields()
        })
        .0,
        "I"
    );
    assert_eq!(
        bad(IpsFields {
            amount_para: MAX_AMOUNT_PARA + 1,
            ..fields()
        })
        .0,
        "I"
    );
    assert_eq!(
        bad(IpsFields {
            payee_account: "160-5100-45".into(),
            ..fields()
        })
        .0,
        "R"
    );
    assert_eq!(
        bad(IpsFields {
            payment_code: None,
            ..fields()
        }),
        ("SF".into(), Rule::Missing { kind: "PR" })
    );
    assert_eq!(
        bad(IpsFields {
            kind: Kind::Ek,
            ..fields()
        }),
        ("M".into(), Rule::Missing { kind: "EK" })
    );
    assert_eq!(
        bad(IpsFields {
            payee: "A\nB\nC\nD".into(),
            ..fields()
        }),
        ("N".into(), Rule::TooManyLines)
    );
    assert!(
        IpsQr::new(&IpsFields {
            amount_para: MAX_AMOUNT_PARA,
            ..fields()
        })
        .is_ok()
    );
}

/// Text the generator accepts: a few words of Serbian Latin, Cyrillic and ASCII.
fn words(max_chars: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Za-z0-9šđžčćŠĐŽČĆА-ИК-Шабвгдђежзијклљмнњопрстћуфхцчџш.,:/()-]{1,12}( [A-Za-z0-9ćčž.]{1,8}){0,3}")
        .expect("regex")
        .prop_filter("not too long", move |s| s.chars().count() <= max_chars)
}

fn lines(max_chars: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(words(20), 1..=3)
        .prop_map(|l| l.join("\n"))
        .prop_filter("not too long", move |s| s.chars().count() <= max_chars)
}

fn account() -> impl Strategy<Value = String> {
    (0u16..1000, 0u64..10_000_000_000_000).prop_map(|(b, a)| {
        crate::account::AccountNumber::new(b, a)
            .expect("in range")
            .dashed()
    })
}

prop_compose! {
    fn any_fields()(
        kind in prop::sample::select(vec![Kind::Pr, Kind::Pt, Kind::Pk, Kind::Ek]),
        payee_account in account(),
        payee in lines(70),
        amount_para in 1i64..=MAX_AMOUNT_PARA,
        payer_account in prop::option::of(account()),
        payer in prop::option::of(lines(70)),
        payment_code in prop::option::of("[12][0-9]{2}"),
        purpose in prop::option::of(words(35)),
        mcc in "[0-9]{4}",
        one_time_code in prop::option::of("[0-9]{5}"),
        payer_reference in prop::option::of("[A-Z0-9]{1,8}"),
        reference in prop::option::of(prop_oneof![
            "[0-9A-Z]{1,21}".prop_map(|b| crate::reference::Reference::model97(&b).expect("valid").to_string()),
            "[0-9]{1,20}".prop_map(|b| format!("00{b}")),
        ]),
        payee_reference in prop::option::of(words(140)),
        pos_reference in prop::option::of("[A-Z0-9]{8}[0-9]{2}(00[1-9]|0[1-9][0-9]|[12][0-9]{2}|3[0-5][0-9]|36[0-6])[0-9]{6}"),
    ) -> IpsFields {
        IpsFields {
            kind,
            payee_account,
            payee,
            amount_para,
            payer_account,
            payer,
            payment_code: if kind == Kind::Pr { Some(payment_code.unwrap_or_else(|| "289".into())) } else { payment_code },
            purpose,
            mcc: (kind != Kind::Pr).then_some(mcc),
            one_time_code,
            payer_reference,
            reference,
            payee_reference,
            pos_reference,
        }
    }
}

proptest! {
    #[test]
    fn generated_codes_parse_back_to_themselves(f in any_fields()) {
        let qr = IpsQr::new(&f).map_err(|e| TestCaseError::fail(format!("{e} for {f:?}")))?;
        let s = qr.to_string();
        prop_assert_eq!(IpsQr::parse(&s), Ok(qr.clone()));
        prop_assert_eq!(qr.amount_para(), f.amount_para);
        prop_assert_eq!(qr.payee(), f.payee.as_str());
        prop_assert!(!s.starts_with('|') && !s.ends_with('|') && !s.contains("||"));
    }

    /// Fuzz-style: any text, and valid codes with one byte changed, are judged without a
    /// panic, and a verdict of "valid" always means the canonical form parses the same.
    #[test]
    fn any_string_is_judged_without_panicking(s in "\\PC{0,200}|[KVCRNIOPSFMJL:|,0-9RSD\n]{0,120}") {
        if let Ok(qr) = IpsQr::parse(&s) {
            prop_assert_eq!(IpsQr::parse(&qr.to_string()), Ok(qr));
        }
    }

    #[test]
    fn changed_valid_codes_are_judged_without_panicking(f in any_fields(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let s = IpsQr::new(&f).map_err(|e| TestCaseError::fail(e.to_string()))?.to_string();
        let mut b = s.into_bytes();
        let i = pos.index(b.len());
        b[i] = byte;
        if let Ok(qr) = IpsQr::parse_bytes(&b) {
            prop_assert_eq!(IpsQr::parse(&qr.to_string()), Ok(qr));
        }
        b.truncate(i);
        let _ = IpsQr::parse_bytes(&b);
    }
}
