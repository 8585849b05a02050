//! Mass SMS (issue #6): the pure layer and a first SMPP client session; no database yet.
//!
//! - [`phone`]: phone numbers to E.164 ([`phone::Msisdn`]), Serbian forms `06x…`, `+381 6x…`,
//!   `00381…` and `381…`, Serbian landlines and service numbers refused for SMS with a reason;
//! - [`text`]: the GSM 03.38 default alphabet and its extension table, the choice between
//!   GSM-7 and UCS-2, segment counts and the segments' bytes with concatenation headers,
//!   and the optional Serbian transliteration;
//! - [`template`]: `((placeholder))` and `((name??text))` templates as GOV.UK Notify writes
//!   them, and the preview (encoding, segments, characters, transliteration);
//! - [`receipt`]: delivery receipts (the text of SMPP 3.4 Appendix B, leniently, and the
//!   `receipted_message_id`/`message_state` TLVs) and the message-id keys that match a
//!   receipt to its `submit_sm_resp`;
//! - [`smpp`]: a minimal SMPP 3.4 transceiver session on the `rusmpp` codec (bind, windowed
//!   `submit_sm`, `enquire_link`, receipts, unbind, a per-bind rate, pausing and resending on
//!   `ESME_RTHROTTLED`/`ESME_RMSGQFUL`, reconnect with back-off).
//!
//! Sources: `../shared/research/sms.md` (sections 1, 3, 4 and 5) and the ones each module
//! names.

pub mod phone;
pub mod receipt;
pub mod smpp;
pub mod template;
pub mod text;
