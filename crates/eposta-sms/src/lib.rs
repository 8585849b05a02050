//! Mass SMS (issue #6). For now only the pure layer, no IO, no database, no SMPP:
//!
//! - [`phone`]: phone numbers to E.164 ([`phone::Msisdn`]), Serbian forms `06x…`, `+381 6x…`,
//!   `00381…` and `381…`, Serbian landlines and service numbers refused for SMS with a reason;
//! - [`text`]: the GSM 03.38 default alphabet and its extension table, the choice between
//!   GSM-7 and UCS-2, segment counts and the segments' bytes with concatenation headers,
//!   and the optional Serbian transliteration;
//! - [`template`]: `((placeholder))` and `((name??text))` templates as GOV.UK Notify writes
//!   them, and the preview (encoding, segments, characters, transliteration).
//!
//! Sources: `../shared/research/sms.md` (sections 1 and 3) and the ones each module names.

pub mod phone;
pub mod receipt;
pub mod smpp;
pub mod template;
pub mod text;
