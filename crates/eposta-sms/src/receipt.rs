//! Delivery receipts: what an SMSC sends back in a `deliver_sm` whose `esm_class` has the
//! message type bits `xx0001xx` (0x04, "SMSC delivery receipt").
//!
//! Sources: research/sms.md §3 "SMPP 3.4 essentials" (receipt text, TLVs, message states),
//! the SMPP 3.4 specification (Issue 1.2), Appendix B "Delivery Receipt Format" for the text
//! and §5.2.28 / §5.3.2.35 for `message_state` (0x0427), §5.3.2.12 for
//! `receipted_message_id` (0x001E).
//!
//! The text of Appendix B is only an example ("the format is SMSC vendor specific"), so the
//! parser is lenient:
//!
//! - field names in any case and in any order (`id:`, `sub:`, `dlvrd:`, `submit date:`,
//!   `done date:`, `stat:`, `err:`, `text:`; `submit_date` and `done_date` too);
//! - any field may be missing; a field is recognised only at the start of the text or after
//!   white space, so `xid:` is not `id:`;
//! - `text:` takes the rest of the string (it is the first 20 characters of the message and
//!   may itself contain `id:`), so a field written after it is not read;
//! - a name that repeats keeps its first value.
//!
//! The TLVs take precedence over the text: `receipted_message_id` over `id:`, and
//! `message_state` over `stat:`.

use chrono::NaiveDateTime;

/// The final or intermediate state of a short message (SMPP 3.4 §5.2.28, `message_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageState {
    /// 1, `ENROUTE`: on its way; the only intermediate state.
    Enroute,
    /// 2, `DELIVRD`.
    Delivered,
    /// 3, `EXPIRED`: the validity period ran out.
    Expired,
    /// 4, `DELETED`.
    Deleted,
    /// 5, `UNDELIV`: undeliverable.
    Undeliverable,
    /// 6, `ACCEPTD`: "accepted" (read on behalf of the subscriber by customer service).
    Accepted,
    /// 7, `UNKNOWN`: the message is in an invalid state.
    Unknown,
    /// 8, `REJECTD`.
    Rejected,
}

impl MessageState {
    /// The `message_state` TLV value (1–8).
    pub fn from_tlv(value: u8) -> Option<Self> {
        Some(match value {
            1 => Self::Enroute,
            2 => Self::Delivered,
            3 => Self::Expired,
            4 => Self::Deleted,
            5 => Self::Undeliverable,
            6 => Self::Accepted,
            7 => Self::Unknown,
            8 => Self::Rejected,
            _ => return None,
        })
    }

    pub fn tlv(self) -> u8 {
        match self {
            Self::Enroute => 1,
            Self::Delivered => 2,
            Self::Expired => 3,
            Self::Deleted => 4,
            Self::Undeliverable => 5,
            Self::Accepted => 6,
            Self::Unknown => 7,
            Self::Rejected => 8,
        }
    }

    /// The `stat:` word of the receipt text, in any case. The spec's seven-letter words
    /// (`DELIVRD`, `UNDELIV`, …) and the long names of §5.2.28 (`DELIVERED`, `UNDELIVERABLE`,
    /// …) are both accepted, since SMSCs write either.
    pub fn from_stat(word: &str) -> Option<Self> {
        Some(match word.trim().to_ascii_uppercase().as_str() {
            "ENROUTE" => Self::Enroute,
            "DELIVRD" | "DELIVERED" => Self::Delivered,
            "EXPIRED" => Self::Expired,
            "DELETED" => Self::Deleted,
            "UNDELIV" | "UNDELIVERABLE" => Self::Undeliverable,
            "ACCEPTD" | "ACCEPTED" => Self::Accepted,
            "UNKNOWN" => Self::Unknown,
            "REJECTD" | "REJECTED" => Self::Rejected,
            _ => return None,
        })
    }

