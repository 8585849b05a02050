use super::*;

fn values(pairs: &[(&str, &str)]) -> Personalisation {
    pairs.iter().copied().collect()
}

#[test]
fn render_table() {
    let v = values(&[
        ("name", "Ana"),
        ("Office", "Beograd 6"),
        ("cod", "yes"),
        ("late", "no"),
        ("amount", "1.200,00"),
    ]);
    let cases = [
        ("Hello ((name))", "Hello Ana"),
        ("((NAME)) ((n a m e)) ((Name ))", "Ana Ana Ana"),
        ("Pick up at ((office)).", "Pick up at Beograd 6."),
        (
            "Pay ((cod??((amount)) RSD ))on delivery",
            "Pay ((cod??1.200,00 RSD ))on delivery",
        ),
        (
            "((cod??Pay on delivery.))((late?? Late.))",
            "Pay on delivery.",
        ),
        ("(( name ))", "Ana"),
        ("(name) (()) ((a(b)) ((", "(name) (()) ((a(b)) (("),
        ("((((name))))", "((Ana))"),
        ("no placeholders", "no placeholders"),
        ("", ""),
        ("Ћао ((name)) 😀", "Ћао Ana 😀"),
        ("((cod??a??b))", "a??b"),
    ];
    for (t, want) in cases {
        assert_eq!(render(t, &v).as_deref(), Ok(want), "{t}");
    }
}

#[test]
fn conditionals_follow_notify_truth() {
    for yes in ["yes", "Y", "TRUE", "t", "1", "include", "Show"] {
        assert_eq!(
            render("((x??on))", &values(&[("x", yes)])).as_deref(),
            Ok("on"),
            "{yes}"
        );
    }
    for no in ["no", "", "0", "false", "da", "yes please"] {
        assert_eq!(
            render("((x??on))", &values(&[("x", no)])).as_deref(),
            Ok(""),
            "{no}"
        );
    }
}

#[test]
fn missing_fields_are_all_named_once() {
    let e = render("((Name)) ((office)) ((name)) ((cod??x))", &values(&[])).unwrap_err();
    assert_eq!(
        e,
        MissingFields(vec!["Name".into(), "office".into(), "cod".into()])
    );
    assert_eq!(e.to_string(), "missing personalisation: Name, office, cod");
    assert_eq!(
        placeholders("((Name)) ((office)) ((NAME)) ((cod??x))"),
        vec!["Name", "office", "cod"]
    );
}

#[test]
fn preview_reports_the_cost() {
    let v = values(&[("ime", "Đorđe")]);
    let p = preview("Poštovani ((ime)), paket čeka.", &v, false).unwrap();
    assert_eq!(p.encoding, Encoding::Ucs2);
    assert_eq!(p.ucs2_because_of, vec!['š', 'Đ', 'đ', 'č']);
    assert_eq!((p.characters, p.units, p.segments), (28, 28, 1));
    assert!(p.transliterated.is_empty());

    let p = preview("Poštovani ((ime)), paket čeka.", &v, true).unwrap();
    assert_eq!(p.text, "Postovani Djordje, paket ceka.");
    assert_eq!(p.encoding, Encoding::Gsm7);
    assert!(p.ucs2_because_of.is_empty());
    assert_eq!(p.transliterated.len(), 4);
    assert!(p.within_limit());

    let long = "a".repeat(918);
    assert!(preview(&long, &v, false).unwrap().within_limit());
    let p = preview(&(long + "a"), &v, false).unwrap();
    assert_eq!(p.segments, 7);
    assert!(!p.within_limit());
    let p = preview(&"ш".repeat(403), &v, false).unwrap();
    assert_eq!((p.segments, p.within_limit()), (7, false));
    assert!(preview(&"ш".repeat(402), &v, false).unwrap().within_limit());
    assert!(preview("((x))", &v, false).is_err());
}

proptest::proptest! {
    #[test]
    fn text_without_placeholders_is_unchanged(t in "[^()]{0,200}") {
        proptest::prop_assert_eq!(render(&t, &Personalisation::new()), Ok(t.clone()));
    }

    #[test]
    fn render_never_panics(t in "\\PC{0,100}", v in "\\PC{0,20}") {
        let p = values(&[("a", v.as_str())]);
        let _ = render(&t, &p);
    }
}
