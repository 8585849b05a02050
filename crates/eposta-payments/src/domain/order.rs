//! A payment order (uplatnica) as typed or sent, and how it becomes a valid one or the list
//! of every field it got wrong.

use std::fmt;

use eposta_formats::account::AccountNumber;
use eposta_formats::payment_code::PaymentCode;
use eposta_formats::reference::Reference;
use eposta_kernel::money::{Currency, Money};
use serde::Deserialize;

use super::{Channel, FieldError, MAX_AMOUNT_PARA, Method, Rule};

/// Longest name, in characters (the IPS QR decision's N and P hold 70 with the address).
pub const MAX_NAME: usize = 70;
/// Longest address, in characters, over at most [`MAX_ADDRESS_LINES`] lines.
pub const MAX_ADDRESS: usize = 70;
pub const MAX_ADDRESS_LINES: usize = 2;
/// Longest purpose: what tag S of an IPS QR code holds, so that every order fits one.
pub const MAX_PURPOSE: usize = 35;
/// Longest return URL of an API client.
pub const MAX_URL: usize = 2000;

/// The payer as typed: untrusted.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PayerInput {
    /// Uplatilac: one line.
    #[schema(example = "Петар Петровић")]
    pub name: String,
    /// Street and place, up to two lines (`\n` between them).
    #[schema(example = "Булевар краља Александра 73\n11000 Београд")]
    pub address: String,
}

/// The payee as typed: untrusted.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PayeeInput {
    /// Primalac: one line.
    #[schema(example = "ЈП ЕПС Београд")]
    pub name: String,
    /// Up to two lines; may be empty.
    #[schema(example = "Балканска 13\nБеоград")]
    pub address: String,
    /// Račun primaoca: 18 digits or the dashed form (`845-4048-87`).
    #[schema(example = "845-0000000404849-87")]
    pub account: String,
}

/// A payment order as sent to `POST /api/v1/payments`; the citizen's form is read into it
/// too, so both go through [`parse_order`].
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    #[serde(default)]
    pub payer: PayerInput,
    #[serde(default)]
    pub payee: PayeeInput,
    /// Svrha uplate, up to 35 characters.
    #[serde(default)]
    #[schema(example = "Рачун за струју 01/2026")]
    pub purpose: String,
    /// Šifra plaćanja: three digits, the first 1 (cash) or 2 (non-cash).
    #[serde(default)]
    #[schema(example = "289")]
    pub payment_code: String,
    /// The amount for the payee, in RSD (`minor` is para). The fee comes on top.
    #[serde(default)]
    pub amount: Option<Money>,
    /// Model i poziv na broj odobrenja, model first: `97 14123412`, `9714123412`,
    /// `00 2024-15`. Empty or absent: none.
    #[serde(default)]
    #[schema(example = "97 163220000111111111000")]
    pub reference: Option<String>,
    /// `card` (redirect to the acquirer's page) or `ips` (an IPS QR code to pay by instant
    /// transfer).
    #[serde(default)]
    #[schema(example = "ips")]
    pub method: String,
    /// Card payments through the API: where the acquirer sends the card holder back.
    #[serde(default)]
    #[schema(example = "https://shop.example.rs/paid")]
    pub return_url: Option<String>,
}

/// A checked name and address.
#[derive(Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    /// Lines separated by `\n`; empty when none was given.
    pub address: String,
}

/// A valid payment order.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentOrder {
    pub payer: Party,
    pub payee: Party,
    pub payee_account: AccountNumber,
    pub purpose: String,
    pub payment_code: PaymentCode,
    /// The amount for the payee, in para; more than zero, at most [`MAX_AMOUNT_PARA`].
    pub amount_para: i64,
    pub reference: Option<Reference>,
    pub method: Method,
    /// The API client's return URL (card payments through the API only).
    pub return_url: Option<String>,
}

/// Names, addresses and accounts stay out of `Debug`, so they cannot reach a log line.
impl fmt::Debug for PaymentOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentOrder")
            .field("amount_para", &self.amount_para)
            .field("method", &self.method)
            .field("payment_code", &self.payment_code.number())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Party(..)")
    }
}

/// Dinars as typed into a form or a fee file: `1500`, `1500,50` or `1500.5`, at most two
/// decimals, no thousands separators (`1.500` would be ambiguous), spaces ignored, in para.
/// Empty means "not given".
pub fn parse_dinars(input: &str) -> Result<Option<i64>, Rule> {
    let s: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let s = s
        .strip_suffix("RSD")
        .or(s.strip_suffix("din"))
        .unwrap_or(&s);
    if s.is_empty() {
        return Ok(None);
    }
    let (units, fraction) = s.split_once([',', '.']).unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty()
        || units.len() > 12
        || !digits(units)
        || fraction.len() > 2
        || !digits(fraction)
    {
        return Err(Rule::Amount);
    }
    let units: i64 = units.parse().map_err(|_| Rule::Amount)?;
    let para = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().map_err(|_| Rule::Amount)? * 10,
        _ => fraction.parse::<i64>().map_err(|_| Rule::Amount)?,
    };
    Ok(Some(units * 100 + para))
}

