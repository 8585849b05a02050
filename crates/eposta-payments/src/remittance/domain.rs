//! The pure rules of remittance: which day a run covers, what a payment is paid on to its
//! payee, and the pain.001 batch of a payee's payments. No IO.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Belgrade;
use eposta_formats::account::AccountNumber;
use eposta_formats::iso20022::pain001::{AccountForm, Batch, Transfer};
use eposta_formats::iso20022::{Currency, Date};
use eposta_formats::payment_code::PaymentCode;

use crate::model::Payment;
use crate::settings::Collection;

/// Most transfers in one batch: a payee's day with more payments is split into parts, so
/// that a batch (its payments and its files) fits in memory and in a bank's file limits.
pub const MAX_TRANSFERS: usize = 10_000;
/// Most parts of one payee's day (the message id has room for three digits).
pub const MAX_PARTS: i64 = 999;

/// A business day written `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// The day in Europe/Belgrade at `t`.
pub fn belgrade_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Belgrade).date_naive()
}

/// The first instant after day `date` in Europe/Belgrade (midnight of the next day, with
/// summer time taken into account), in UTC: a run for `date` takes the payments completed
/// before it.
pub fn end_of_day(date: NaiveDate) -> Option<DateTime<Utc>> {
    let next = date.checked_add_days(Days::new(1))?;
    let midnight = next.and_hms_opt(0, 0, 0)?;
    // Midnight exists every day in Belgrade (summer time changes at 02:00 and 03:00).
    Belgrade
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether a run may cover `date` at `now`: only a day that is over in Belgrade, so that no
/// payment of it can complete after the run.
pub fn day_is_over(date: NaiveDate, now: DateTime<Utc>) -> bool {
    date < belgrade_date(now)
}

/// What a paid payment sends its payee: its amount less what was refunded of it. Refunds
/// come out of the payee's part first (the payer paid too much, or not this bill) and out of
/// ePošta's fee only once the whole amount is back; `None` when nothing is left for the
/// payee.
pub fn remit_para(amount_para: i64, refunded_para: i64) -> Option<i64> {
    let left = amount_para - refunded_para.clamp(0, amount_para);
    (left > 0).then_some(left)
}

/// The payment code of the transfer to the payee: the same basis as a non-cash code (a bill
/// paid in cash at a counter, 189, goes on as 289), as for the IPS QR codes.
pub fn non_cash(code: PaymentCode) -> PaymentCode {
    PaymentCode::parse(&format!("2{:02}", code.basis())).unwrap_or(code)
}

/// `EPR-20261125-840000074222184357-1`: unique per business day, payee account and part,
/// at most 35 characters (`MsgId`, `PmtInfId`).
pub fn message_id(date: NaiveDate, account: &AccountNumber, part: i64) -> String {
    format!("EPR-{}-{}-{part}", date.format("%Y%m%d"), account.as_str())
}

/// A payment's transfer to its payee: the end-to-end id is its confirmation number (it comes
/// back on the payee's statement), with the payee's name, account, reference and purpose
/// from the payment order. `None` when nothing is left to send ([`remit_para`]).
pub fn transfer_of(p: &Payment) -> Option<Transfer> {
    Some(Transfer {
        end_to_end_id: p.confirmation.clone(),
        payee_name: p.payee.name.clone(),
        payee_account: p.payee_account,
        para: remit_para(p.amount_para, p.refunded_para)?,
        payment_code: Some(non_cash(p.payment_code)),
        reference: p.reference.clone(),
        purpose: Some(p.purpose.clone()).filter(|s| !s.trim().is_empty()),
    })
}

/// The pain.001 batch of `transfers` to one payee account: debited from ePošta's collection
/// account (the holder's name is the first line of `EPOSTA_PAYMENTS_COLLECTION_NAME`),
/// created at `now`, to be executed on `execution`.
pub fn batch(
    collection: &Collection,
    message_id: &str,
    now: DateTime<Utc>,
    execution: NaiveDate,
    transfers: Vec<Transfer>,
) -> Option<Batch> {
    use chrono::Datelike;
    let holder = collection
        .name
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    Some(Batch {
        message_id: message_id.to_owned(),
        payment_info_id: message_id.to_owned(),
        created: now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        execution_date: Date::new(
            u16::try_from(execution.year()).ok()?,
            u8::try_from(execution.month()).ok()?,
            u8::try_from(execution.day()).ok()?,
        )?,
        initiator: holder.clone(),
        debtor_name: holder,
        debtor_account: collection.account,
        debtor_bic: None,
        currency: Currency::RSD,
        account_form: AccountForm::Iban,
        transfers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refunds_come_out_of_the_payees_part_first() {
        let table = [
            // (amount, refunded, remitted)
            (10_000, 0, Some(10_000)),
            (10_000, 2_500, Some(7_500)),
            (10_000, 9_999, Some(1)),
            (10_000, 10_000, None),
            // Part of the fee refunded as well: nothing for the payee.
            (10_000, 10_300, None),
            (1, 0, Some(1)),
        ];
        for (amount, refunded, want) in table {
            assert_eq!(remit_para(amount, refunded), want, "{amount} {refunded}");
        }
    }

    #[test]
    fn days_end_at_midnight_in_belgrade_winter_and_summer() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&Utc)
        };
        let table = [
            // Winter (UTC+1), summer (UTC+2), and the days the clocks change.
            ("2026-11-25", "2026-11-25T23:00:00Z"),
            ("2026-07-01", "2026-07-01T22:00:00Z"),
            ("2026-03-28", "2026-03-28T23:00:00Z"),
            ("2026-03-29", "2026-03-29T22:00:00Z"),
            ("2026-10-24", "2026-10-24T22:00:00Z"),
            ("2026-10-25", "2026-10-25T23:00:00Z"),
        ];
        for (day, end) in table {
            assert_eq!(end_of_day(d(day)), Some(t(end)), "{day}");
        }
        // 23:30 UTC on 25 November is already the 26th in Belgrade.
        let late = t("2026-11-25T23:30:00Z");
        assert_eq!(belgrade_date(late), d("2026-11-26"));
        assert!(day_is_over(d("2026-11-25"), late));
        assert!(!day_is_over(d("2026-11-26"), late));
        assert!(!day_is_over(d("2026-11-27"), late));
        assert!(!day_is_over(d("2026-11-25"), t("2026-11-25T22:59:59Z")));
    }

    #[test]
    fn codes_become_non_cash_and_message_ids_fit_35_characters() {
        let code = |s: &str| PaymentCode::parse(s).expect("code");
        for (given, want) in [
            ("189", "289"),
            ("289", "289"),
            ("153", "253"),
            ("221", "221"),
        ] {
            assert_eq!(non_cash(code(given)), code(want), "{given}");
        }
        let account = AccountNumber::parse("845000000040484987").expect("account");
        let d = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        assert_eq!(
            message_id(d, &account, 1),
            "EPR-20261125-845000000040484987-1"
        );
        assert_eq!(message_id(d, &account, MAX_PARTS).chars().count(), 35);
    }
}
