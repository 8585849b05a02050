use super::*;

#[test]
fn serbian_forms_normalise_to_e164() {
    let cases = [
        ("0641234567", "+381641234567"),
        ("064 123 4567", "+381641234567"),
        ("064/123", ""),
        ("064-123-45-67", "+381641234567"),
        ("(064) 123 4567", "+381641234567"),
        ("+381 64 123 4567", "+381641234567"),
        ("+381 (64) 123-4567", "+381641234567"),
        ("00381641234567", "+381641234567"),
        ("381641234567", "+381641234567"),
        ("  0601234567 ", "+381601234567"),
        ("063123456", "+38163123456"),
        ("0691234567", "+381691234567"),
        ("0681234567", "+381681234567"),
        ("0661234567", "+381661234567"),
        ("0677123456", "+381677123456"),
        ("06771234567", "+3816771234567"),
        ("0621234567", "+381621234567"),
        ("0651234567", "+381651234567"),
    ];
    for (input, want) in cases {
        let got = Msisdn::parse(input).map(|m| m.as_str().to_owned());
        if want.is_empty() {
            assert!(got.is_err(), "{input} should be refused, got {got:?}");
        } else {
            assert_eq!(got.as_deref(), Ok(want), "{input}");
        }
    }
}

#[test]
fn refusals_name_the_rule() {
    use NotMobile::*;
    use PhoneError::*;
    let cases: &[(&str, PhoneError)] = &[
        ("", Empty),
        ("   ", Empty),
        ("+", TooShort),
        ("064/1234567", UnknownCharacter('/')),
        ("064.123.4567", UnknownCharacter('.')),
        ("064 123 456a", UnknownCharacter('a')),
        ("064 123 ４567", UnknownCharacter('４')),
        ("064+1234567", MisplacedPlus),
        ("++381641234567", MisplacedPlus),
        ("06412345", TooShort),
        ("064123456789", TooLong),
        ("067712345", TooShort),
        ("067712345678", TooLong),
        ("06", TooShort),
        ("+381", TooShort),
        ("011 123 4567", NotAMobile(Landline)),
        ("021 123456", NotAMobile(Landline)),
        ("+381 11 3234567", NotAMobile(Landline)),
        ("0800 123 456", NotAMobile(TollFree)),
        ("0900 123 456", NotAMobile(PremiumRate)),
        ("0700 123 456", NotAMobile(Service)),
        ("112", EmergencyNumber("112")),
        ("192", EmergencyNumber("192")),
        ("193", EmergencyNumber("193")),
        ("194", EmergencyNumber("194")),
        ("+0641234567", UnsupportedCountryCode),
        ("000381641234567", UnsupportedCountryCode),
        ("+999 1234 5678", UnsupportedCountryCode),
        ("+49 30 1234567", NotAMobile(Landline)),
        ("+44 20 7946 0018", NotAMobile(Landline)),
        ("+49 1511 2345678 9999", TooLong),
        ("+49 151", TooShort),
    ];
    for (input, want) in cases {
        assert_eq!(Msisdn::parse(input).as_ref(), Err(want), "{input}");
    }
}

#[test]
fn other_countries_mobiles_are_accepted() {
    let cases = [
        ("+49 1512 3456789", "+4915123456789"),
        ("0049 1512 3456789", "+4915123456789"),
        ("+44 7911 123456", "+447911123456"),
        ("+385 91 234 5678", "+385912345678"),
        ("+387 61 123 456", "+38761123456"),
        ("+382 67 123 456", "+38267123456"),
        ("+1 202 555 0143", "+12025550143"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("4915123456789", "+4915123456789"),
    ];
    for (input, want) in cases {
        let got = Msisdn::parse(input);
        assert_eq!(got.as_ref().map(Msisdn::as_str), Ok(want), "{input}");
    }
}

#[test]
fn messages_name_the_problem_and_no_digit() {
    let e = Msisdn::parse("064#1234567").unwrap_err().to_string();
    assert!(e.contains("'#'"), "{e}");
    let e = Msisdn::parse("011 123 4567").unwrap_err().to_string();
    assert_eq!(e, "not a mobile number: a landline cannot receive SMS");
    for bad in ["011 123 4567", "064123", "+999 1234 5678"] {
        let e = Msisdn::parse(bad).unwrap_err().to_string();
        assert!(!e.contains("123"), "{e}");
    }
}

#[test]
fn masked_and_debug_hide_the_middle() {
    let m = Msisdn::parse("0641234567").unwrap();
    assert_eq!(m.masked(), "+38164*****67");
    assert_eq!(format!("{m:?}"), "Msisdn(+38164*****67)");
    assert_eq!(m.digits(), "381641234567");
    assert!(m.is_serbian());
    assert!(!Msisdn::parse("+4915123456789").unwrap().is_serbian());
}

proptest::proptest! {
    #[test]
    fn every_serbian_mobile_in_every_form_is_the_same_number(
        prefix in proptest::sample::select(vec!["60", "61", "62", "63", "64", "65", "66", "68", "69", "677"]),
        rest in "[0-9]{6,7}",
    ) {
        let nsn = format!("{prefix}{rest}");
        let want = format!("+381{nsn}");
        for form in [format!("0{nsn}"), format!("+381 {nsn}"), format!("00381{nsn}"), format!("381{nsn}")] {
            let got = Msisdn::parse(&form);
            proptest::prop_assert_eq!(got.as_ref().map(Msisdn::as_str), Ok(want.as_str()));
        }
    }

    #[test]
    fn never_panics(s in "\\PC{0,20}") {
        let _ = Msisdn::parse(&s);
    }
}
