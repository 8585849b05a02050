//! Code 128 (ISO/IEC 15417) for printable ASCII: the fewest symbol characters using code sets
//! B and C, the modulo-103 check symbol, and the bar and space widths to draw.
//!
//! An S10 identifier such as `EE876543216CA` becomes Start B, `E`, `E`, Code C, `87` `65`
//! `43` `21`, Code B, `6`, `C`, `A`, check, Stop: 156 modules instead of 178 in set B alone,
//! the same symbols zint prints for it (UPU S10 Annex A example). Sets A (control
//! characters), FNC1 and FNC4 (GS1, Latin-1) are not needed for postal identifiers and are
//! not produced.

/// Symbol values with a meaning of their own.
pub const CODE_C: u8 = 99;
pub const CODE_B: u8 = 100;
pub const START_B: u8 = 104;
pub const START_C: u8 = 105;
pub const STOP: u8 = 106;

/// Bar and space widths of every symbol character, in modules, bar first (ISO/IEC 15417
/// table 1). Each sums to 11; the stop pattern has seven elements summing to 13.
const PATTERNS: [&[u8]; 107] = [
    b"212222", b"222122", b"222221", b"121223", b"121322", b"131222", b"122213", b"122312",
    b"132212", b"221213", b"221312", b"231212", b"112232", b"122132", b"122231", b"113222",
    b"123122", b"123221", b"223211", b"221132", b"221231", b"213212", b"223112", b"312131",
    b"311222", b"321122", b"321221", b"312212", b"322112", b"322211", b"212123", b"212321",
    b"232121", b"111323", b"131123", b"131321", b"112313", b"132113", b"132311", b"211313",
    b"231113", b"231311", b"112133", b"112331", b"132131", b"113123", b"113321", b"133121",
    b"313121", b"211331", b"231131", b"213113", b"213311", b"213131", b"311123", b"311321",
    b"331121", b"312113", b"312311", b"332111", b"314111", b"221411", b"431111", b"111224",
    b"111422", b"121124", b"121421", b"141122", b"141221", b"112214", b"112412", b"122114",
    b"122411", b"142112", b"142211", b"241211", b"221114", b"413111", b"241112", b"134111",
    b"111242", b"121142", b"121241", b"114212", b"124112", b"124211", b"411212", b"421112",
    b"421211", b"212141", b"214121", b"412121", b"111143", b"111341", b"131141", b"114113",
    b"114311", b"411113", b"411311", b"113141", b"114131", b"311141", b"411131", b"211412",
    b"211214", b"211232", b"2331112",
];

/// Why a text cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Code128Error {
    #[error("nothing to encode")]
    Empty,
    #[error("character {0:?} at position {1} is not printable ASCII")]
    Unsupported(char, usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Set {
    B,
    C,
}

/// The symbol values for `text`: a start symbol, the data with any code set changes, the
/// check symbol and the stop symbol. The encoding has the fewest symbols possible with sets
/// B and C, then the fewest set changes; where choices still tie, set C is entered as early
/// as possible. This gives the symbols zint gives.
pub fn encode(text: &str) -> Result<Vec<u8>, Code128Error> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Err(Code128Error::Empty);
    }
    if let Some((i, c)) = text
        .char_indices()
        .find(|&(_, c)| !(' '..='~').contains(&c))
    {
        return Err(Code128Error::Unsupported(c, i));
    }
    let n = bytes.len();
    let pair = |i: usize| i + 1 < n && bytes[i].is_ascii_digit() && bytes[i + 1].is_ascii_digit();

    // cost[i][set]: (symbols, set changes) to encode bytes[i..] when `set` is current,
    // compared in that order. Every step consumes input, so one backward pass is enough.
    type Cost = (u32, u32);
    const INF: Cost = (u32::MAX / 4, 0);
    let add = |c: Cost, symbols: u32, changes: u32| (c.0 + symbols, c.1 + changes);
    let mut cost = vec![[INF; 2]; n + 1];
    cost[n] = [(0, 0); 2];
    for i in (0..n).rev() {
        let after_pair = if pair(i) { cost[i + 2][1] } else { INF };
        let after_char = cost[i + 1][0];
        // In B: the character in B, or latch to C and take a pair. In C: a pair, or latch
        // to B and take the character.
        cost[i][0] = add(after_char, 1, 0).min(add(after_pair, 2, 1));
        cost[i][1] = add(after_pair, 1, 0).min(add(after_char, 2, 1));
    }

    let mut out = Vec::with_capacity(cost[0][0].0 as usize + 3);
    // Ties go to set C: the odd digit of a run then ends up after it, as zint places it.
    let mut set = if pair(0) && add(cost[2][1], 2, 0) <= add(cost[0][0], 1, 0) {
        out.push(START_C);
        Set::C
    } else {
        out.push(START_B);
        Set::B
    };
    let mut i = 0;
    while i < n {
        let take_pair = pair(i)
            && match set {
                Set::C => add(cost[i + 2][1], 1, 0) <= add(cost[i + 1][0], 2, 1),
                Set::B => add(cost[i + 2][1], 2, 1) <= add(cost[i + 1][0], 1, 0),
            };
        if take_pair {
            if set == Set::B {
                out.push(CODE_C);
                set = Set::C;
            }
            out.push((bytes[i] - b'0') * 10 + (bytes[i + 1] - b'0'));
            i += 2;
        } else {
            if set == Set::C {
                out.push(CODE_B);
                set = Set::B;
            }
            out.push(bytes[i] - b' ');
            i += 1;
        }
    }
    out.push(check_symbol(&out));
    out.push(STOP);
    Ok(out)
}