/// Trims, normalises line ends and checks one text field; `lines` is how many it may have.
fn text(
    field: &str,
    input: &str,
    max: usize,
    lines: usize,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> String {
    let normalised = input.replace("\r\n", "\n");
    let s: String = normalised
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let rule = if s.is_empty() {
        required.then_some(Rule::Required)
    } else if s.chars().count() > max {
        Some(Rule::TooLong(max))
    } else if s.split('\n').count() > lines {
        Some(if lines == 1 {
            Rule::Text
        } else {
            Rule::TooManyLines(lines)
        })
    } else if s.chars().any(|c| c.is_control() && c != '\n') {
        Some(Rule::Text)
    } else if s.contains('|') {
        Some(Rule::Separator)
    } else {
        None
    };
    if let Some(rule) = rule {
        errors.push(FieldError::new(field, rule));
    }
    s
}

/// The amount: RSD, more than zero, at most [`MAX_AMOUNT_PARA`].
pub fn check_amount(field: &str, m: Money, errors: &mut Vec<FieldError>) -> i64 {
    if m.currency != Currency::RSD {
        errors.push(FieldError::new(format!("{field}.currency"), Rule::Currency));
    } else if m.minor <= 0 {
        errors.push(FieldError::new(field, Rule::Amount));
    } else if m.minor > MAX_AMOUNT_PARA {
        errors.push(FieldError::new(
            field,
            Rule::AmountOverMax(Money::rsd(MAX_AMOUNT_PARA)),
        ));
    }
    m.minor
}

fn return_url(input: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let s = input.map(str::trim).filter(|s| !s.is_empty())?;
    let ok = s.len() <= MAX_URL
        && url::Url::parse(s).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.password().is_none()
        });
    if ok {
        Some(s.to_owned())
    } else {
        errors.push(FieldError::new("return_url", Rule::Url));
        None
    }
}

/// Checks a whole order for `channel` and reports every broken rule at once.
pub fn parse_order(
    input: &PaymentInput,
    channel: Channel,
) -> Result<PaymentOrder, Vec<FieldError>> {
    let mut errors = Vec::new();
    let payer = Party {
        name: text(
            "payer.name",
            &input.payer.name,
            MAX_NAME,
            1,
            true,
            &mut errors,
        ),
        address: text(
            "payer.address",
            &input.payer.address,
            MAX_ADDRESS,
            MAX_ADDRESS_LINES,
            false,
            &mut errors,
        ),
    };
    let payee = Party {
        name: text(
            "payee.name",
            &input.payee.name,
            MAX_NAME,
            1,
            true,
            &mut errors,
        ),
        address: text(
            "payee.address",
            &input.payee.address,
            MAX_ADDRESS,
            MAX_ADDRESS_LINES,
            false,
            &mut errors,
        ),
    };
    let account = match input.payee.account.trim() {
        "" => {
            errors.push(FieldError::new("payee.account", Rule::Required));
            None
        }
        a => match AccountNumber::parse(a) {
            Ok(a) => Some(a),
            Err(e) => {
                errors.push(FieldError::new(
                    "payee.account",
                    Rule::Account(e.to_string()),
                ));
                None
            }
        },
    };
    let purpose = text("purpose", &input.purpose, MAX_PURPOSE, 1, true, &mut errors);
    let code = match input.payment_code.trim() {
        "" => {
            errors.push(FieldError::new("payment_code", Rule::Required));
            None
        }
        c => match PaymentCode::parse(c) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(FieldError::new(
                    "payment_code",
                    Rule::PaymentCode(e.to_string()),
                ));
                None
            }
        },
    };
    let amount_para = match input.amount {
        Some(m) => check_amount("amount", m, &mut errors),
        None => {
            errors.push(FieldError::new("amount", Rule::Required));
            0
        }
    };
    let reference = match input.reference.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) => match Reference::parse(r) {
            Ok(r) => Some(r),
            Err(e) => {
                errors.push(FieldError::new("reference", Rule::Reference(e.to_string())));
                None
            }
        },
    };
    let method = match Method::parse(input.method.trim()) {
        None if input.method.trim().is_empty() => {
            errors.push(FieldError::new("method", Rule::Required));
            None
        }
        None => {
            errors.push(FieldError::new("method", Rule::Method));
            None
        }
        Some(m) if !channel.offers(m) => {
            errors.push(FieldError::new("method", Rule::MethodNotHere));
            None
        }
        Some(m) => Some(m),
    };
    let url = return_url(input.return_url.as_deref(), &mut errors);
    let url = match (method, channel) {
        (Some(Method::Card), Channel::Api) if url.is_none() => {
            if !errors.iter().any(|e| e.field == "return_url") {
                errors.push(FieldError::new("return_url", Rule::Required));
            }
            None
        }
        (Some(Method::Card), Channel::Api) => url,
        _ => None,
    };
    match (account, code, method) {
        (Some(payee_account), Some(payment_code), Some(method)) if errors.is_empty() => {
            Ok(PaymentOrder {
                payer,
                payee,
                payee_account,
                purpose,
                payment_code,
                amount_para,
                reference,
                method,
                return_url: url,
            })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
