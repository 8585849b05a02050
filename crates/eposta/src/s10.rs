//! `eposta s10 …`: check UPU S10 identifiers given as arguments or streamed on standard input,
//! and generate data sets of them for tests and benchmarks. Needs no configuration, database
//! or async runtime, so it works in any directory and as fast as the input arrives.

use std::ffi::OsString;
use std::io::{self, ErrorKind, Read, Write};
use std::process::ExitCode;

use clap::Subcommand;
use eposta_formats::s10::{Checked, S10, S10Error, check_digit, is_separator};

#[derive(Subcommand, Debug)]
pub enum S10Command {
    /// Check identifiers; exit 0 only when all are valid.
    ///
    /// Prints one line each: `ID<TAB>valid`, `ID<TAB>valid<TAB>warning: …` or
    /// `ID<TAB>invalid<TAB>reason`. Exits 0 when every one is valid (warnings included), 1
    /// otherwise.
    Check {
        /// Identifiers (spaces and lower case are fine: `"ra 123 456 785 rs"`); `-` reads
        /// them from standard input, one per line, and prints a line for every line read.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<OsString>,
    },
    /// Print identifiers for tests and benchmarks.
    ///
    /// One per line: valid ones with allocated service indicators (no warnings), and, with
    /// --invalid-every K, every K-th one invalid.
    Generate {
        /// How many identifiers to print.
        #[arg(long)]
        count: u64,
        /// The same seed gives the same identifiers.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Make identifiers K, 2K, 3K, … invalid, in turn by a wrong check digit, a reserved
        /// service indicator, an unknown country and a missing digit.
        #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
        invalid_every: Option<u64>,
    },
}

/// Runs the command: 0 when it did all it was asked and everything checked was valid, 1
/// otherwise (usage errors, 2, are clap's before this runs).
pub fn run(command: &S10Command) -> ExitCode {
    let stdout = io::stdout();
    // Big writes: the standard output's own line buffering would write once per line.
    let mut out = io::BufWriter::with_capacity(OUT_CAPACITY, stdout.lock());
    let done = match command {
        S10Command::Check { ids } => check_all(ids, &mut out),
        S10Command::Generate {
            count,
            seed,
            invalid_every,
        } => generate(*count, *seed, *invalid_every, &mut out).map(|()| true),
    };
    match done.and_then(|all_valid| out.flush().map(|()| all_valid)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        // The reader went away (`| head`): not everything was printed, so not a success,
        // but nothing worth a message either.
        Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::from(1),
        Err(e) => {
            eprintln!("eposta: {e}");
            ExitCode::from(1)
        }
    }
}

const OUT_CAPACITY: usize = 256 * 1024;
/// Lines longer than this are streamed through rather than held (see [`check_stream`]).
const IN_CAPACITY: usize = 1024 * 1024;

/// Checks each argument in turn, `-` meaning every line of standard input (as `cat` does).
/// Returns whether all were valid.
fn check_all(ids: &[OsString], out: &mut impl Write) -> io::Result<bool> {
    let mut invalid = 0u64;
    for id in ids {
        if id == "-" {
            check_stream(io::stdin().lock(), out, &mut invalid)
                .map_err(|e| in_context(e, "standard input"))?;
        } else {
            let id = id.as_encoded_bytes();
            out.write_all(id)?;
            write_verdict(S10::parse_bytes(id), out, &mut invalid)?;
        }
    }
    Ok(invalid == 0)
}

fn in_context(e: io::Error, what: &str) -> io::Error {
    if e.kind() == ErrorKind::BrokenPipe {
        e
    } else {
        io::Error::new(e.kind(), format!("{what}: {e}"))
    }
}

/// Writes the rest of a line after the identifier (`\tvalid\n`, …) and counts invalid ones.
fn write_verdict(
    verdict: Result<Checked, S10Error>,
    out: &mut impl Write,
    invalid: &mut u64,
) -> io::Result<()> {
    match verdict {
        Ok(Checked { warning: None, .. }) => out.write_all(b"\tvalid\n"),
        Ok(Checked {
            warning: Some(w), ..
        }) => writeln!(out, "\tvalid\twarning: {w}"),
        Err(e) => {
            *invalid += 1;
            writeln!(out, "\tinvalid\t{e}")
        }
    }
}

