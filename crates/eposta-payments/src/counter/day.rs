//! A clerk's cash day: the date in Belgrade, its bounds in UTC, and the balance's arithmetic.
//! Pure.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Belgrade;

/// The date in Belgrade at `t`: the cash day a payment at that instant belongs to.
pub fn belgrade_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Belgrade).date_naive()
}

/// Midnight in Belgrade at the start of `day`, in UTC. Belgrade changes its clocks at 02:00
/// and 03:00, never at midnight, so midnight always exists and exists once.
fn start_of(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    Belgrade
        .from_local_datetime(&midnight)
        .earliest()
        .map_or_else(
            || Utc.from_utc_datetime(&midnight),
            |t| t.with_timezone(&Utc),
        )
}

/// The instants of `day` in Belgrade: from its midnight (included) to the next (excluded).
/// 23 hours on the day clocks go forward, 25 on the day they go back.
pub fn bounds(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = day.checked_add_days(Days::new(1)).unwrap_or(day);
    (start_of(day), start_of(next))
}

/// A day from a page's query (`2026-03-02`); `None` for anything else.
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// The totals of a clerk's cash day: the cash payments taken and the cash paid back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub payments: i64,
    /// For the payees.
    pub amount_para: i64,
    /// ePošta's fees.
    pub fee_para: i64,
    /// Refunds paid out of the drawer at the counter by this clerk (of payments taken on
    /// any day, by any clerk of the office).
    pub refunds: i64,
    pub refunded_para: i64,
}

impl Totals {
    /// The cash taken: amounts and fees.
    pub fn taken_para(&self) -> i64 {
        self.amount_para.saturating_add(self.fee_para)
    }

    /// The cash that should be in the drawer: taken less paid back.
    pub fn expected_para(&self) -> i64 {
        self.taken_para().saturating_sub(self.refunded_para)
    }

    /// Counted minus expected: positive, more cash than payments; negative, cash missing.
    pub fn difference_para(&self, counted_para: i64) -> i64 {
        counted_para.saturating_sub(self.expected_para())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        parse_day(s).expect("day")
    }

    #[test]
    fn payments_belong_to_the_day_in_belgrade() {
        let table = [
            // instant (UTC), its day in Belgrade
            ("2026-03-02T09:00:00Z", "2026-03-02"),
            ("2026-03-01T22:59:59Z", "2026-03-01"), // 23:59:59 in winter (UTC+1)
            ("2026-03-01T23:00:00Z", "2026-03-02"), // midnight
            ("2026-07-14T21:59:59Z", "2026-07-14"), // 23:59:59 in summer (UTC+2)
            ("2026-07-14T22:00:00Z", "2026-07-15"),
            ("2026-12-31T23:30:00Z", "2027-01-01"),
        ];
        for (at, expected) in table {
            assert_eq!(belgrade_day(utc(at)), day(expected), "{at}");
        }
    }

    #[test]
    fn a_day_runs_from_midnight_to_midnight_in_belgrade() {
        let table = [
            // day, start (UTC), end (UTC), hours
            (
                "2026-03-02",
                "2026-03-01T23:00:00Z",
                "2026-03-02T23:00:00Z",
                24,
            ),
            (
                "2026-07-14",
                "2026-07-13T22:00:00Z",
                "2026-07-14T22:00:00Z",
                24,
            ),
            // Clocks go forward on the last Sunday of March, back on the last of October.
            (
                "2026-03-29",
                "2026-03-28T23:00:00Z",
                "2026-03-29T22:00:00Z",
                23,
            ),
            (
                "2026-10-25",
                "2026-10-24T22:00:00Z",
                "2026-10-25T23:00:00Z",
                25,
            ),
        ];
        for (d, start, end, hours) in table {
            let (s, e) = bounds(day(d));
            assert_eq!((s, e), (utc(start), utc(end)), "{d}");
            assert_eq!((e - s).num_hours(), hours, "{d}");
            assert_eq!(belgrade_day(s), day(d));
            assert_eq!(belgrade_day(e - chrono::Duration::microseconds(1)), day(d));
            assert_ne!(belgrade_day(e), day(d));
        }
    }

    #[test]
    fn days_are_read_only_in_iso_form() {
        assert_eq!(parse_day(" 2026-03-02 "), Some(day("2026-03-02")));
        for bad in ["", "2026-02-30", "02.03.2026.", "2026-3-2x", "today"] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_balance_is_counted_minus_expected() {
        let t = Totals {
            payments: 3,
            amount_para: 1_000_000,
            fee_para: 19_500,
            ..Totals::default()
        };
        assert_eq!(t.expected_para(), 1_019_500);
        let table = [
            (1_019_500, 0),
            (1_019_000, -500),
            (1_020_000, 500),
            (0, -1_019_500),
        ];
        for (counted, difference) in table {
            assert_eq!(t.difference_para(counted), difference, "{counted}");
        }
        assert_eq!(Totals::default().difference_para(0), 0);

        // Cash paid back comes out of the drawer.
        let back = Totals {
            refunds: 2,
            refunded_para: 300_000,
            ..t
        };
        assert_eq!(back.taken_para(), 1_019_500);
        assert_eq!(back.expected_para(), 719_500);
        assert_eq!(back.difference_para(719_500), 0);
        assert_eq!(back.difference_para(700_000), -19_500);
    }
}
