//! `eposta ips …`: check NBS IPS QR strings streamed on standard input, and make one from
//! fields, with its QR image as PNG or SVG. Needs no configuration, database or async
//! runtime.
//!
//! One string per line; a literal `\n` (backslash, n) inside a value stands for a newline,
//! since a real one would end the line. `make` prints its string the same way, so
//! `eposta ips make … | eposta ips check` works.

use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use eposta_formats::ips::{IpsFields, IpsQr, Kind};
use eposta_formats::qr::QrImage;

#[derive(Subcommand, Debug)]
pub enum IpsCommand {
    /// Check IPS QR strings; exit 0 only when all are valid.
    ///
    /// Reads one string per line from standard input (or checks the arguments) and prints,
    /// for each, `valid` or `invalid<TAB>TAG<TAB>reason`, in order, as the input streams in.
    Check {
        /// Strings to check instead of standard input (`-` reads standard input).
        #[arg(value_name = "STRING")]
        strings: Vec<String>,
    },
    /// Make an IPS QR string from fields; print it and write its QR image.
    Make(Box<MakeArgs>),
}

#[derive(Args, Debug)]
pub struct MakeArgs {
    /// K: PR (invoice), PT (merchant at a point of sale), PK (buyer at a point of sale), EK
    /// (web shop).
    #[arg(long, default_value = "PR", value_parser = parse_kind)]
    kind: Kind,
    /// R: the payee's account, 18 digits or dashed (840-955845-10).
    #[arg(long, value_name = "ACCOUNT")]
    account: String,
    /// N: the payee's name and seat, up to three lines separated by `\n`.
    #[arg(long, value_name = "TEXT")]
    payee: String,
    /// I: the amount in dinars, `1025,50` or `1025.50` or `1025` (no thousands separator).
    #[arg(long, value_parser = parse_amount, value_name = "AMOUNT")]
    amount: i64,
    /// O: the payer's account.
    #[arg(long, value_name = "ACCOUNT")]
    payer_account: Option<String>,
    /// P: the payer's name and address, up to three lines separated by `\n`.
    #[arg(long, value_name = "TEXT")]
    payer: Option<String>,
    /// SF: the payment code (289, 221, 189, …); mandatory for PR.
    #[arg(long, value_name = "CODE")]
    code: Option<String>,
    /// S: the purpose of payment.
    #[arg(long, value_name = "TEXT")]
    purpose: Option<String>,
    /// M: the merchant category code; mandatory for PT, PK and EK.
    #[arg(long)]
    mcc: Option<String>,
    /// JS: the payer's one-time code.
    #[arg(long, value_name = "CODE")]
    one_time_code: Option<String>,
    /// RK: the payer's reference.
    #[arg(long, value_name = "TEXT")]
    payer_reference: Option<String>,
    /// RO: model and reference number (`97 14123412`, `9714123412`, `00 1234`).
    #[arg(long, value_name = "MODEL_AND_REFERENCE")]
    reference: Option<String>,
    /// RL: the payee's free-form reference.
    #[arg(long, value_name = "TEXT")]
    payee_reference: Option<String>,
    /// RP: the point-of-sale transaction reference (19 characters).
    #[arg(long, value_name = "REF")]
    pos_reference: Option<String>,
    /// Write the QR code as a PNG image to this file.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Write the QR code as an SVG image to this file.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Pixels per QR module in the PNG.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(1..=100))]
    module_px: u8,
    /// Printed size of the SVG, in millimetres (quiet zone included).
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(10..=1000))]
    size_mm: u32,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| "must be PR, PT, PK or EK".to_owned())
}

/// Dinars as typed (`1025,50`, `1025.5`, `1025`) to para, without floats.
fn parse_amount(s: &str) -> Result<i64, String> {
    const FORM: &str = "dinars with up to two decimals after ',' or '.' (1025,50), no thousands separator, at most 12 integer digits";
    let (int, dec) = match s.split_once([',', '.']) {
        Some((i, d)) => (i, d),
        None => (s, ""),
    };
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 12 || dec.len() > 2 || !digits(int) || !digits(dec) {
        return Err(FORM.to_owned());
    }
    let whole: i64 = int.parse().map_err(|_| FORM.to_owned())?;
    let cents = match dec.len() {
        0 => 0,
        1 => i64::from(dec.as_bytes()[0] - b'0') * 10,
        _ => dec.parse::<i64>().map_err(|_| FORM.to_owned())?,
    };
    Ok(whole * 100 + cents)
}

/// A literal `\n` becomes a newline.
fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
}

/// Runs the command: 0 when everything checked was valid (or the code was made), 1
/// otherwise.
pub fn run(command: &IpsCommand) -> ExitCode {
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let done = match command {
        IpsCommand::Check { strings } => check(strings, &mut out),
        IpsCommand::Make(args) => make(args, &mut out),
    };
    match done.and_then(|ok| out.flush().map(|()| ok)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::from(1),
        Err(e) => {
            eprintln!("eposta: {e}");
            ExitCode::from(1)
        }
    }
}

fn check(strings: &[String], out: &mut impl Write) -> io::Result<bool> {
    let mut invalid = 0u64;
    if strings.is_empty() || strings.iter().all(|s| s == "-") {
        let mut input = BufReader::with_capacity(64 * 1024, io::stdin().lock());
        check_stream(&mut input, out, &mut invalid)?;
    } else {
        for s in strings {
            if s == "-" {
                let mut input = BufReader::with_capacity(64 * 1024, io::stdin().lock());
                check_stream(&mut input, out, &mut invalid)?;
            } else {
                verdict(unescape(s).as_bytes(), out, &mut invalid)?;
            }
        }
    }
    Ok(invalid == 0)
}

