//! The payment order form (uplatnica) as posted, how it becomes a [`PaymentInput`], and how
//! an IPS QR code fills it ([`fill_from_ips_qr`]: the hook for reading a bill's QR code from
//! a photo, which only has to decode the image to the code's text).

use eposta_formats::ips::IpsQr;
use eposta_formats::reference::Model;
use eposta_kernel::money::Money;
use serde::Deserialize;

use crate::domain::order::parse_dinars;
use crate::domain::{FieldError, PayeeInput, PayerInput, PaymentInput, Rule};
use crate::model::SavedPayee;

/// The form's fields, as typed; every one may be empty or wrong.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PaymentForm {
    pub payer_name: String,
    pub payer_address: String,
    pub payee_name: String,
    pub payee_address: String,
    pub payee_account: String,
    pub purpose: String,
    pub payment_code: String,
    /// Dinars: `3596,13`.
    pub amount: String,
    /// Two digits, or empty for none.
    pub reference_model: String,
    pub reference_number: String,
    /// An IPS QR code's text, pasted or typed, to fill the form from.
    pub ips_qr: String,
    /// The form's key from its fee step: confirming twice pays once.
    pub submission: String,
    /// `fill_qr`, `quote`, `pay_card` or `pay_ips`.
    pub action: String,
}

/// Dinars as the form shows them: `3596,13`.
pub fn dinars(para: i64) -> String {
    format!("{},{:02}", para / 100, para % 100)
}

impl PaymentForm {
    /// The order for `method`, and the rules the form's own reading broke (an amount that
    /// is not a number of dinars).
    pub fn to_input(&self, method: &str) -> (PaymentInput, Vec<FieldError>) {
        let mut errors = Vec::new();
        let amount = match parse_dinars(&self.amount) {
            Ok(Some(para)) => Some(Money::rsd(para)),
            Ok(None) => None,
            Err(rule) => {
                errors.push(FieldError::new("amount", rule));
                Some(Money::rsd(1))
            }
        };
        let number = self.reference_number.trim();
        let reference = if number.is_empty() {
            None
        } else {
            let model = match self.reference_model.trim() {
                "" => "00",
                m => m,
            };
            Some(format!("{model} {number}"))
        };
        let input = PaymentInput {
            payer: PayerInput {
                name: self.payer_name.clone(),
                address: self.payer_address.clone(),
            },
            payee: PayeeInput {
                name: self.payee_name.clone(),
                address: self.payee_address.clone(),
                account: self.payee_account.clone(),
            },
            purpose: self.purpose.clone(),
            payment_code: self.payment_code.clone(),
            amount,
            reference,
            method: method.to_owned(),
            return_url: None,
        };
        (input, errors)
    }

    /// Fills the payee's part from a saved payee.
    pub fn fill_from_payee(&mut self, p: &SavedPayee) {
        self.payee_name.clone_from(&p.name);
        self.payee_address.clone_from(&p.address);
        self.payee_account = eposta_formats::account::AccountNumber::parse(&p.account)
            .map_or_else(|_| p.account.clone(), |a| a.dashed());
        self.payment_code.clone_from(&p.payment_code);
        self.purpose.clone_from(&p.purpose);
        let reference = p
            .reference
            .as_deref()
            .and_then(|r| eposta_formats::reference::Reference::parse_ro(r).ok());
        self.set_reference(reference.as_ref());
    }

    fn set_reference(&mut self, r: Option<&eposta_formats::reference::Reference>) {
        match r {
            Some(r) => {
                self.reference_model = format!("{:02}", r.model().number());
                self.reference_number = r.reference().to_owned();
            }
            None => {
                self.reference_model.clear();
                self.reference_number.clear();
            }
        }
        if self.reference_model == format!("{:02}", Model::None.number()) {
            self.reference_model.clear();
        }
    }
}

/// Fills the form from an IPS QR code's text, as printed on a bill (type PR, usually) or
/// shown anywhere else: payee (N: first line the name, the rest the address), account (R),
/// amount (I; a zero amount leaves the field for the payer), payment code (SF), purpose
/// (S), reference (RO), and the payer (P) when the code names one. A code that is not valid
/// is the rule it breaks, on the field `ips_qr`; the form is then unchanged.
///
/// This is the hook for reading a bill from a photo: decode the QR code from the image to
/// its text, then call this.
pub fn fill_from_ips_qr(form: &mut PaymentForm, text: &str) -> Result<(), FieldError> {
    let text = text.trim().replace("\r\n", "\n");
    if text.is_empty() {
        return Err(FieldError::new("ips_qr", Rule::Required));
    }
    let code =
        IpsQr::parse(&text).map_err(|e| FieldError::new("ips_qr", Rule::IpsQr(e.to_string())))?;
    let mut lines = code.payee().lines();
    form.payee_name = lines.next().unwrap_or_default().to_owned();
    form.payee_address = lines.collect::<Vec<_>>().join("\n");
    form.payee_account = code.payee_account().dashed();
    form.amount = if code.amount_para() > 0 {
        dinars(code.amount_para())
    } else {
        String::new()
    };
    form.payment_code = code
        .payment_code()
        .map(|c| c.to_string())
        .unwrap_or_default();
    form.purpose = code.purpose().unwrap_or_default().to_owned();
    form.set_reference(code.reference());
    if let Some(payer) = code.payer() {
        let mut lines = payer.lines();
        form.payer_name = lines.next().unwrap_or_default().to_owned();
        form.payer_address = lines.collect::<Vec<_>>().join("\n");
    }
    form.ips_qr.clear();
    Ok(())
}

