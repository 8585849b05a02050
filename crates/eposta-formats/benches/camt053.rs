//! Reading a camt.053 statement for reconciliation (issue #5: one million entries in under
//! 30 s, in memory that does not grow with the file).
//!
//!   cargo bench -p eposta-formats --features iso20022 --bench camt053 [-- FILE | -- --entries N]
//!
//! With FILE, reads it (make one with the `gen_camt053` example). Otherwise writes a
//! statement of N entries (default 1,000,000) to a temporary file first, as the example
//! would. Then reads the file twice, as reconciliation does: `validate` (the first pass)
//! and the `Reader` (the second, summing the entries and resolving every reference), and
//! prints for each pass the time, the entries per second and the MB/s, and the process's
//! peak resident memory (VmHWM from /proc/self/status, Linux) before and after both
//! passes: the reader's part of the peak is the difference.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use eposta_formats::account::AccountNumber;
use eposta_formats::iso20022::camt053::{
    Reader, StatementSpec, TransactionSpec, Version, validate, write_statement,
};
use eposta_formats::iso20022::{CreditDebit, Currency, Date};
use eposta_formats::reference::Reference;

/// Nanoseconds this thread has been on a CPU (Linux), so that a pass can be timed apart
/// from the other work of a shared machine.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU seconds between two readings, or NaN when the system does not tell.
fn cpu_secs(before: Option<u64>, after: Option<u64>) -> f64 {
    match (before, after) {
        (Some(b), Some(a)) => (a - b) as f64 / 1e9,
        _ => f64::NAN,
    }
}

/// Peak and current resident memory in KiB (VmHWM, VmRSS), if the system tells.
fn memory_kib() -> (Option<u64>, Option<u64>) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn entry(i: u64) -> TransactionSpec {
    let credit = i % 10 != 9;
    TransactionSpec {
        direction: if credit {
            CreditDebit::Credit
        } else {
            CreditDebit::Debit
        },
        para: 100 + (i.wrapping_mul(7919) % 4_999_900) as i64,
        reference: Reference::model97(&format!("2026{i:010}"))
            .ok()
            .filter(|_| credit && i.is_multiple_of(2)),
        unstructured: Reference::model97(&format!("2026{i:010}"))
            .ok()
            .filter(|_| credit && i % 2 == 1)
            .map(|r| format!("Uplata po racunu 97 {}", r.reference())),
        end_to_end_id: Some(format!("E2E{i:012}")),
        account_servicer_reference: Some(format!("BANK{i:010}")),
        debtor_name: credit.then(|| "Petar Petrović".to_owned()),
        debtor_account: AccountNumber::new(160, i),
        value_date: None,
    }
}

fn generate(entries: u64) -> std::io::Result<PathBuf> {
    let path = std::env::temp_dir().join(format!("eposta-camt053-{entries}.xml"));
    let spec = StatementSpec {
        version: Version::V02,
        message_id: format!("BENCH-{entries}"),
        statement_id: format!("BENCH-{entries}-1"),
        created: "2026-11-25T18:30:00".to_owned(),
        account: AccountNumber::new(200, 2_900_123_456).ok_or(std::io::ErrorKind::Other)?,
        iban: true,
        currency: Currency::RSD,
        opening_para: 0,
        date: Date::new(2026, 11, 25).ok_or(std::io::ErrorKind::Other)?,
    };
    let out = BufWriter::new(File::create(&path)?);
    write_statement(&spec, entries, entry, out)?.flush()?;
    Ok(path)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (path, generated) = match args.as_slice() {
        [] => (generate(1_000_000)?, true),
        [flag, n] if flag == "--entries" => (generate(n.parse()?)?, true),
        [file] => (PathBuf::from(file), false),
        _ => return Err("usage: camt053 [FILE | --entries N]".into()),
    };
    let bytes = std::fs::metadata(&path)?.len();
    let (peak_before, _) = memory_kib();
    println!(
        "file: {} ({:.1} MB){}",
        path.display(),
        bytes as f64 / 1e6,
        if generated { ", generated" } else { "" }
    );

    let (start, cpu) = (Instant::now(), cpu_ns());
    let summary = validate(File::open(&path)?)?;
    let (first, first_cpu) = (start.elapsed(), cpu_secs(cpu, cpu_ns()));
    let entries: u64 = summary.statements.iter().map(|s| s.entries).sum();
    println!(
        "pass 1 (validate): {entries} entries in {:.2} s ({first_cpu:.2} s on a CPU): {:.0} entries/s, {:.0} MB/s by CPU time",
        first.as_secs_f64(),
        entries as f64 / first_cpu,
        bytes as f64 / 1e6 / first_cpu
    );

    let (start, cpu) = (Instant::now(), cpu_ns());
    let (mut n, mut credits, mut referenced) = (0u64, 0i64, 0u64);
    for e in Reader::new(File::open(&path)?) {
        let e = e?;
        n += 1;
        if e.direction == CreditDebit::Credit {
            credits += e.amount.para;
        }
        if e.reference().is_some() {
            referenced += 1;
        }
    }
    let (second, second_cpu) = (start.elapsed(), cpu_secs(cpu, cpu_ns()));
    println!(
        "pass 2 (entries and references): {n} entries, {referenced} with a valid reference, credits {credits} para, in {:.2} s ({second_cpu:.2} s on a CPU): {:.0} entries/s by CPU time",
        second.as_secs_f64(),
        n as f64 / second_cpu
    );
    println!(
        "both passes: {:.2} s ({:.2} s on a CPU)",
        (first + second).as_secs_f64(),
        first_cpu + second_cpu
    );
    let (peak_after, rss) = memory_kib();
    if let (Some(before), Some(after), Some(rss)) = (peak_before, peak_after, rss) {
        println!(
            "peak resident memory: {before} KiB before reading, {after} KiB after (current {rss} KiB)"
        );
    }
    if n != entries {
        return Err("the passes disagree".into());
    }
    if generated {
        std::fs::remove_file(&path)?;
    }
    Ok(())
}
