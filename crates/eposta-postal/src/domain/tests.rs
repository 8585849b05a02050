//! Table tests of the booking rules that do not depend on the tariff.

use super::*;

fn sender() -> SenderInput {
    SenderInput {
        name: "Петар Петровић".into(),
        street: "Булевар краља Александра".into(),
        number: "73".into(),
        postal_code: "11000".into(),
        place: "Београд".into(),
        phone: None,
    }
}

fn recipient() -> RecipientInput {
    RecipientInput {
        name: "Јелена Јовановић".into(),
        street: "Змај Јовина".into(),
        number: "12a".into(),
        postal_code: "21000".into(),
        place: "Нови Сад".into(),
        phone: Some("064 123 4567".into()),
        email: None,
    }
}

fn input(product: Product, weight_g: i64) -> ShipmentInput {
    ShipmentInput {
        product,
        weight_g,
        sender: sender(),
        recipient: recipient(),
        options: OptionsInput::default(),
    }
}

fn fields(r: Result<Shipment, Vec<FieldError>>) -> Vec<(String, &'static str)> {
    match r {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|e| (e.field, e.rule.key())).collect(),
    }
}

#[test]
fn a_good_shipment_is_trimmed_and_normalised() {
    let mut i = input(Product::Parcel, 1200);
    i.recipient.name = "  Јелена Јовановић ".into();
    i.recipient.email = Some(" Jelena@Example.RS ".into());
    let s = parse_shipment(&i).expect("valid");
    assert_eq!(s.recipient.name, "Јелена Јовановић");
    assert_eq!(
        s.recipient.phone.as_ref().map(Phone::as_str),
        Some("+381641234567")
    );
    assert_eq!(
        s.recipient.email.as_ref().map(|e| e.as_str()),
        Some("jelena@example.rs")
    );
    assert_eq!(s.item.option_names(), ["registered"]);
}

#[test]
fn every_broken_rule_is_named_by_its_field() {
    type Change = Box<dyn Fn(&mut ShipmentInput)>;
    let cases: Vec<(Change, &str, &str)> = vec![
        (
            Box::new(|i| i.recipient.postal_code = "1100".into()),
            "recipient.postal_code",
            "postal_code",
        ),
        (
            Box::new(|i| i.recipient.postal_code = "11 000".into()),
            "recipient.postal_code",
            "postal_code",
        ),
        (
            Box::new(|i| i.sender.postal_code = "".into()),
            "sender.postal_code",
            "required",
        ),
        (
            Box::new(|i| i.sender.name = "   ".into()),
            "sender.name",
            "required",
        ),
        (
            Box::new(|i| i.recipient.street = "x".repeat(101)),
            "recipient.street",
            "too_long",
        ),
        (
            Box::new(|i| i.recipient.name = "Ана\nЕва".into()),
            "recipient.name",
            "text",
        ),
        (
            Box::new(|i| i.recipient.phone = Some("0800 100 100".into())),
            "recipient.phone",
            "phone",
        ),
        (
            Box::new(|i| i.sender.phone = Some("12345".into())),
            "sender.phone",
            "phone",
        ),
        (
            Box::new(|i| i.recipient.email = Some("not-an-address".into())),
            "recipient.email",
            "email",
        ),
        (Box::new(|i| i.weight_g = 0), "weight_g", "weight"),
        (Box::new(|i| i.weight_g = -5), "weight_g", "weight"),
        (
            Box::new(|i| i.options.cash_on_delivery = Some(Money::rsd(0))),
            "options.cash_on_delivery",
            "amount",
        ),
        (
            Box::new(|i| {
                i.options.declared_value = Some(Money {
                    minor: 100,
                    currency: Currency::EUR,
                })
            }),
            "options.declared_value",
            "currency",
        ),
        (
            Box::new(|i| i.recipient.phone = None),
            "recipient.phone",
            "phone_for_notices",
        ),
        (
            Box::new(|i| {
                i.recipient.phone = Some("  ".into());
                i.options.sms_notice = true;
            }),
            "recipient.phone",
            "phone_for_sms",
        ),
    ];
    for (change, field, rule) in cases {
        let mut i = input(Product::Parcel, 1200);
        change(&mut i);
        assert_eq!(
            fields(parse_shipment(&i)),
            vec![(field.to_owned(), rule)],
            "{field} {rule}"
        );
    }
}

#[test]
fn all_errors_come_at_once() {
    let mut i = input(Product::Parcel, 0);
    i.recipient.postal_code = "1100".into();
    i.sender.place = String::new();
    let got = fields(parse_shipment(&i));
    assert_eq!(
        got,
        vec![
            ("weight_g".to_owned(), "weight"),
            ("sender.place".to_owned(), "required"),
            ("recipient.postal_code".to_owned(), "postal_code"),
        ]
    );
}

