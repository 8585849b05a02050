use super::*;
use proptest::prelude::*;

fn rows(table: &str) -> impl Iterator<Item = Vec<&str>> {
    table
        .lines()
        .filter(|l| {
            !l.starts_with('#') && !l.starts_with("model\t") && !l.starts_with("algorithm\t")
        })
        .map(|l| l.split('\t').collect())
}

/// Every row of testdata/references.tsv (serbian-formats.md §7.3).
#[test]
fn every_vector_of_references_tsv() {
    let mut n = 0;
    for cols in rows(include_str!("../testdata/references.tsv")) {
        let (model, input, expected) = (cols[0], cols[1], cols[2]);
        let got = if model.is_empty() {
            Reference::parse(input)
        } else {
            Reference::new(Model::parse(model).expect("a model"), input)
        };
        let outcome = match &got {
            Ok(r) if r.is_checked() => "valid",
            Ok(_) => "valid-unchecked",
            Err(
                ReferenceError::Control97 { .. }
                | ReferenceError::Control11 { .. }
                | ReferenceError::Control22 { .. },
            ) => "invalid-control",
            Err(_) => "invalid-format",
        };
        assert_eq!(outcome, expected, "{model} {input}: {got:?}");
        if let Ok(r) = got {
            // The IPS form reads back as the same reference.
            assert_eq!(Reference::parse_ro(&r.ro()), Ok(r.clone()), "{input}");
            assert_eq!(Reference::parse(&r.to_string()), Ok(r), "{input}");
        }
        n += 1;
    }
    assert_eq!(n, 20, "every row was read");
}

/// Every row of testdata/reference-controls.tsv.
#[test]
fn every_vector_of_reference_controls_tsv() {
    let mut n = 0;
    for cols in rows(include_str!("../testdata/reference-controls.tsv")) {
        let (algorithm, body, result) = (cols[0], cols[1], cols[2]);
        let got = match algorithm {
            "97" => model97_control(body).map(|c| format!("{c:02}")),
            "11" => model11_control(body).map(|c| c.to_string()),
            "22" => model22_control(body).map(|c| c.to_string()),
            "letters" => model97_digits(body),
            other => panic!("unknown algorithm {other}"),
        };
        assert_eq!(got.as_deref(), Some(result), "{algorithm} {body}");
        n += 1;
    }
    assert_eq!(n, 10, "every row was read");
}

#[test]
fn the_forms_of_a_reference() {
    let r = Reference::parse("97 47-21750940-2204").expect("valid");
    assert_eq!(r.model(), Model::M97);
    assert_eq!(r.reference(), "47217509402204");
    assert_eq!(r.ro(), "9747217509402204");
    assert_eq!(r.to_string(), "97 47217509402204");
    let lower = Reference::parse("9728-12345a").expect("valid");
    assert_eq!(lower.ro(), "972812345A");
    assert_eq!(
        Reference::model97("123412").map(|r| r.ro()),
        Ok("9714123412".to_owned())
    );
    // No model: 00 in an IPS QR code.
    let none = Reference::parse_ro("001234").expect("valid");
    assert_eq!(
        (none.model(), none.reference(), none.is_checked()),
        (Model::None, "1234", false)
    );
    // A model whose rule is not known: accepted, and said to be unchecked.
    let other = Reference::parse("12 ABC-1").expect("valid");
    assert_eq!(
        (other.model(), other.is_checked()),
        (Model::Other(12), false)
    );
}

#[test]
fn model_97_in_an_ips_code_has_no_separators() {
    assert_eq!(
        Reference::parse_ro("97-14-123412"),
        Err(ReferenceError::Separators97)
    );
    assert_eq!(
        Reference::parse_ro("97-1234"),
        Err(ReferenceError::Separators97)
    );
    assert_eq!(
        Reference::parse_ro("9714123413"),
        Err(ReferenceError::Control97 {
            found: "14".into(),
            expected: 11
        })
    );
    assert_eq!(Reference::parse_ro("97"), Err(ReferenceError::Empty));
    assert_eq!(Reference::parse_ro("9714"), Err(ReferenceError::Empty));
    assert_eq!(Reference::parse_ro("00"), Err(ReferenceError::Empty));
    assert_eq!(Reference::parse_ro("X1234"), Err(ReferenceError::Model));
    assert_eq!(
        Reference::parse_ro(&format!("00{}", "1".repeat(34))),
        Err(ReferenceError::TooLong)
    );
    assert!(Reference::parse_ro(&format!("00{}", "1".repeat(33))).is_ok());
}

#[test]
fn model_11_and_22_structure() {
    assert_eq!(
        Reference::new(Model::M11, "1-26050"),
        Err(ReferenceError::Parts11)
    );
    assert_eq!(
        Reference::new(Model::M11, "801326789042-26051"),
        Err(ReferenceError::Control11 {
            part: 2,
            found: 1,
            expected: 0
        })
    );
    assert_eq!(
        Reference::new(Model::M11, "801326789042-26050-1-2"),
        Err(ReferenceError::Parts11)
    );
    assert_eq!(
        Reference::new(Model::M11, "8013A"),
        Err(ReferenceError::Digits(11))
    );
    assert_eq!(
        Reference::new(Model::M22, "2231"),
        Err(ReferenceError::Format22)
    );
}

proptest! {
    #[test]
    fn generated_model_97_references_validate(body in "[0-9A-Za-z]{1,31}") {
        let r = Reference::model97(&body).expect("valid");
        prop_assert_eq!(Reference::parse_ro(&r.ro()), Ok(r.clone()));
        prop_assert_eq!(Reference::parse(&format!("97 {}", r.reference())), Ok(r.clone()));
        prop_assert_eq!(r.reference()[2..].to_string(), body.to_ascii_uppercase());
    }

    #[test]
    fn generated_model_11_and_22_references_validate(p1 in "[0-9]{1,10}", p2 in "[0-9]{1,8}", p3 in "[0-9]{0,4}", muni in "[0-9]{3}") {
        let part = |b: &str| format!("{b}{}", model11_control(b).expect("digits"));
        let mut text = format!("{}-{}", part(&p1), part(&p2));
        if !p3.is_empty() {
            text = format!("{text}-{p3}");
        }
        prop_assert!(Reference::new(Model::M11, &text).is_ok(), "{}", text);
        let m22 = format!("{muni}-{p1}{}", model22_control(&p1).expect("digits"));
        prop_assert!(Reference::new(Model::M22, &m22).is_ok(), "{}", m22);
    }

    #[test]
    fn any_text_parses_or_fails_without_panicking(s in "\\PC{0,40}|[0-9]{2}[ -]?[0-9A-Za-z -]{0,30}") {
        if let Ok(r) = Reference::parse(&s) {
            prop_assert_eq!(Reference::parse_ro(&r.ro()), Ok(r.clone()));
            prop_assert_eq!(Reference::parse(&r.to_string()), Ok(r));
        }
        let _ = Reference::parse_ro(&s);
        for model in [Model::M97, Model::M11, Model::M22, Model::None] {
            let _ = Reference::new(model, &s);
        }
    }
}
