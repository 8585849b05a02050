//! `eposta reconcile STATEMENT.xml`, `eposta remittance run [--date D] [--out DIR]` and
//! `eposta remittance status REPORT.xml` (the bank's pain.002): the
//! operator's side of bank statements and remittance (docs/payments-reconciliation.md). The
//! payments capability does the work; this opens the file, draws the progress and prints
//! the report.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use eposta_kernel::App;
use eposta_kernel::audit::Actor;
use eposta_payments::reconcile::{self, ImportError, Imported, Request, Source};
use eposta_payments::remittance::{self, File as BatchFile};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-based bar on standard error, hidden when that is not a terminal.
fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if std::io::stderr().is_terminal() {
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} · {msg} · {elapsed_precise}, about {eta} left",
        ) {
            bar.set_style(style);
        }
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// Imports a statement and prints its report: exit 0 when it was applied or had been
/// before, 1 when it was refused (the line and the reason on standard error; nothing
/// applied).
pub async fn reconcile(app: &App, path: &Path) -> anyhow::Result<ExitCode> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(size);
    let shown = bar.clone();
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let outcome = reconcile::import(
        app,
        &Request {
            actor: &Actor::System,
            source: Source::Cli,
            file_name: &name,
        },
        file,
        move |p| {
            shown.set_position(p.bytes);
            shown.set_message(format!("{} entries", p.entries));
        },
    )
    .await;
    bar.finish_and_clear();
    let id = match outcome {
        Ok(Imported::New(id)) => id,
        Ok(Imported::AlreadyImported(seen)) => {
            for s in seen {
                println!(
                    "{}: statement {} of account {} was imported before (import {}); nothing changed",
                    path.display(),
                    s.statement_id,
                    s.account,
                    s.import
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        Err(ImportError::Refused { line, reason }) => {
            eprintln!("{}: line {line}: {reason}", path.display());
            eprintln!("{}: refused; nothing applied", path.display());
            return Ok(ExitCode::FAILURE);
        }
        Err(ImportError::Failed(e)) => return Err(e.into()),
    };
    let report = reconcile::report(app, id).await?;
    let out = std::io::stdout();
    let mut out = out.lock();
    writeln!(
        out,
        "{}: import {id}: {} entries in {} statement(s), SHA-256 {}",
        path.display(),
        report.import.entries,
        report.statements.len(),
        report.import.file_sha256
    )?;
    for (o, n, para) in &report.outcomes {
        if *n > 0 {
            writeln!(
                out,
                "{:<18}\t{n}\t{}",
                o.as_str(),
                reconcile::amount_text(*para, "RSD")
            )?;
        }
    }
    // The credits a person must look at, page by page from the database.
    let mut after = 0;
    loop {
        let items = reconcile::items(app, id, after, 1000).await?;
        let Some(last) = items.last() else {
            break;
        };
        after = last.id;
        for i in &items {
            let payment = i
                .payment_id
                .map(|p| p.to_string())
                .unwrap_or_else(|| "-".into());
            let detail = match (i.expected_para, i.payment_state.as_deref()) {
                (Some(e), _) => format!("expects {}", reconcile::amount_text(e, "RSD")),
                (None, Some(s)) => format!("is {s}"),
                _ => String::new(),
            };
            writeln!(
                out,
                "line {}\t{}\t{}\t{}\t{}\t{payment}\t{detail}",
                i.line,
                i.outcome,
                reconcile::amount_text(i.amount_para, &i.currency),
                i.reference.as_deref().unwrap_or("-"),
                i.bank_ref,
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand, Debug)]
pub enum RemittanceCommand {
    /// Remit the paid payments of a business day that is over (Europe/Belgrade), one batch
    /// per payee account, exported as pain.001 and CSV; a day run twice makes nothing new.
    Run {
        /// YYYY-MM-DD; default: yesterday in Belgrade.
        #[arg(long)]
        date: Option<String>,
        /// Also write each new batch's files here (`<message id>.xml` and `.csv`), refund
        /// batches' too.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import the bank's status report (pain.002) of a batch: records the batch's and its
    /// transfers' statuses; a rejected transfer goes out again with the next run. A report
    /// imported before changes nothing; a broken one changes nothing (exit 1).
    Status {
        /// The report (pain.002.001.03 or later, XML, UTF-8).
        file: PathBuf,
    },
}

pub async fn remittance(app: &App, command: RemittanceCommand) -> anyhow::Result<ExitCode> {
    let (date, out) = match command {
        RemittanceCommand::Run { date, out } => (date, out),
        RemittanceCommand::Status { file } => return remittance_status(app, &file).await,
    };
    let date = match date {
        Some(d) => match remittance::domain::parse_day(&d) {
            Some(d) => d,
            None => {
                eprintln!("--date: not a date as YYYY-MM-DD: {d}");
                return Ok(ExitCode::from(2));
            }
        },
        None => remittance::domain::belgrade_date(app.now())
            .pred_opt()
            .context("no yesterday")?,
    };
    if let Some(dir) = &out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let run = match remittance::run(app, &Actor::System, date).await {
        Ok(r) => r,
        Err(eposta_kernel::Error::Invalid { field, message }) => {
            eprintln!("--{field}: {message}");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "remittance for {}: {} new batch(es)",
        run.date,
        run.batches.len()
    );
    for b in &run.batches {
        println!(
            "{}\t{}\t{} transfers\t{}\tpain.001 SHA-256 {}",
            b.message_id,
            b.payee_name,
            b.transfers,
            reconcile::amount_text(b.total_para, &b.currency),
            b.pain001_sha256
        );
        if let Some(dir) = &out {
            for (which, ext) in [(BatchFile::Pain001, "xml"), (BatchFile::Csv, "csv")] {
                let (_, bytes) = remittance::file(app, b.id, which).await?;
                let path = dir.join(format!("{}.{ext}", b.message_id));
                std::fs::write(&path, bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    println!(
        "refunds for {}: {} new refund batch(es)",
        run.date,
        run.refund_batches.len()
    );
    for b in &run.refund_batches {
        println!(
            "{}	{} transfers	{}	pain.001 SHA-256 {}",
            b.message_id,
            b.transfers,
            reconcile::amount_text(b.total_para, &b.currency),
            b.pain001_sha256
        );
        if let Some(dir) = &out {
            for (which, ext) in [(BatchFile::Pain001, "xml"), (BatchFile::Csv, "csv")] {
                let (_, bytes) = remittance::refunds::file(app, b.id, which).await?;
                let path = dir.join(format!("{}.{ext}", b.message_id));
                std::fs::write(&path, bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Imports a pain.002 and prints what it did: exit 0 when it was applied or had been before
/// (also when it names no batch of ours: that is reported), 1 when it was refused.
async fn remittance_status(app: &App, path: &Path) -> anyhow::Result<ExitCode> {
    use eposta_payments::remittance::settle::{self, StatusImported, TxResult};
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let req = settle::Request {
        actor: &Actor::System,
        source: Source::Cli,
        file_name: &name,
    };
    let r = match settle::import(app, &req, &bytes).await {
        Ok(StatusImported::New(r)) => r,
        Ok(StatusImported::AlreadyImported(id)) => {
            println!(
                "{}: this report was imported before (report {id}); nothing changed",
                path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Err(ImportError::Refused { line, reason }) => {
            eprintln!("{}: line {line}: {reason}", path.display());
            eprintln!("{}: refused; nothing changed", path.display());
            return Ok(ExitCode::FAILURE);
        }
        Err(ImportError::Failed(e)) => return Err(e.into()),
    };
    let out = std::io::stdout();
    let mut out = out.lock();
    match r.batch {
        None => writeln!(
            out,
            "{}: report {}: unknown batch {}: no batch has this message id; nothing changed",
            path.display(),
            r.id,
            r.original_message_id
        )?,
        Some(b) => writeln!(
            out,
            "{}: report {}: batch {} ({b}): status {}; {} transaction(s), {} rejected (due again), {} unknown",
            path.display(),
            r.id,
            r.original_message_id,
            r.batch_status.map_or("-", |s| s.as_str()),
            r.transactions.len(),
            r.rejected(),
            r.count(TxResult::Unknown)
        )?,
    }
    for p in &r.unknown_payment_infos {
        writeln!(out, "unknown payment information\t{p}")?;
    }
    for t in &r.transactions {
        writeln!(
            out,
            "line {}\t{}\t{}\t{}\t{}",
            t.line,
            t.end_to_end_id,
            t.status.map_or_else(|| "-".to_owned(), |s| s.to_string()),
            t.reason_code.as_deref().unwrap_or("-"),
            t.result.as_str()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
