//! ISO 3166-1 alpha-2 country codes (the 249 officially assigned codes).

/// Sorted, so that lookups can use binary search.
const CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ \
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES \
ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO \
IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK \
ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR \
PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK \
TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Whether `code` (two upper-case ASCII letters) is an assigned ISO 3166-1 alpha-2 code.
pub fn is_iso_country(code: [u8; 2]) -> bool {
    let bytes = CODES.as_bytes();
    let n = bytes.len().div_ceil(3);
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let c = [bytes[mid * 3], bytes[mid * 3 + 1]];
        match c.cmp(&code) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_complete_and_searchable() {
        let codes: Vec<&str> = CODES.split(' ').collect();
        assert_eq!(codes.len(), 249);
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        for c in &codes {
            assert!(is_iso_country([c.as_bytes()[0], c.as_bytes()[1]]), "{c}");
        }
        for bad in ["XX", "YZ", "UK", "EU", "AA", "ZZ"] {
            assert!(
                !is_iso_country([bad.as_bytes()[0], bad.as_bytes()[1]]),
                "{bad}"
            );
        }
    }
}
