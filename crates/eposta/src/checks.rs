//! `eposta account check`, `eposta jmbg check` and `eposta reference check`: judge the
//! numbers given as arguments, one line each, and exit 0 only when all are valid. No
//! configuration, database or async runtime.

use std::io::{self, ErrorKind, Write};
use std::process::ExitCode;

use clap::Subcommand;
use eposta_formats::account::AccountNumber;
use eposta_formats::jmbg::Jmbg;
use eposta_formats::reference::{Model, Reference};

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Check payment-account numbers: 18 digits, the dashed form (840-955845-10) or an RS
    /// IBAN. Prints `NUMBER<TAB>valid<TAB>DASHED<TAB>IBAN` or `NUMBER<TAB>invalid<TAB>reason`.
    Check {
        #[arg(required = true, value_name = "NUMBER")]
        numbers: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum JmbgCommand {
    /// Check JMBGs. A JMBG is personal data, so the output shows only its last four digits:
    /// `*********0008<TAB>valid` or `…<TAB>invalid<TAB>reason`, one line per argument in order.
    Check {
        /// Also require registration in Serbia (region 70–99).
        #[arg(long)]
        serbian: bool,
        #[arg(required = true, value_name = "NUMBER")]
        numbers: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReferenceCommand {
    /// Check reference numbers with their model: `9714123412`, `"97 14123412"`, or the model
    /// and the reference as two arguments (`97 14123412`: an argument of just two digits is a
    /// model and takes the next argument as its reference). Prints `INPUT<TAB>valid`,
    /// `INPUT<TAB>valid<TAB>warning: …` (a model whose control is not known) or
    /// `INPUT<TAB>invalid<TAB>reason`.
    Check {
        #[arg(required = true, value_name = "MODEL_AND_REFERENCE")]
        references: Vec<String>,
    },
}

fn finish(out: io::Result<bool>) -> ExitCode {
    match out {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::from(1),
        Err(e) => {
            eprintln!("eposta: {e}");
            ExitCode::from(1)
        }
    }
}

pub fn run_account(command: &AccountCommand) -> ExitCode {
    let AccountCommand::Check { numbers } = command;
    let mut out = io::stdout().lock();
    finish(account(numbers, &mut out))
}

pub fn run_jmbg(command: &JmbgCommand) -> ExitCode {
    let JmbgCommand::Check { serbian, numbers } = command;
    let mut out = io::stdout().lock();
    finish(jmbg(numbers, *serbian, &mut out))
}

pub fn run_reference(command: &ReferenceCommand) -> ExitCode {
    let ReferenceCommand::Check { references } = command;
    let mut out = io::stdout().lock();
    finish(reference(references, &mut out))
}

fn account(numbers: &[String], out: &mut impl Write) -> io::Result<bool> {
    let mut all = true;
    for n in numbers {
        let trimmed = n.trim();
        let parsed = if trimmed.len() >= 2 && trimmed[..2].eq_ignore_ascii_case("RS") {
            AccountNumber::from_iban(trimmed)
        } else {
            AccountNumber::parse(trimmed)
        };
        match parsed {
            Ok(a) => writeln!(out, "{n}\tvalid\t{}\t{}", a.dashed(), a.iban())?,
            Err(e) => {
                all = false;
                writeln!(out, "{n}\tinvalid\t{e}")?;
            }
        }
    }
    Ok(all)
}

/// The last four characters, the rest as stars: enough to tell numbers apart, not enough to
/// be the number.
fn masked(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let keep = chars.len().saturating_sub(4);
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < keep || chars.len() <= 4 { '*' } else { c })
        .collect()
}

fn jmbg(numbers: &[String], serbian: bool, out: &mut impl Write) -> io::Result<bool> {
    let mut all = true;
    for n in numbers {
        let parsed = if serbian {
            Jmbg::parse_serbian(n)
        } else {
            Jmbg::parse(n)
        };
        match parsed {
            Ok(j) => writeln!(out, "{}\tvalid", j.masked())?,
            Err(e) => {
                all = false;
                writeln!(out, "{}\tinvalid\t{e}", masked(n.trim()))?;
            }
        }
    }
    Ok(all)
}

fn reference(args: &[String], out: &mut impl Write) -> io::Result<bool> {
    let mut all = true;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        // A bare model takes the next argument as its reference.
        let input = if Model::parse(arg).is_some() && i + 1 < args.len() {
            i += 1;
            format!("{arg} {}", args[i])
        } else {
            arg.clone()
        };
        i += 1;
        match Reference::parse(&input) {
            Ok(r) if r.model() == Model::None || r.is_checked() => {
                writeln!(out, "{input}\tvalid")?;
            }
            Ok(r) => writeln!(
                out,
                "{input}\tvalid\twarning: model {:02} is not checked (its control is not documented in ePošta's sources)",
                r.model().number()
            )?,
            Err(e) => {
                all = false;
                writeln!(out, "{input}\tinvalid\t{e}")?;
            }
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<F: Fn(&mut Vec<u8>) -> io::Result<bool>>(f: F) -> (String, bool) {
        let mut out = Vec::new();
        let ok = f(&mut out).expect("in memory");
        (String::from_utf8(out).expect("UTF-8"), ok)
    }

    #[test]
    fn references_as_one_or_two_arguments() {
        let args: Vec<String> = ["97", "14123412", "9728-12345b", "12 ABC", "00"]
            .map(String::from)
            .to_vec();
        let (out, ok) = run(|o| reference(&args, o));
        assert!(!ok);
        assert_eq!(
            out,
            "97 14123412\tvalid\n\
             9728-12345b\tinvalid\tmodel 97: control 28, expected 25 (ISO 7064 MOD 97-10)\n\
             12 ABC\tvalid\twarning: model 12 is not checked (its control is not documented in ePošta's sources)\n\
             00\tinvalid\tno reference after the model\n"
        );
    }

    #[test]
    fn jmbg_output_is_masked() {
        let args: Vec<String> = ["0101900710004", "0101990710130", "123"]
            .map(String::from)
            .to_vec();
        let (out, ok) = run(|o| jmbg(&args, false, o));
        assert!(!ok);
        assert!(!out.contains("01019"), "{out}");
        assert!(
            out.starts_with("*********0004\tvalid\n*********0130\tinvalid\t"),
            "{out}"
        );
        assert!(out.ends_with("***\tinvalid\tmust be 13 digits\n"), "{out}");
    }
}
