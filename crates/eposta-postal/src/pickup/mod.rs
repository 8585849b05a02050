//! Pickup requests: the sender of a booked item asks a postman to collect it at the sender's
//! address on a day in a window, instead of bringing it to a counter. The office whose postal
//! code is the sender's sees the open requests; the postman brings the item to the counter,
//! where it is accepted with its hand-in code as usual.

pub mod pages;
pub mod service;
pub mod store;

use chrono::{Days, NaiveDate};

/// The earliest first day of a window: tomorrow (a request needs a day to be planned).
pub const EARLIEST_DAYS: u64 = 1;
/// The latest first day of a window, counted from today.
pub const LATEST_DAYS: u64 = 30;
/// The longest window, both days included.
pub const MAX_WINDOW_DAYS: u64 = 7;
/// The longest note to the postman (entrance, floor, intercom), in characters.
pub const MAX_NOTE: usize = 200;

/// Why a window cannot be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowError {
    /// The first day is today or earlier.
    TooSoon,
    /// The first day is more than [`LATEST_DAYS`] ahead.
    TooLate,
    /// The last day comes before the first.
    Reversed,
    /// More than [`MAX_WINDOW_DAYS`] days.
    TooLong,
}

impl WindowError {
    pub fn message(self) -> &'static str {
        match self {
            WindowError::TooSoon => "the first day must be tomorrow or later",
            WindowError::TooLate => "the first day must be within 30 days",
            WindowError::Reversed => "the last day must not come before the first",
            WindowError::TooLong => "a window is at most 7 days",
        }
    }

    /// The catalogue key of the message.
    pub fn key(self) -> &'static str {
        match self {
            WindowError::TooSoon => "pickup.error.too_soon",
            WindowError::TooLate => "pickup.error.too_late",
            WindowError::Reversed => "pickup.error.reversed",
            WindowError::TooLong => "pickup.error.too_long",
        }
    }

    /// The input at fault.
    pub fn field(self) -> &'static str {
        match self {
            WindowError::TooSoon | WindowError::TooLate => "window_from",
            WindowError::Reversed | WindowError::TooLong => "window_to",
        }
    }
}

/// Checks a window of days (both included) asked for on `today` (Europe/Belgrade).
pub fn check_window(today: NaiveDate, from: NaiveDate, to: NaiveDate) -> Result<(), WindowError> {
    let earliest = today + Days::new(EARLIEST_DAYS);
    let latest = today + Days::new(LATEST_DAYS);
    if from < earliest {
        return Err(WindowError::TooSoon);
    }
    if from > latest {
        return Err(WindowError::TooLate);
    }
    if to < from {
        return Err(WindowError::Reversed);
    }
    if to >= from + Days::new(MAX_WINDOW_DAYS) {
        return Err(WindowError::TooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn windows_start_tomorrow_within_a_month_and_last_at_most_a_week() {
        let today = d("2026-11-25");
        let cases = [
            ("2026-11-26", "2026-11-26", Ok(())),
            ("2026-11-25", "2026-11-26", Err(WindowError::TooSoon)),
            ("2026-11-20", "2026-11-26", Err(WindowError::TooSoon)),
            ("2026-12-25", "2026-12-31", Ok(())),
            ("2026-12-26", "2026-12-26", Err(WindowError::TooLate)),
            ("2026-11-28", "2026-11-27", Err(WindowError::Reversed)),
            ("2026-11-26", "2026-12-02", Ok(())),
            ("2026-11-26", "2026-12-03", Err(WindowError::TooLong)),
            // Across a year's end.
            ("2026-12-30", "2027-01-05", Err(WindowError::TooLate)),
        ];
        for (from, to, want) in cases {
            assert_eq!(check_window(today, d(from), d(to)), want, "{from}..{to}");
        }
        let new_year = d("2026-12-29");
        assert_eq!(
            check_window(new_year, d("2026-12-31"), d("2027-01-03")),
            Ok(())
        );
    }
}