/// Checks every line of `input`, in constant memory: lines are split in one large buffer that
/// is reused, and a line that does not fit in it (it cannot be valid unless it is mostly
/// spaces) is echoed as it streams by while only its first non-separator bytes are kept.
fn check_stream(mut input: impl Read, out: &mut impl Write, invalid: &mut u64) -> io::Result<()> {
    let mut buf = vec![0u8; IN_CAPACITY];
    // buf[..end] holds input not yet checked; it always starts at the start of a line, or in
    // the middle of a long line when `long` is set.
    let mut end = 0;
    let mut long: Option<LongLine> = None;
    loop {
        // buf[..end] has no line ending yet: only what arrives now needs searching.
        let scanned = end;
        let read = read_some(&mut input, &mut buf[end..])?;
        end += read;
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', &buf[scanned..end]) {
            let nl = scanned + nl;
            let line = without_cr(&buf[start..nl]);
            match long.take() {
                None => {
                    out.write_all(line)?;
                    write_verdict(S10::parse_bytes(line), out, invalid)?;
                }
                Some(l) => l.finish(line, out, invalid)?,
            }
            start = nl + 1;
        }
        if read == 0 {
            // The last line had no line ending.
            if start < end || long.is_some() {
                let line = without_cr(&buf[start..end]);
                match long.take() {
                    None => {
                        out.write_all(line)?;
                        write_verdict(S10::parse_bytes(line), out, invalid)?;
                    }
                    Some(l) => l.finish(line, out, invalid)?,
                }
            }
            return Ok(());
        }
        if start == 0 && end == buf.len() {
            // No line ending in a full buffer. Keep the last byte back: it may be the `\r` of
            // a `\r\n`, which is not part of the identifier.
            long.get_or_insert_default().feed(&buf[..end - 1], out)?;
            buf[0] = buf[end - 1];
            end = 1;
        } else if start > 0 {
            buf.copy_within(start..end, 0);
            end -= start;
        }
    }
}

/// Reads at least one byte unless at the end, retrying interrupted reads.
fn read_some(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            r => return r,
        }
    }
}

fn without_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A line too long for the buffer: the bytes that decide its verdict. Parsing skips
/// separators, and 14 other bytes are already one too many, so at most 14 are kept.
#[derive(Default)]
struct LongLine {
    kept: [u8; 14],
    n: usize,
}

impl LongLine {
    fn feed(&mut self, part: &[u8], out: &mut impl Write) -> io::Result<()> {
        for &b in part {
            if self.n == self.kept.len() {
                break;
            }
            if !is_separator(b) {
                self.kept[self.n] = b;
                self.n += 1;
            }
        }
        out.write_all(part)
    }

    fn finish(mut self, last: &[u8], out: &mut impl Write, invalid: &mut u64) -> io::Result<()> {
        self.feed(last, out)?;
        write_verdict(S10::parse_bytes(&self.kept[..self.n]), out, invalid)
    }
}

/// First letters of the service indicators S10-12 allocates (no reserved J K S T W, no
/// unallocated F I O X Y), so generated identifiers carry no warning.
const FIRST_LETTERS: &[u8; 16] = b"ABCDEGHLMNPQRUVZ";
const COUNTRIES: [&[u8; 2]; 32] = [
    b"RS", b"ME", b"BA", b"HR", b"MK", b"SI", b"HU", b"RO", b"BG", b"AL", b"GR", b"TR", b"AT",
    b"DE", b"CH", b"IT", b"FR", b"ES", b"PT", b"NL", b"BE", b"PL", b"CZ", b"SK", b"GB", b"IE",
    b"SE", b"RU", b"UA", b"US", b"CN", b"JP",
];
const RESERVED_FIRST_LETTERS: &[u8; 5] = b"JKSTW";
/// Two letters that are not ISO 3166-1 alpha-2 codes.
const NOT_COUNTRIES: [&[u8; 2]; 5] = [b"XX", b"ZZ", b"UK", b"EU", b"AA"];

