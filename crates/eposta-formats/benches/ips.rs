//! IPS QR parse + validate throughput on one core (issue #5: at least 1 million strings/s).
//!
//!   cargo bench -p eposta-formats --bench ips [-- STRINGS [ROUNDS]]
//!
//! Builds a deterministic set of 10,000 distinct strings (the shared test vectors' shapes:
//! PR bills with one to three lines of payee and payer, Cyrillic and Latin, model-97 and
//! model-00 references, and PT/EK codes with MCC; every 100th string invalid in turn by a
//! wrong account control, a bad amount, a missing tag and a tag out of order), checks that
//! the verdicts are right, then parses STRINGS strings (default 5 million) cycling over the
//! set, ROUNDS times (default 5), and prints strings per second for each round: by the
//! wall clock, and by the time the thread was on a CPU (from /proc/thread-self/schedstat on
//! Linux), which is what "on one core" means on a machine shared with other work.

use std::hint::black_box;
use std::time::Instant;

use eposta_formats::account::AccountNumber;
use eposta_formats::ips::{IpsFields, IpsQr, Kind};
use eposta_formats::reference::Reference;

/// SplitMix64: test data only.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const PAYEES: [&str; 4] = [
    "JP EPS BEOGRAD",
    "Telekom Srbija A.D.\nTakovska 2\nBeograd",
    "Предузеће д.о.о.\nБулевар краља Александра 73\n11000 Београд",
    "Infostan tehnologije\nBeograd",
];
const PAYERS: [&str; 3] = [
    "Petar Petrović\nKnez Mihailova 1\n11000 Beograd",
    "Јована Јовановић\nНемањина 4\n11000 Београд",
    "Marko Marković",
];

fn strings(count: usize) -> (Vec<String>, usize) {
    let mut rng = Rng(5);
    let mut out = Vec::with_capacity(count);
    let mut invalid = 0;
    for i in 1..=count {
        let account = AccountNumber::new(rng.below(1000) as u16, rng.below(10_000_000_000_000))
            .expect("in range");
        let kind = match rng.below(10) {
            0 => Kind::Pt,
            1 => Kind::Ek,
            _ => Kind::Pr,
        };
        let mut f = IpsFields::new(
            kind,
            account.as_str(),
            PAYEES[rng.below(4) as usize],
            rng.below(100_000_000) as i64 + 1,
        );
        f.payment_code = Some(["189", "221", "253", "289"][rng.below(4) as usize].into());
        if rng.below(2) == 0 {
            f.payer = Some(PAYERS[rng.below(3) as usize].into());
        }
        f.purpose = Some(format!("Račun {}/2024", rng.below(100_000)));
        f.reference = Some(match rng.below(3) {
            0 => format!("00{}", rng.below(1_000_000_000)),
            _ => Reference::model97(&format!("{}", rng.below(1_000_000_000_000_000)))
                .expect("valid")
                .ro(),
        });
        if kind != Kind::Pr {
            f.mcc = Some("5411".into());
        }
        let mut s = IpsQr::new(&f)
            .expect("generated codes are valid")
            .to_string();
        if i % 100 == 0 {
            invalid += 1;
            s = match (i / 100) % 4 {
                // Control 00 is never computed (always 2 to 98).
                0 => s.replacen(
                    account.as_str(),
                    &format!("{}00", &account.as_str()[..16]),
                    1,
                ),
                1 => s.replacen("|I:RSD", "|I:EUR", 1),
                2 => s.replacen("|V:01", "", 1),
                _ => s
                    .replacen("|C:1", "", 1)
                    .replacen("|V:01", "|V:01|C:1|N:X", 1),
            };
        }
        out.push(s);
    }
    (out, invalid)
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let total: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let (set, planted) = strings(10_000);
    let bytes: usize = set.iter().map(String::len).sum();
    let judged_invalid = set.iter().filter(|s| IpsQr::parse(s).is_err()).count();
    assert_eq!(
        judged_invalid, planted,
        "the planted invalid strings, and only they"
    );
    println!(
        "data: {} distinct strings, mean {} bytes, {} invalid; {} parses per round",
        set.len(),
        bytes / set.len(),
        planted,
        total
    );
    let mut rates = Vec::new();
    let mut cpu_rates = Vec::new();
    for round in 1..=rounds {
        let cpu_start = thread_cpu_ns();
        let start = Instant::now();
        let mut valid = 0usize;
        for s in set.iter().cycle().take(total) {
            if black_box(IpsQr::parse(black_box(s))).is_ok() {
                valid += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = match (cpu_start, thread_cpu_ns()) {
            (Some(a), Some(b)) => Some((b - a) as f64 / 1e9),
            _ => None,
        };
        assert_eq!(
            valid,
            total - total / set.len() * planted - invalid_in_tail(&set, total)
        );
        let rate = total as f64 / secs;
        rates.push(rate);
        match cpu {
            Some(cpu) => {
                cpu_rates.push(total as f64 / cpu);
                println!(
                    "round {round}: {secs:.3} s wall, {:.2} million strings/s; {cpu:.3} s on CPU, {:.2} million strings/s per core",
                    rate / 1e6,
                    total as f64 / cpu / 1e6
                );
            }
            None => println!(
                "round {round}: {secs:.3} s wall, {:.2} million strings/s",
                rate / 1e6
            ),
        }
    }
    summary("wall clock", &mut rates);
    if !cpu_rates.is_empty() {
        summary("on-CPU time", &mut cpu_rates);
    }
}

fn summary(what: &str, rates: &mut [f64]) {
    rates.sort_by(f64::total_cmp);
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    println!(
        "IPS QR parse + validate, one thread, by {what}: mean {:.2}, best {:.2}, worst {:.2} million strings/s",
        mean / 1e6,
        rates[rates.len() - 1] / 1e6,
        rates[0] / 1e6
    );
}

/// Nanoseconds this thread has spent on a CPU (Linux), `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Invalid strings among the last partial pass over the set.
fn invalid_in_tail(set: &[String], total: usize) -> usize {
    set[..total % set.len()]
        .iter()
        .filter(|s| IpsQr::parse(s).is_err())
        .count()
}