    /// The seven-letter word of Appendix B.
    pub fn stat(self) -> &'static str {
        match self {
            Self::Enroute => "ENROUTE",
            Self::Delivered => "DELIVRD",
            Self::Expired => "EXPIRED",
            Self::Deleted => "DELETED",
            Self::Undeliverable => "UNDELIV",
            Self::Accepted => "ACCEPTD",
            Self::Unknown => "UNKNOWN",
            Self::Rejected => "REJECTD",
        }
    }

    /// Whether no further receipt is to be expected. SMPP 3.4 §2.8 calls every state except
    /// `ENROUTE` final, `ACCEPTD` and `UNKNOWN` included.
    pub fn is_final(self) -> bool {
        self != Self::Enroute
    }

    /// Whether the message reached the handset.
    pub fn is_delivered(self) -> bool {
        self == Self::Delivered
    }
}

/// A receipt as read from a `deliver_sm`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    /// The SMSC's message id, as written (`receipted_message_id` TLV, else `id:`).
    pub message_id: Option<String>,
    /// `message_state` TLV, else `stat:`.
    pub state: Option<MessageState>,
    /// `stat:` as written, when it is not one of the known words.
    pub unknown_stat: Option<String>,
    /// `err:` (network or SMSC specific error code, as written).
    pub err: Option<String>,
    pub submitted: Option<u32>,
    pub delivered: Option<u32>,
    pub submit_date: Option<NaiveDateTime>,
    pub done_date: Option<NaiveDateTime>,
    /// `text:` (the first characters of the message).
    pub text: Option<String>,
}

/// The TLVs of a `deliver_sm` that a receipt uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReceiptTlvs<'a> {
    /// `receipted_message_id` (0x001E), a C-octet string; a trailing NUL is ignored.
    pub receipted_message_id: Option<&'a [u8]>,
    /// `message_state` (0x0427).
    pub message_state: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Sub,
    Dlvrd,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
}

/// Longer names first, so `submit date` is tried before anything shorter.
const NAMES: &[(&str, Field)] = &[
    ("submit date", Field::SubmitDate),
    ("submit_date", Field::SubmitDate),
    ("done date", Field::DoneDate),
    ("done_date", Field::DoneDate),
    ("dlvrd", Field::Dlvrd),
    ("stat", Field::Stat),
    ("text", Field::Text),
    ("sub", Field::Sub),
    ("err", Field::Err),
    ("id", Field::Id),
];

/// Reads the receipt from the `short_message` (or `message_payload`) bytes and the TLVs.
/// The bytes are read as ASCII/Latin-1 (SMSCs send the receipt in the default alphabet);
/// any byte that is not printable ASCII ends up as U+FFFD and does not hurt the fields.
pub fn parse(short_message: &[u8], tlvs: ReceiptTlvs<'_>) -> Receipt {
    let text = String::from_utf8_lossy(short_message);
    let mut r = parse_text(&text);
    if let Some(id) = tlvs.receipted_message_id {
        let id = id.split(|&b| b == 0).next().unwrap_or_default();
        let id = String::from_utf8_lossy(id).trim().to_owned();
        if !id.is_empty() {
            r.message_id = Some(id);
        }
    }
    if let Some(state) = tlvs.message_state.and_then(MessageState::from_tlv) {
        r.state = Some(state);
        r.unknown_stat = None;
    }
    r
}

