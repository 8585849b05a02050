//! Any bytes: parsing never panics, and a code judged valid prints a canonical string that
//! parses back to the same code.
#![no_main]

use eposta_formats::ips::IpsQr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(qr) = IpsQr::parse_bytes(data) {
        assert_eq!(IpsQr::parse(&qr.to_string()), Ok(qr));
    }
});
