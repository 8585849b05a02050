//! Any bytes as a pain.002 status report: reading never panics, and an error names a line
//! inside the input.
#![no_main]

use eposta_formats::iso20022::pain002::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    if let Err(e) = parse(data) {
        assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
        assert!(!e.reason.is_empty());
    }
});
