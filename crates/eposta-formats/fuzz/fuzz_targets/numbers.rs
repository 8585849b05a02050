//! Any text: account numbers, references, JMBGs and payment codes are judged without a
//! panic, and a valid one reads back from its printed forms.
#![no_main]

use eposta_formats::account::AccountNumber;
use eposta_formats::jmbg::Jmbg;
use eposta_formats::payment_code::PaymentCode;
use eposta_formats::reference::Reference;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(a) = AccountNumber::parse(s) {
        assert_eq!(AccountNumber::parse(&a.dashed()), Ok(a));
        assert_eq!(AccountNumber::from_iban(&a.iban()), Ok(a));
    }
    let _ = AccountNumber::from_iban(s);
    if let Ok(r) = Reference::parse(s) {
        assert_eq!(Reference::parse_ro(&r.ro()), Ok(r.clone()));
    }
    let _ = Reference::parse_ro(s);
    if let Ok(j) = Jmbg::parse(s) {
        assert_eq!(Jmbg::parse(j.as_str()), Ok(j));
    }
    let _ = PaymentCode::parse(s);
});