/// The form input a field error belongs to.
pub fn input_of(e: &FieldError) -> &'static str {
    match e.field.as_str() {
        "payer.name" => "payer_name",
        "payer.address" => "payer_address",
        "payee.name" => "payee_name",
        "payee.address" => "payee_address",
        "payee.account" => "payee_account",
        "purpose" => "purpose",
        "payment_code" => "payment_code",
        "amount" | "amount.currency" => "amount",
        "reference" => "reference_number",
        "ips_qr" => "ips_qr",
        "photo" => "photo",
        "method" => "method",
        _ => "form",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bill_code_fills_the_form() {
        let mut f = PaymentForm {
            payer_name: "Ana".into(),
            ..PaymentForm::default()
        };
        let code = "K:PR|V:01|C:1|R:160000000000060216|N:Telekom Srbija A.D.\nTakovska 2\nBeograd|I:RSD999,99|P:SAVVAS RADEVIĆ\nIMEULICE 01\n11000 BEOGRAD 6|SF:189|S:MTS Račun 01/2020 12345566/2|RO:97082240113797893";
        fill_from_ips_qr(&mut f, code).expect("valid");
        assert_eq!(f.payee_name, "Telekom Srbija A.D.");
        assert_eq!(f.payee_address, "Takovska 2\nBeograd");
        assert_eq!(f.payee_account, "160-602-16");
        assert_eq!(f.amount, "999,99");
        assert_eq!(f.payment_code, "189");
        assert_eq!(f.purpose, "MTS Račun 01/2020 12345566/2");
        assert_eq!(
            (f.reference_model.as_str(), f.reference_number.as_str()),
            ("97", "082240113797893")
        );
        assert_eq!(f.payer_name, "SAVVAS RADEVIĆ");
        assert_eq!(f.payer_address, "IMEULICE 01\n11000 BEOGRAD 6");
        let (input, errors) = f.to_input("ips");
        assert!(errors.is_empty());
        assert_eq!(input.amount, Some(Money::rsd(99_999)));
        assert_eq!(input.reference.as_deref(), Some("97 082240113797893"));
    }

    #[test]
    fn a_zero_amount_and_no_model_leave_fields_empty() {
        let mut f = PaymentForm::default();
        fill_from_ips_qr(
            &mut f,
            "K:PR|V:01|C:1|R:840000000095584510|N:Primalac|I:RSD0,|SF:289|RO:001234",
        )
        .expect("valid");
        assert_eq!(f.amount, "");
        assert_eq!(
            (f.reference_model.as_str(), f.reference_number.as_str()),
            ("", "1234")
        );
        assert_eq!(f.to_input("ips").0.reference.as_deref(), Some("00 1234"));
    }

    #[test]
    fn a_bad_code_names_its_tag_and_changes_nothing() {
        let mut f = PaymentForm {
            payee_name: "kept".into(),
            ..PaymentForm::default()
        };
        let err = fill_from_ips_qr(
            &mut f,
            "K:PR|V:01|C:1|R:845000000014284968|N:EPS|I:RSD1000,00|SF:221",
        )
        .expect_err("bad account control");
        assert_eq!(err.field, "ips_qr");
        assert!(err.rule.message().contains("R:"), "{}", err.rule.message());
        assert_eq!(f.payee_name, "kept");
        let err = fill_from_ips_qr(&mut f, "  ").expect_err("empty");
        assert_eq!(err.rule, Rule::Required);
    }

    #[test]
    fn amounts_are_read_as_dinars() {
        let f = PaymentForm {
            amount: "1.500".into(),
            ..PaymentForm::default()
        };
        assert_eq!(
            f.to_input("ips").1,
            [FieldError::new("amount", Rule::Amount)]
        );
        let f = PaymentForm {
            amount: "1500,5".into(),
            ..PaymentForm::default()
        };
        assert_eq!(f.to_input("ips").0.amount, Some(Money::rsd(150_050)));
        assert_eq!(dinars(150_050), "1500,50");
    }
}