/// Prints `count` identifiers. Deterministic for a seed, allocation-free, one write per line
/// into the buffered output.
fn generate(
    count: u64,
    seed: u64,
    invalid_every: Option<u64>,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut rng = SplitMix64(seed);
    let mut line = [0u8; 14];
    for i in 1..=count {
        let r = rng.next();
        line[0] = FIRST_LETTERS[(r & 15) as usize];
        line[1] = b'A' + ((r >> 4) % 26) as u8;
        let serial = ((r >> 16) % 100_000_000) as u32;
        let mut rest = serial;
        for d in line[2..10].iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        line[10] = b'0' + check_digit(serial);
        line[11..13].copy_from_slice(COUNTRIES[((r >> 56) & 31) as usize]);
        line[13] = b'\n';
        let mut len = line.len();
        if let Some(k) = invalid_every.filter(|k| i % k == 0) {
            let pick = (r >> 48) & 0xff;
            match (i / k) % 4 {
                1 => line[10] = b'0' + (check_digit(serial) + 1 + (pick % 9) as u8) % 10,
                2 => line[0] = RESERVED_FIRST_LETTERS[(pick % 5) as usize],
                3 => line[11..13].copy_from_slice(NOT_COUNTRIES[(pick % 5) as usize]),
                _ => {
                    // Twelve characters: the serial loses its last digit.
                    line.copy_within(10..14, 9);
                    len -= 1;
                }
            }
        }
        out.write_all(&line[..len])?;
    }
    Ok(())
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and good enough for test data; nothing
/// here needs to be unpredictable.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[u8], capacity_hint: usize) -> (String, u64) {
        // Small reads exercise lines split across reads.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.1).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        let mut invalid = 0;
        check_stream(Trickle(input, capacity_hint), &mut out, &mut invalid).expect("in memory");
        (String::from_utf8(out).expect("UTF-8"), invalid)
    }

    #[test]
    fn lines_split_across_reads_and_endings_are_handled() {
        let input = b"RA123456785RS\r\nra 123 456 785 rs\nRA123456784RS\n\nFB123456785GB";
        for step in [1, 2, 3, 7, 13, 14, 100] {
            let (out, invalid) = check(input, step);
            assert_eq!(
                out,
                "RA123456785RS\tvalid\n\
                 ra 123 456 785 rs\tvalid\n\
                 RA123456784RS\tinvalid\tcheck digit 4, expected 5\n\
                 \tinvalid\tmust be 13 characters: two letters, nine digits, two letters\n\
                 FB123456785GB\tvalid\twarning: service indicator FB is not allocated in S10-12\n",
                "reads of {step}"
            );
            assert_eq!(invalid, 2);
        }
    }

    #[test]
    fn a_line_longer_than_the_buffer_is_echoed_and_judged_whole() {
        let spaces = " ".repeat(IN_CAPACITY * 2 + 5);
        let long_valid = format!("RA{spaces}123456785RS");
        let long_invalid = format!("RA123456785RS{}", "9".repeat(IN_CAPACITY + 1));
        let input = format!("{long_valid}\r\n{long_invalid}\nRA123456785RS\n{long_valid}");
        let (out, invalid) = check(input.as_bytes(), usize::MAX);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                format!("{long_valid}\tvalid"),
                format!(
                    "{long_invalid}\tinvalid\tmust be 13 characters: two letters, nine digits, two letters"
                ),
                "RA123456785RS\tvalid".to_owned(),
                format!("{long_valid}\tvalid"),
            ]
        );
        assert_eq!(invalid, 1);
    }

    #[test]
    fn generated_identifiers_are_valid_except_every_kth() {
        let mut out = Vec::new();
        generate(1000, 7, Some(3), &mut out).expect("in memory");
        let text = String::from_utf8(out).expect("ASCII");
        for (i, line) in text.lines().enumerate() {
            let parsed = S10::parse(line);
            if (i + 1) % 3 == 0 {
                assert!(parsed.is_err(), "line {}: {line}", i + 1);
            } else {
                assert_eq!(parsed.map(|c| c.warning), Ok(None), "line {}", i + 1);
            }
        }
        let mut again = Vec::new();
        generate(1000, 7, Some(3), &mut again).expect("in memory");
        assert_eq!(again, text.as_bytes(), "the same seed, the same data");
    }
}
