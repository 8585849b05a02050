//! Any bytes as a camt.053 statement: reading never panics, stops at the first error, and
//! every error names a line inside the input; the first pass agrees with the reader.
#![no_main]

use eposta_formats::iso20022::camt053::{Reader, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let mut entries = 0u64;
    let mut failed = None;
    for entry in Reader::new(data) {
        match entry {
            Ok(e) => {
                assert!(failed.is_none(), "an entry after an error");
                assert!(e.amount.para >= 0);
                let _ = e.reference();
                entries += 1;
            }
            Err(e) => {
                assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
                failed = Some(e);
            }
        }
    }
    match validate(data) {
        Ok(summary) => {
            assert!(failed.is_none());
            assert_eq!(summary.statements.iter().map(|s| s.entries).sum::<u64>(), entries);
        }
        Err(e) => assert_eq!(Some(e), failed),
    }
});
