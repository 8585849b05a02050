//! Writes a camt.053 statement of ENTRIES generated entries to standard output, for tests
//! and the reconciliation benchmark (docs/benchmarks.md):
//!
//!   cargo run --release -p eposta-formats --features iso20022 --example gen_camt053 -- \
//!       1000000 [--version 02|08] [--seed S] > statement.xml
//!
//! Deterministic for a seed. Nine entries in ten are customer credits with a model-97
//! reference whose body is `2026` and the entry number (half structured in
//! `CdtrRefInf`, half in free text as `Uplata po racunu 97 …`); every tenth is a debit
//! without one. Amounts are 1.00 to 50,000.00 RSD; balances and the summary add up.

use std::io::{self, Write};
use std::process::ExitCode;

use eposta_formats::account::AccountNumber;
use eposta_formats::iso20022::camt053::{StatementSpec, TransactionSpec, Version, write_statement};
use eposta_formats::iso20022::{CreditDebit, Currency, Date};
use eposta_formats::reference::Reference;

/// SplitMix64: test data only.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const NAMES: [&str; 5] = [
    "Petar Petrović",
    "Јована Јовановић",
    "Marko Marković & sin",
    "Ana Anić",
    "Предузеће <Југ> д.о.о.",
];

fn entry(seed: u64, i: u64) -> TransactionSpec {
    let r = mix(seed ^ i.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let para = 100 + (r % 4_999_900) as i64;
    if i % 10 == 9 {
        return TransactionSpec {
            direction: CreditDebit::Debit,
            para,
            reference: None,
            unstructured: Some("Naknada banke".to_owned()),
            end_to_end_id: None,
            account_servicer_reference: Some(format!("BANK{i:010}")),
            debtor_name: None,
            debtor_account: None,
            value_date: None,
        };
    }
    let reference = Reference::model97(&format!("2026{i:010}")).ok();
    let (structured, text) = if i.is_multiple_of(2) {
        (reference, None)
    } else {
        let text = reference.map(|r| format!("Uplata po racunu 97 {}", r.reference()));
        (None, text)
    };
    TransactionSpec {
        direction: CreditDebit::Credit,
        para,
        reference: structured,
        unstructured: text,
        end_to_end_id: Some(format!("E2E{i:012}")),
        account_servicer_reference: Some(format!("BANK{i:010}")),
        debtor_name: Some(NAMES[(r >> 40) as usize % NAMES.len()].to_owned()),
        debtor_account: AccountNumber::new(
            ((r >> 20) % 1000) as u16,
            (r >> 8) % 10_000_000_000_000,
        ),
        value_date: None,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_camt053 ENTRIES [--version 02|08] [--seed S]";
    let Some(count) = args.first().and_then(|a| a.parse::<u64>().ok()) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let mut version = Version::V02;
    let mut seed = 1u64;
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        match (flag.as_str(), rest.next().map(String::as_str)) {
            ("--version", Some("02")) => version = Version::V02,
            ("--version", Some("08")) => version = Version::V08,
            ("--seed", Some(s)) if s.parse::<u64>().is_ok() => seed = s.parse().unwrap_or(1),
            _ => {
                eprintln!("{usage}");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(account), Some(date)) = (
        AccountNumber::new(200, 2_900_123_456),
        Date::new(2026, 11, 25),
    ) else {
        return ExitCode::FAILURE;
    };
    let spec = StatementSpec {
        version,
        message_id: format!("GEN-{seed}-{count}"),
        statement_id: format!("GEN-{seed}-{count}-1"),
        created: "2026-11-25T18:30:00".to_owned(),
        account,
        iban: true,
        currency: Currency::RSD,
        opening_para: 0,
        date,
    };
    let out = io::stdout().lock();
    match write_statement(&spec, count, |i| entry(seed, i), out).and_then(|mut o| o.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_camt053: {e}");
            ExitCode::FAILURE
        }
    }
}
