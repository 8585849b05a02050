//! Generating IPS QR strings from fields: stricter than parsing (the character set, RO up
//! to 25 characters), then checked by the same parser, so whatever is generated parses.

use std::fmt::Write as _;

use super::{IpsError, IpsQr, Kind, MAX_AMOUNT_PARA, MAX_RO_GENERATED, Rule, Tag};
use crate::account::AccountNumber;
use crate::reference::Reference;

/// The fields of a code to generate. Text as people type it: accounts may be dashed
/// (`840-955845-10`), the reference may carry spaces and dashes (`97 14-123412`, written
/// into RO without them for model 97), newlines in N and P are `\n`. An empty optional
/// field is left out, as the NBS rules ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsFields {
    pub kind: Kind,
    /// R.
    pub payee_account: String,
    /// N: up to three lines.
    pub payee: String,
    /// I, in para.
    pub amount_para: i64,
    /// O.
    pub payer_account: Option<String>,
    /// P: up to three lines.
    pub payer: Option<String>,
    /// SF.
    pub payment_code: Option<String>,
    /// S.
    pub purpose: Option<String>,
    /// M.
    pub mcc: Option<String>,
    /// JS.
    pub one_time_code: Option<String>,
    /// RK.
    pub payer_reference: Option<String>,
    /// RO: model and reference (`97 14123412`, `9714123412`, `00 1234`).
    pub reference: Option<String>,
    /// RL.
    pub payee_reference: Option<String>,
    /// RP.
    pub pos_reference: Option<String>,
}

impl IpsFields {
    /// The mandatory fields; every optional one empty.
    pub fn new(kind: Kind, payee_account: &str, payee: &str, amount_para: i64) -> IpsFields {
        IpsFields {
            kind,
            payee_account: payee_account.to_owned(),
            payee: payee.to_owned(),
            amount_para,
            payer_account: None,
            payer: None,
            payment_code: None,
            purpose: None,
            mcc: None,
            one_time_code: None,
            payer_reference: None,
            reference: None,
            payee_reference: None,
            pos_reference: None,
        }
    }
}

/// Whether the generator puts this character into a code: ASCII letters and digits, Serbian
/// Latin and Cyrillic letters, space, the NBS special characters (nbs.rs/QRcode/info_lat.html)
/// and the typographic quotes ArtBIT admits citing the same page; the newline is judged by
/// the tag.
pub fn generatable(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!(/@})]:[~#*;$+<^%,=_\"&->`.?{' \n".contains(c)
        || "šđžčćŠĐŽČĆ„”“’‘".contains(c)
        || "АБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШабвгдђежзијклљмнњопрстћуфхцчџш".contains(c)
}

fn checked_text(tag: Tag, v: &str) -> Result<(), IpsError> {
    for c in v.chars() {
        if c == '|' {
            return Err(IpsError::new(tag, Rule::Separator));
        }
        if !generatable(c) {
            return Err(IpsError::new(
                tag,
                if c.is_control() {
                    Rule::ControlCharacter
                } else {
                    Rule::Character(c)
                },
            ));
        }
    }
    Ok(())
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

fn account(tag: Tag, v: &str) -> Result<AccountNumber, IpsError> {
    AccountNumber::parse(v).map_err(|e| IpsError::new(tag, Rule::Account(e)))
}

impl IpsQr {
    /// Builds a code from fields, with the generator's stricter rules; its string
    /// (`to_string()`) parses back to the same code.
    pub fn new(f: &IpsFields) -> Result<IpsQr, IpsError> {
        let mut s = String::with_capacity(160);
        let payee_account = account(Tag::R, &f.payee_account)?;
        checked_text(Tag::N, &f.payee)?;
        if f.amount_para < 0 {
            return Err(IpsError::new(Tag::I, Rule::Form("must not be negative")));
        }
        if f.amount_para > MAX_AMOUNT_PARA {
            return Err(IpsError::new(
                Tag::I,
                Rule::Form("at most RSD999999999999,99"),
            ));
        }
        // Writing into a String cannot fail.
        let _ = write!(
            s,
            "K:{}|V:01|C:1|R:{}|N:{}|I:{}",
            f.kind.as_str(),
            payee_account.as_str(),
            f.payee,
            super::amount_text(f.amount_para)
        );
        let field = |s: &mut String, tag: Tag, v: &str| {
            s.push('|');
            s.push_str(tag.name());
            s.push(':');
            s.push_str(v);
        };
        if let Some(v) = present(&f.payer_account) {
            field(&mut s, Tag::O, account(Tag::O, v)?.as_str());
        }
        let texts = [
            (Tag::P, &f.payer),
            (Tag::Sf, &f.payment_code),
            (Tag::S, &f.purpose),
            (Tag::M, &f.mcc),
            (Tag::Js, &f.one_time_code),
            (Tag::Rk, &f.payer_reference),
        ];
        for (tag, v) in texts {
            if let Some(v) = present(v) {
                checked_text(tag, v)?;
                field(&mut s, tag, v);
            }
        }
        if let Some(v) = present(&f.reference) {
            checked_text(Tag::Ro, v)?;
            let ro = Reference::parse(v)
                .map_err(|e| IpsError::new(Tag::Ro, Rule::Reference(e)))?
                .ro();
            if ro.chars().count() > MAX_RO_GENERATED {
                return Err(IpsError::new(
                    Tag::Ro,
                    Rule::TooLong {
                        max: MAX_RO_GENERATED,
                    },
                ));
            }
            field(&mut s, Tag::Ro, &ro);
        }
        for (tag, v) in [(Tag::Rl, &f.payee_reference), (Tag::Rp, &f.pos_reference)] {
            if let Some(v) = present(v) {
                checked_text(tag, v)?;
                field(&mut s, tag, v);
            }
        }
        IpsQr::parse(&s)
    }
}
