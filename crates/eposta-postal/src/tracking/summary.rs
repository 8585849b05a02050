//! Each item's events in one row: `tracking_summaries` (migration 0014) holds, per tracking
//! number, one line per stored event, in the order they were stored. A lookup reads that one
//! row by its primary key instead of the item's events one by one, and ingest reads it to
//! check an event against the item's history. `tracking_events` stays the record; the two
//! functions of `store` that write events append their lines in the same transaction, so
//! the row always says what the events say (measured in docs/benchmarks.md, "Tracking
//! lookups").
//!
//! A line is `code|status|location|event time|reason code|action code`, the time in RFC 3339
//! (UTC), an absent code empty. Every field is checked letters and digits before it is stored
//! (`input`, `codes`), so `|` and the newline between lines never occur inside one.

use chrono::{DateTime, SecondsFormat, Utc};
use eposta_kernel::Error;

/// One stored event as its summary line gives it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    pub code: &'a str,
    pub status: &'a str,
    pub location: &'a str,
    pub event_time: DateTime<Utc>,
    pub reason_code: Option<&'a str>,
    pub action_code: Option<&'a str>,
}

/// Appends the line of one event to `out`, after a newline when `out` holds lines already.
pub fn push(out: &mut String, line: &Line<'_>) {
    if !out.is_empty() {
        out.push('\n');
    }
    for field in [line.code, line.status, line.location] {
        out.push_str(field);
        out.push('|');
    }
    out.push_str(&line.event_time.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    out.push('|');
    out.push_str(line.reason_code.unwrap_or(""));
    out.push('|');
    out.push_str(line.action_code.unwrap_or(""));
}

/// The lines of one summary, in the order they were stored. A line that does not parse is
/// the database's fault, not the caller's: an internal error naming the item (tracking
/// numbers are not personal data).
pub fn parse<'a>(tracking_number: &str, text: &'a str) -> Result<Vec<Line<'a>>, Error> {
    text.split('\n')
        .map(|line| {
            parse_line(line).ok_or_else(|| {
                Error::Internal(anyhow::anyhow!(
                    "the tracking summary of {tracking_number} has a broken line"
                ))
            })
        })
        .collect()
}

fn parse_line<'a>(line: &'a str) -> Option<Line<'a>> {
    let mut fields = line.split('|');
    let mut next = || fields.next();
    let code = next()?;
    let status = next()?;
    let location = next()?;
    // Lines written here end in `Z`; those the migration copied from SQLite's stored times
    // carry `+00:00`, which RFC 3339 reads alike.
    let event_time = DateTime::parse_from_rfc3339(next()?).ok()?.to_utc();
    let optional = |s: &'a str| (!s.is_empty()).then_some(s);
    let reason_code = optional(next()?);
    let action_code = optional(next()?);
    if next().is_some() || code.is_empty() || status.is_empty() || location.is_empty() {
        return None;
    }
    Some(Line {
        code,
        status,
        location,
        event_time,
        reason_code,
        action_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn line(code: &'static str, second: u32, reason: Option<&'static str>) -> Line<'static> {
        Line {
            code,
            status: "in_transit",
            location: "11101",
            event_time: Utc
                .with_ymd_and_hms(2026, 3, 2, 10, 15, second)
                .single()
                .expect("a real time"),
            reason_code: reason,
            action_code: reason.map(|_| "A1"),
        }
    }

    #[test]
    fn lines_come_back_as_they_were_pushed_in_order() {
        let lines = [
            line("EMA", 0, None),
            line("EMH", 7, Some("R12")),
            line("EDD", 59, None),
        ];
        let mut text = String::new();
        for l in &lines {
            push(&mut text, l);
        }
        assert_eq!(text.lines().count(), 3);
        assert_eq!(parse("RA123456785RS", &text).expect("parses"), lines);
    }

    #[test]
    fn fractions_of_a_second_and_offsets_survive() {
        let mut l = line("EMA", 0, None);
        l.event_time += chrono::Duration::microseconds(123_456);
        let mut text = String::new();
        push(&mut text, &l);
        assert_eq!(
            parse("x", &text).expect("parses")[0].event_time,
            l.event_time
        );
        // As SQLite stores times, which the migration copies as they are.
        let copied = "EMA|accepted|11101|2026-03-02T10:15:00+00:00||";
        assert_eq!(
            parse("x", copied).expect("parses")[0].event_time,
            line("EMA", 0, None).event_time
        );
    }

    #[test]
    fn broken_lines_are_an_error_not_a_guess() {
        for text in [
            "",
            "EMA|accepted|11101|2026-03-02T10:15:00Z|",
            "EMA|accepted|11101|2026-03-02T10:15:00Z|||",
            "EMA|accepted|11101|yesterday||",
            "|accepted|11101|2026-03-02T10:15:00Z||",
            "EMA|accepted|11101|2026-03-02T10:15:00Z||\n",
        ] {
            assert!(parse("RA123456785RS", text).is_err(), "{text:?}");
        }
    }
}
