//! Values as typed into a form (grams, dinars) and booking codes.

use eposta_kernel::money::Money;

use super::Rule;

/// Grams as typed into a form: digits only (`1200`), spaces ignored.
pub fn parse_grams(input: &str) -> Result<i64, Rule> {
    let s: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return Err(Rule::Required);
    }
    if s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Rule::Weight);
    }
    s.parse().map_err(|_| Rule::Weight)
}

/// Dinars as typed into a form: `1500`, `1500,50` or `1500.5`, at most two decimals, no
/// thousands separators (`1.500` would be ambiguous). Empty means "not asked for".
pub fn parse_dinars(input: &str) -> Result<Option<Money>, Rule> {
    let s: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let s = s
        .strip_suffix("RSD")
        .or(s.strip_suffix("din"))
        .unwrap_or(&s);
    if s.is_empty() {
        return Ok(None);
    }
    let (units, fraction) = match s.split_once([',', '.']) {
        Some((u, f)) => (u, f),
        None => (s, ""),
    };
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
    Ok(Some(Money::rsd(units * 100 + para)))
}

/// A booking (hand-in) code: eight characters from an alphabet without look-alikes (no 0,
/// 1, I, O), shown as `ABCD-EFGH`, typed in any case with or without the dash.
pub const BOOKING_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Normalises a typed booking code; `None` if it cannot be one.
pub fn parse_booking_code(input: &str) -> Option<String> {
    let s: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (s.len() == 8 && s.bytes().all(|b| BOOKING_ALPHABET.contains(&b))).then_some(s)
}

/// `ABCD-EFGH`, easier to read out at a counter.
pub fn group_booking_code(code: &str) -> String {
    if code.len() == 8 && code.is_ascii() {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_owned()
    }
}