#[test]
fn a_plain_letter_needs_no_phone_and_registration_makes_it_a_registered_letter() {
    let mut i = input(Product::Letter, 20);
    i.recipient.phone = None;
    let s = parse_shipment(&i).expect("a letter needs no phone");
    assert_eq!(s.item.product, Product::Letter);
    assert!(s.item.option_names().is_empty());
    i.options.registered = true;
    assert_eq!(
        fields(parse_shipment(&i)),
        vec![("recipient.phone".to_owned(), "phone_for_notices")]
    );
    i.recipient.phone = Some("011 3210 123".into());
    let s = parse_shipment(&i).expect("valid");
    assert_eq!(s.item.product, Product::RegisteredLetter);
    assert_eq!(s.item.option_names(), ["registered"]);
}

#[test]
fn option_names_follow_a_fixed_order() {
    let mut i = input(Product::Parcel, 1200);
    i.options = OptionsInput {
        registered: true,
        cash_on_delivery: Some(Money::rsd(150_000)),
        declared_value: Some(Money::rsd(500_000)),
        delivery_confirmation: true,
        sms_notice: true,
    };
    let s = parse_shipment(&i).expect("valid");
    assert_eq!(
        s.item.option_names(),
        [
            "registered",
            "cash_on_delivery",
            "declared_value",
            "delivery_confirmation",
            "sms_notice"
        ]
    );
}

#[test]
fn grams_and_dinars_as_typed_into_forms() {
    assert_eq!(parse_grams("1200"), Ok(1200));
    assert_eq!(parse_grams(" 1 200 "), Ok(1200));
    assert_eq!(parse_grams(""), Err(Rule::Required));
    for bad in ["1.2", "-3", "12kg", "9999999999"] {
        assert_eq!(parse_grams(bad), Err(Rule::Weight), "{bad}");
    }
    let rsd = |p| Ok(Some(Money::rsd(p)));
    assert_eq!(parse_dinars("1500"), rsd(150_000));
    assert_eq!(parse_dinars("1500,5"), rsd(150_050));
    assert_eq!(parse_dinars("1500.05"), rsd(150_005));
    assert_eq!(parse_dinars(" 1 500,00 RSD"), rsd(150_000));
    assert_eq!(parse_dinars("0,99"), rsd(99));
    assert_eq!(parse_dinars(""), Ok(None));
    assert_eq!(parse_dinars("  "), Ok(None));
    for bad in ["1.500,00", "1,234.5", "12,345", ",5", "abc", "-10", "1e3"] {
        assert_eq!(parse_dinars(bad), Err(Rule::Amount), "{bad}");
    }
}

#[test]
fn booking_codes_avoid_look_alikes() {
    for c in [b'0', b'1', b'I', b'O'] {
        assert!(!BOOKING_ALPHABET.contains(&c));
    }
    assert_eq!(parse_booking_code("abcd-efgh").as_deref(), Some("ABCDEFGH"));
    assert_eq!(
        parse_booking_code(" 2345 6789 ").as_deref(),
        Some("23456789")
    );
    assert_eq!(parse_booking_code("ABCD-EFG0"), None);
    assert_eq!(parse_booking_code("ABCDEFG"), None);
    assert_eq!(group_booking_code("ABCDEFGH"), "ABCD-EFGH");
}

#[test]
fn every_rule_has_a_message_and_key() {
    let rules = [
        Rule::Required,
        Rule::TooLong(5),
        Rule::Text,
        Rule::PostalCode,
        Rule::Phone,
        Rule::Email,
        Rule::Product,
        Rule::Weight,
        Rule::WeightOverMax(2000),
        Rule::NotAllowed(Product::Letter),
        Rule::Amount,
        Rule::AmountOverMax(Money::rsd(100)),
        Rule::Currency,
        Rule::PhoneForSms,
        Rule::PhoneForNotices,
    ];
    let keys: std::collections::BTreeSet<_> = rules.iter().map(Rule::key).collect();
    assert_eq!(keys.len(), rules.len(), "keys are distinct");
    assert_eq!(
        Rule::WeightOverMax(2000).message(),
        "is over the 2000 g this product takes"
    );
    assert_eq!(
        Rule::NotAllowed(Product::Letter).message(),
        "is not offered for letter"
    );
    assert_eq!(
        FieldError::new("recipient.postal_code", Rule::PostalCode).form_name(),
        "recipient_postal_code"
    );
}
