//! `eposta import …`: operator imports of registries from files, with a progress bar. The
//! kernel's service does the work; this only opens the file and draws the progress.

use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use eposta_kernel::App;
use eposta_kernel::audit::Actor;
use eposta_kernel::offices::service;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Load the post-office registry from a CSV file (docs/offices-csv.md). Offices are
    /// inserted or updated by code, in one transaction: if any row is bad, every bad row is
    /// listed and nothing is imported.
    Offices {
        /// UTF-8 CSV with the header
        /// code,postal_code,name,municipality,address,latitude,longitude,opening_hours
        file: PathBuf,
    },
}

pub async fn run(app: &App, command: ImportCommand) -> anyhow::Result<ExitCode> {
    match command {
        ImportCommand::Offices { file } => offices(app, &file).await,
    }
}

/// A byte-based bar on standard error, hidden when that is not a terminal (a log file or a
/// pipe should not fill with redraws).
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

async fn offices(app: &App, path: &Path) -> anyhow::Result<ExitCode> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(size);
    let shown = bar.clone();
    let outcome = service::import_csv(app, &Actor::System, file, move |p| {
        shown.set_position(p.bytes);
        shown.set_message(format!("{} rows", p.rows));
    })
    .await;
    bar.finish_and_clear();
    match outcome? {
        Ok(r) => {
            println!(
                "{}: {} rows; inserted {}, updated {}, unchanged {}",
                path.display(),
                r.rows,
                r.inserted,
                r.updated,
                r.unchanged
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(rejected) => {
            for e in &rejected.errors {
                eprintln!("{}: {e}", path.display());
            }
            let listed = rejected.errors.len() as u64;
            if rejected.bad_rows > listed {
                eprintln!(
                    "… and {} more bad rows not listed",
                    rejected.bad_rows - listed
                );
            }
            eprintln!(
                "{}: {} bad rows; nothing imported",
                path.display(),
                rejected.bad_rows
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