/// No IPS QR string comes near this (the longest possible is under 4 KiB); a longer line is
/// judged invalid without being held whole.
const MAX_LINE: usize = 64 * 1024;

fn verdict(line: &[u8], out: &mut impl Write, invalid: &mut u64) -> io::Result<()> {
    match IpsQr::parse_bytes(line) {
        Ok(_) => out.write_all(b"valid\n"),
        Err(e) => {
            *invalid += 1;
            writeln!(out, "invalid\t{}\t{}", e.tag, e.rule)
        }
    }
}

/// Checks every line of `input` as it arrives, in memory that does not grow with the input.
fn check_stream(
    input: &mut impl BufRead,
    out: &mut impl Write,
    invalid: &mut u64,
) -> io::Result<()> {
    let mut line = Vec::with_capacity(4096);
    let mut unescaped = Vec::with_capacity(4096);
    while let Some(cut) = read_line(input, &mut line, MAX_LINE)? {
        if cut {
            *invalid += 1;
            writeln!(
                out,
                "invalid\t-\tlonger than {MAX_LINE} bytes; no IPS QR string is"
            )?;
            continue;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        unescaped.clear();
        let mut rest = line;
        while let Some(i) = memchr::memmem::find(rest, b"\\n") {
            unescaped.extend_from_slice(&rest[..i]);
            unescaped.push(b'\n');
            rest = &rest[i + 2..];
        }
        unescaped.extend_from_slice(rest);
        verdict(&unescaped, out, invalid)?;
    }
    Ok(())
}

/// Reads the next line into `line` (without its `\n`), keeping at most `cap` bytes.
/// `None` at the end of the input, else whether the line was cut.
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>, cap: usize) -> io::Result<Option<bool>> {
    line.clear();
    let (mut any, mut cut) = (false, false);
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(any.then_some(cut));
        }
        any = true;
        let (chunk, used, ended) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], i + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = cap.saturating_sub(line.len());
        if chunk.len() > room {
            cut = true;
            line.extend_from_slice(&chunk[..room]);
        } else {
            line.extend_from_slice(chunk);
        }
        input.consume(used);
        if ended {
            return Ok(Some(cut));
        }
    }
}

fn make(a: &MakeArgs, out: &mut impl Write) -> io::Result<bool> {
    let opt = |v: &Option<String>| v.as_deref().map(unescape);
    let fields = IpsFields {
        kind: a.kind,
        payee_account: a.account.clone(),
        payee: unescape(&a.payee),
        amount_para: a.amount,
        payer_account: a.payer_account.clone(),
        payer: opt(&a.payer),
        payment_code: a.code.clone(),
        purpose: opt(&a.purpose),
        mcc: a.mcc.clone(),
        one_time_code: a.one_time_code.clone(),
        payer_reference: a.payer_reference.clone(),
        reference: a.reference.clone(),
        payee_reference: opt(&a.payee_reference),
        pos_reference: a.pos_reference.clone(),
    };
    let qr = match IpsQr::new(&fields) {
        Ok(qr) => qr,
        Err(e) => {
            eprintln!("eposta: invalid\t{}\t{}", e.tag, e.rule);
            return Ok(false);
        }
    };
    let text = qr.to_string();
    if a.png.is_some() || a.svg.is_some() {
        let image = QrImage::new(&text).map_err(|e| io::Error::other(e.to_string()))?;
        if let Some(path) = &a.png {
            let png = image
                .to_png(usize::from(a.module_px))
                .map_err(|e| io::Error::other(e.to_string()))?;
            std::fs::write(path, png)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        }
        if let Some(path) = &a.svg {
            std::fs::write(path, image.to_svg(a.size_mm))
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        }
    }
    writeln!(out, "{}", text.replace('\n', "\\n"))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_integer_para() {
        for (s, para) in [
            ("1025,50", 102_550),
            ("1025.5", 102_550),
            ("1025", 102_500),
            ("0,01", 1),
            ("999999999999,99", 99_999_999_999_999),
        ] {
            assert_eq!(parse_amount(s), Ok(para), "{s}");
        }
        for s in [
            "",
            ",5",
            "1.025,00",
            "1 025",
            "-1",
            "1,234",
            "1000000000000",
            "1e3",
        ] {
            assert!(parse_amount(s).is_err(), "{s}");
        }
    }

    #[test]
    fn lines_are_read_whole_cut_when_too_long_and_unescaped() {
        let long = format!("K:PR|N:{}", "x".repeat(MAX_LINE));
        let input = format!(
            "K:PR|V:01|C:1|R:840000000095584510|N:A\\nB|I:RSD1,|SF:289\r\n{long}\nK:PR|V:02\n\nK:PR|V:01|C:1|R:840000000095584510|N:A|I:RSD1,|SF:289"
        );
        for cap in [1, 7, 64, 100_000] {
            let mut reader = BufReader::with_capacity(cap, input.as_bytes());
            let mut out = Vec::new();
            let mut invalid = 0;
            check_stream(&mut reader, &mut out, &mut invalid).expect("in memory");
            assert_eq!(
                String::from_utf8(out).expect("UTF-8"),
                format!(
                    "valid\ninvalid\t-\tlonger than {MAX_LINE} bytes; no IPS QR string is\ninvalid\tV\tmust be 01\ninvalid\tK\tmissing; mandatory for every code\nvalid\n"
                ),
                "buffer of {cap}"
            );
            assert_eq!(invalid, 3);
        }
    }
}