/// The check symbol over a start symbol and data symbols: the start value plus each data
/// value times its position, modulo 103.
pub fn check_symbol(start_and_data: &[u8]) -> u8 {
    let sum = start_and_data
        .iter()
        .enumerate()
        .map(|(pos, &v)| pos.max(1) as u64 * u64::from(v))
        .sum::<u64>();
    (sum % 103) as u8
}

/// The element widths of `symbols` in modules, alternating bar and space, starting and
/// ending with a bar. Values above 106 have no pattern and are skipped.
pub fn widths(symbols: &[u8]) -> Vec<u8> {
    symbols
        .iter()
        .filter_map(|&s| PATTERNS.get(usize::from(s)))
        .flat_map(|p| p.iter().map(|d| d - b'0'))
        .collect()
}

/// The modules of `symbols`, `true` for bar: handy for raster output and for tests.
pub fn modules(symbols: &[u8]) -> Vec<bool> {
    widths(symbols)
        .iter()
        .enumerate()
        .flat_map(|(k, &w)| std::iter::repeat_n(k % 2 == 0, usize::from(w)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(symbols: &[u8]) -> String {
        modules(symbols)
            .iter()
            .map(|&b| if b { '1' } else { '0' })
            .collect()
    }

    #[test]
    fn every_pattern_has_three_bars_and_eleven_modules_and_all_differ() {
        for (v, p) in PATTERNS.iter().enumerate().take(106) {
            assert_eq!(p.len(), 6, "value {v}");
            assert_eq!(p.iter().map(|d| u32::from(d - b'0')).sum::<u32>(), 11);
        }
        assert_eq!(
            PATTERNS[106]
                .iter()
                .map(|d| u32::from(d - b'0'))
                .sum::<u32>(),
            13
        );
        let mut all = PATTERNS.to_vec();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 107);
    }

    /// Module strings printed by zint's test suite (backend/tests/test_code128.c): the ISO/IEC
    /// 15417 Figure 1 example, a set C run, and the UPU S10 Annex A identifier.
    #[test]
    fn matches_the_published_module_strings() {
        let cases = [
            (
                "AIM",
                "11010010000101000110001100010001010111011000101110110001100011101011",
            ),
            (
                "1234567890",
                "110100111001011001110010001011000111000101101100001010011011110110100111100101100011101011",
            ),
            (
                "EE876543216CA",
                "110100100001000110100010001101000101110111101111001010010010110000101100011101101110010010111101110110011101001000100011010100011000100010011001100011101011",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(bits(&encode(text).expect("encodes")), expected, "{text}");
        }
    }

    /// Symbol values from zint's test suite, check symbol included.
    #[test]
    fn chooses_sets_like_zint() {
        let cases: [(&str, &[u8]); 7] = [
            ("1", &[104, 17, 18, 106]),
            ("12", &[105, 12, 14, 106]),
            ("123", &[104, 17, 18, 19, 8, 106]),
            ("1234", &[105, 12, 34, 82, 106]),
            ("12345", &[105, 12, 34, 100, 21, 54, 106]),
            // ISO/IEC 15417 Annex A.1: check symbol 87.
            ("AIM1234", &[104, 33, 41, 45, 99, 12, 34, 87, 106]),
            (
                "EE876543216CA",
                &[104, 37, 37, 99, 87, 65, 43, 21, 100, 22, 35, 33, 5, 106],
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(encode(text).expect("encodes"), expected, "{text}");
        }
    }

    #[test]
    fn an_s10_identifier_takes_156_modules() {
        for id in [
            "RA123456785RS",
            "EE876543216CA",
            "RR000000014RS",
            "CP123456785RS",
        ] {
            let symbols = encode(id).expect("encodes");
            assert_eq!(symbols.len(), 14, "{id}: {symbols:?}");
            assert_eq!(modules(&symbols).len(), 156, "{id}");
        }
    }

    #[test]
    fn is_never_longer_than_set_b_alone() {
        for text in ["A12B", "ab1234cd", "0", "99x", "x99", "12a34b56", "1234567"] {
            let symbols = encode(text).expect("encodes");
            assert!(symbols.len() <= text.len() + 3, "{text}: {symbols:?}");
        }
        // Four digits in the middle pay for the two switches; two do not.
        assert_eq!(
            encode("A1234B").expect("encodes").len(),
            2 + 1 + 2 + 1 + 1 + 2
        );
        assert_eq!(encode("A12B").expect("encodes").len(), 2 + 4 + 1);
    }

    #[test]
    fn refuses_what_it_cannot_encode() {
        assert_eq!(encode(""), Err(Code128Error::Empty));
        assert_eq!(encode("ab\ncd"), Err(Code128Error::Unsupported('\n', 2)));
        assert_eq!(encode("Đ1"), Err(Code128Error::Unsupported('Đ', 0)));
    }
}