/// Reads the fields of the receipt text (Appendix B), leniently (see the module's notes).
pub fn parse_text(text: &str) -> Receipt {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    // (start of the name, start of the value, field)
    let mut marks: Vec<(usize, usize, Field)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let at_word = i == 0 || bytes[i - 1].is_ascii_whitespace();
        let found = at_word
            .then(|| {
                NAMES.iter().find_map(|(name, field)| {
                    let rest = lower[i..].strip_prefix(name)?;
                    let after = rest.trim_start_matches([' ', '\t']);
                    after
                        .starts_with(':')
                        .then(|| (i + name.len() + (rest.len() - after.len()) + 1, *field))
                })
            })
            .flatten();
        match found {
            Some((value, field)) => {
                marks.push((i, value, field));
                if field == Field::Text {
                    break;
                }
                i = value;
            }
            None => i += lower[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    let mut r = Receipt::default();
    let mut seen: Vec<Field> = Vec::new();
    for (k, &(_, value, field)) in marks.iter().enumerate() {
        if seen.contains(&field) {
            continue;
        }
        seen.push(field);
        let end = marks.get(k + 1).map_or(text.len(), |m| m.0);
        let raw = &text[value..end];
        let v = raw.trim();
        let word = || Some(v.split_whitespace().next()?.to_owned());
        match field {
            Field::Id => r.message_id = word(),
            Field::Sub => r.submitted = v.parse().ok(),
            Field::Dlvrd => r.delivered = v.parse().ok(),
            Field::SubmitDate => r.submit_date = parse_date(v),
            Field::DoneDate => r.done_date = parse_date(v),
            Field::Stat => match MessageState::from_stat(v) {
                Some(s) => r.state = Some(s),
                None => r.unknown_stat = word(),
            },
            Field::Err => r.err = word(),
            Field::Text => r.text = Some(raw.trim_start_matches(' ').to_owned()),
        }
    }
    r
}

/// `YYMMDDhhmm` (Appendix B) or `YYMMDDhhmmss` (written by many SMSCs), years 2000–2099.
pub fn parse_date(v: &str) -> Option<NaiveDateTime> {
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fmt = match v.len() {
        10 => "%y%m%d%H%M",
        12 => "%y%m%d%H%M%S",
        _ => return None,
    };
    NaiveDateTime::parse_from_str(v, fmt).ok()
}

/// How an SMSC writes its message ids: in the `submit_sm_resp` and in the receipt.
///
/// Some SMSCs answer `submit_sm_resp` with a hexadecimal id and write the same number in
/// decimal in the receipt's `id:` (or the other way round), drop leading zeros, or change the
/// case (research/sms.md §3). Kannel's `msg-id-type` setting is the same idea: the form of
/// each side is a property of the SMSC, so it is configured per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdForm {
    /// Opaque text: compared without regard to ASCII case, surrounding white space and
    /// leading zeros.
    #[default]
    Text,
    /// A decimal number.
    Decimal,
    /// A hexadecimal number (any case, an optional `0x`).
    Hex,
}

/// The key under which a message id is stored and looked up. Two ids refer to the same
/// message when their keys are equal:
///
/// - [`IdForm::Text`]: trimmed, ASCII lowercase, leading zeros removed (`"0"` stays `"0"`);
/// - [`IdForm::Decimal`] and [`IdForm::Hex`]: the number, written in decimal after `#`, so a
///   hex id of one side and a decimal id of the other give the same key.
///
/// `None` when the id is empty, or is not a number of the form given, or exceeds 128 bits.
pub fn id_key(id: &str, form: IdForm) -> Option<String> {
    let id = id.trim();
    match form {
        IdForm::Text => {
            let lower = id.to_ascii_lowercase();
            let stripped = lower.trim_start_matches('0');
            match (lower.is_empty(), stripped.is_empty()) {
                (true, _) => None,
                (false, true) => Some("0".to_owned()),
                (false, false) => Some(stripped.to_owned()),
            }
        }
        IdForm::Decimal => {
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            id.parse::<u128>().ok().map(|n| format!("#{n}"))
        }
        IdForm::Hex => {
            let digits = id
                .strip_prefix("0x")
                .or_else(|| id.strip_prefix("0X"))
                .unwrap_or(id);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u128::from_str_radix(digits, 16)
                .ok()
                .map(|n| format!("#{n}"))
        }
    }
}

/// Whether the id of a `submit_sm_resp` and the id of a receipt are the same message, given
/// how the SMSC writes each side. With both sides [`IdForm::Text`] (the default), case and
/// leading zeros are ignored; when only the forms differ (hex against decimal), the numbers
/// are compared.
pub fn ids_match(
    submit_id: &str,
    submit_form: IdForm,
    receipt_id: &str,
    receipt_form: IdForm,
) -> bool {
    match (
        id_key(submit_id, submit_form),
        id_key(receipt_id, receipt_form),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
#[path = "receipt_tests.rs"]
mod tests;
