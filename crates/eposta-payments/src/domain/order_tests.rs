//! Table tests of payment-order validation: every field named, several at once.

use super::*;

pub(crate) fn good() -> PaymentInput {
    PaymentInput {
        payer: PayerInput {
            name: "Петар Петровић".into(),
            address: "Булевар краља Александра 73\n11000 Београд".into(),
        },
        payee: PayeeInput {
            name: "ЈП ЕПС Београд".into(),
            address: String::new(),
            account: "845-0000000404849-87".into(),
        },
        purpose: "Рачун за струју 01/2026".into(),
        payment_code: "289".into(),
        amount: Some(Money::rsd(359_613)),
        reference: Some("97 163220000111111111000".into()),
        method: "ips".into(),
        return_url: None,
    }
}

fn fields(r: Result<PaymentOrder, Vec<FieldError>>) -> Vec<(String, &'static str)> {
    match r {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|e| (e.field, e.rule.key())).collect(),
    }
}

#[test]
fn a_good_order_is_trimmed_and_normalised() {
    let mut i = good();
    i.payer.name = "  Петар Петровић ".into();
    i.payer.address = " Булевар 73 \r\n\r\n 11000 Београд ".into();
    i.payee.account = "845000000040484987".into();
    i.reference = Some("9716-3220000111111111000".into());
    let o = parse_order(&i, Channel::Web).expect("valid");
    assert_eq!(o.payer.name, "Петар Петровић");
    assert_eq!(o.payer.address, "Булевар 73\n11000 Београд");
    assert_eq!(o.payee_account.dashed(), "845-404849-87");
    assert_eq!(
        o.reference.as_ref().map(|r| r.ro()),
        Some("97163220000111111111000".into())
    );
    assert_eq!(o.amount_para, 359_613);
    assert_eq!(o.method, Method::Ips);
    assert_eq!(o.return_url, None);
    let shown = format!("{o:?}");
    assert!(
        !shown.contains("Петар") && !shown.contains("845"),
        "{shown}"
    );
}

#[test]
fn every_broken_rule_is_named_at_once() {
    let i = PaymentInput {
        payer: PayerInput::default(),
        payee: PayeeInput {
            name: "x".repeat(71),
            address: "a\nb\nc".into(),
            account: "845-0000000142849-68".into(),
        },
        purpose: String::new(),
        payment_code: "389".into(),
        amount: Some(Money::rsd(0)),
        reference: Some("97 20-123456".into()),
        method: "cheque".into(),
        return_url: None,
    };
    assert_eq!(
        fields(parse_order(&i, Channel::Web)),
        [
            ("payer.name".to_owned(), "required"),
            ("payee.name".to_owned(), "too_long"),
            ("payee.address".to_owned(), "too_many_lines"),
            ("payee.account".to_owned(), "account"),
            ("purpose".to_owned(), "required"),
            ("payment_code".to_owned(), "payment_code"),
            ("amount".to_owned(), "amount"),
            ("reference".to_owned(), "reference"),
            ("method".to_owned(), "method"),
        ]
    );
}

#[test]
fn single_rules_by_field() {
    type Edit = fn(&mut PaymentInput);
    let cases: &[(&str, Edit, &str, &str)] = &[
        (
            "empty account",
            |i| i.payee.account = " ".into(),
            "payee.account",
            "required",
        ),
        (
            "short undashed account",
            |i| i.payee.account = "12345682".into(),
            "payee.account",
            "account",
        ),
        (
            "name with a newline",
            |i| i.payer.name = "A\nB".into(),
            "payer.name",
            "text",
        ),
        (
            "control character",
            |i| i.payee.name = "A\u{7}B".into(),
            "payee.name",
            "text",
        ),
        ("pipe", |i| i.purpose = "a|b".into(), "purpose", "separator"),
        (
            "long purpose",
            |i| i.purpose = "x".repeat(36),
            "purpose",
            "too_long",
        ),
        (
            "empty code",
            |i| i.payment_code = String::new(),
            "payment_code",
            "required",
        ),
        (
            "two-digit code",
            |i| i.payment_code = "28".into(),
            "payment_code",
            "payment_code",
        ),
        (
            "negative",
            |i| i.amount = Some(Money::rsd(-1)),
            "amount",
            "amount",
        ),
        (
            "absurd",
            |i| i.amount = Some(Money::rsd(MAX_AMOUNT_PARA + 1)),
            "amount",
            "amount_over_max",
        ),
        (
            "euro",
            |i| {
                i.amount = Some(Money {
                    minor: 100,
                    currency: eposta_kernel::money::Currency::EUR,
                })
            },
            "amount.currency",
            "currency",
        ),
        (
            "dashed model 97 control",
            |i| i.reference = Some("97 28-12345b".into()),
            "reference",
            "reference",
        ),
        (
            "no method",
            |i| i.method = String::new(),
            "method",
            "required",
        ),
        ("no amount", |i| i.amount = None, "amount", "required"),
        (
            "cash at home",
            |i| i.method = "cash".into(),
            "method",
            "method_not_here",
        ),
    ];
    for (what, edit, field, rule) in cases {
        let mut i = good();
        edit(&mut i);
        assert_eq!(
            fields(parse_order(&i, Channel::Web)),
            [((*field).to_owned(), *rule)],
            "{what}"
        );
    }
}

#[test]
fn edges_of_the_limits_pass() {
    let mut i = good();
    i.payer.name = "x".repeat(MAX_NAME);
    i.purpose = "y".repeat(MAX_PURPOSE);
    i.amount = Some(Money::rsd(MAX_AMOUNT_PARA));
    i.reference = Some("00 anything-goes 12".into());
    assert!(parse_order(&i, Channel::Web).is_ok());
    i.amount = Some(Money::rsd(1));
    i.reference = Some(String::new());
    let o = parse_order(&i, Channel::Web).expect("valid");
    assert_eq!(o.reference, None);
}

#[test]
fn card_payments_through_the_api_need_a_return_url() {
    let mut i = good();
    i.method = "card".into();
    assert_eq!(
        fields(parse_order(&i, Channel::Api)),
        [("return_url".to_owned(), "required")]
    );
    for bad in [
        "shop.example.rs/paid",
        "ftp://shop.example.rs/",
        "https://u:p@shop.example.rs/",
        "javascript:alert(1)",
    ] {
        i.return_url = Some(bad.into());
        assert_eq!(
            fields(parse_order(&i, Channel::Api)),
            [("return_url".to_owned(), "url")],
            "{bad}"
        );
    }
    i.return_url = Some("https://shop.example.rs/paid?order=7".into());
    let o = parse_order(&i, Channel::Api).expect("valid");
    assert_eq!(
        o.return_url.as_deref(),
        Some("https://shop.example.rs/paid?order=7")
    );
    // On the web pages ePošta is the one the card holder returns to.
    assert_eq!(
        parse_order(&i, Channel::Web).expect("valid").return_url,
        None
    );
}

#[test]
fn the_counter_takes_cash_only() {
    let mut i = good();
    assert_eq!(
        fields(parse_order(&i, Channel::Counter)),
        [("method".to_owned(), "method_not_here")]
    );
    i.method = "cash".into();
    assert_eq!(
        parse_order(&i, Channel::Counter).expect("valid").method,
        Method::Cash
    );
}
