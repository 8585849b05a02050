//! Command-line interface.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use eposta_kernel::accounts::Role;
use eposta_kernel::accounts::service::{self, NewStaff};
use eposta_kernel::audit::{self, Actor};
use eposta_kernel::config::{Config, LogFormat};
use eposta_kernel::{App, jobs, web};
use secrecy::SecretString;

#[derive(Parser, Debug)]
#[command(
    name = "eposta",
    version,
    about = "ePošta: the digital services of a national post"
)]
pub struct Cli {
    /// Configuration file (default: $EPOSTA_CONFIG, else ./eposta.toml if it exists).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve HTTP (and run background jobs unless --no-workers).
    Serve {
        /// Seed demo offices and accounts (see the README).
        #[arg(long)]
        demo: bool,
        /// Run no background workers in this process.
        #[arg(long)]
        no_workers: bool,
    },
    /// Run background jobs only.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Accounts and keys.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Load registries from files (offices).
    Import {
        #[command(subcommand)]
        command: crate::import::ImportCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// UPU S10 item identifiers: check them, generate test data (no configuration needed).
    S10 {
        #[command(subcommand)]
        command: crate::s10::S10Command,
    },
    /// NBS IPS QR strings: check them, make one and its QR image (no configuration needed).
    Ips {
        #[command(subcommand)]
        command: crate::ips::IpsCommand,
    },
    /// Serbian payment-account numbers (no configuration needed).
    Account {
        #[command(subcommand)]
        command: crate::checks::AccountCommand,
    },
    /// JMBG, the citizen's number; output masked (no configuration needed).
    Jmbg {
        #[command(subcommand)]
        command: crate::checks::JmbgCommand,
    },
    /// Reference numbers, "model i poziv na broj" (no configuration needed).
    Reference {
        #[command(subcommand)]
        command: crate::checks::ReferenceCommand,
    },
    /// Payment receipts: verify one offline from its code, its PDF or a photo of its QR code (needs no database).
    Receipt {
        #[command(subcommand)]
        command: crate::receipt::ReceiptCommand,
    },
    /// Import a camt.053 bank statement of the collection account: its credits complete
    /// pending IPS payments; prints what did not match. A broken file changes nothing (exit
    /// 1, with the line and reason); a statement imported before is skipped.
    Reconcile {
        /// The statement (camt.053 XML, UTF-8).
        file: PathBuf,
    },
    /// Remittance of paid payments to their payees (pain.001 and CSV batches).
    Remittance {
        #[command(subcommand)]
        command: crate::reconcile::RemittanceCommand,
    },
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Create a staff or admin account; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        email: String,
        /// admin, manager, clerk or citizen.
        #[arg(long)]
        role: String,
        /// Office code (clerks and managers).
        #[arg(long)]
        office: Option<String>,
        #[arg(long, default_value = "")]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Check the hash chain; exit 1 and name the first broken entry if it is broken.
    Verify,
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

impl Cli {
    /// Runs the commands that need no configuration, database or async runtime (`s10`,
    /// `ips`, `account`, `jmbg`, `reference`), so that they work anywhere; `None` for every
    /// other command. `main` calls it before it starts the runtime.
    pub fn run_standalone(&self) -> Option<ExitCode> {
        match &self.command {
            Command::S10 { command } => Some(crate::s10::run(command)),
            Command::Ips { command } => Some(crate::ips::run(command)),
            Command::Account { command } => Some(crate::checks::run_account(command)),
            Command::Jmbg { command } => Some(crate::checks::run_jmbg(command)),
            Command::Reference { command } => Some(crate::checks::run_reference(command)),
            Command::Receipt { command } => {
                Some(crate::receipt::run(command, self.config.as_deref()))
            }
            _ => None,
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    init_logging(&config);
    match cli.command {
        Command::Serve { demo, no_workers } => serve(config, demo, !no_workers).await,
        Command::Worker => {
            eposta_payments::check_config(&config)?;
            let app = open(config, false).await?;
            crate_workers_only(app).await
        }
        Command::Migrate => {
            let app = App::open(config).await?;
            app.db.migrate().await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command:
                AdminCommand::CreateUser {
                    email,
                    role,
                    office,
                    name,
                },
        } => {
            let app = open(config, true).await?;
            let role = Role::parse(&role)?;
            let password = read_password()?;
            let id = service::create_user(
                &app,
                &Actor::System,
                NewStaff {
                    email,
                    password,
                    display_name: name,
                    role,
                    office_code: office,
                },
            )
            .await?;
            println!("created {role} {id}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { command } => {
            crate::import::run(&open(config, true).await?, command).await
        }
        Command::Reconcile { file } => {
            eposta_payments::check_config(&config)?;
            crate::reconcile::reconcile(&open(config, false).await?, &file).await
        }
        Command::Remittance { command } => {
            eposta_payments::check_config(&config)?;
            crate::reconcile::remittance(&open(config, false).await?, command).await
        }
        Command::S10 { command } => Ok(crate::s10::run(&command)),
        Command::Ips { command } => Ok(crate::ips::run(&command)),
        Command::Account { command } => Ok(crate::checks::run_account(&command)),
        Command::Jmbg { command } => Ok(crate::checks::run_jmbg(&command)),
        Command::Reference { command } => Ok(crate::checks::run_reference(&command)),
        Command::Receipt { command } => Ok(crate::receipt::run(&command, cli.config.as_deref())),
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let app = open(config, false).await?;
            let mut conn = app.db.conn().await?;
            match audit::verify(&mut conn).await? {
                audit::Verdict::Intact(n) => {
                    println!("audit log intact: {n} entries");
                    Ok(ExitCode::SUCCESS)
                }
                audit::Verdict::Broken { seq, reason } => {
                    println!("audit log broken at entry {seq}: {reason}");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

async fn open(config: Config, migrate: bool) -> anyhow::Result<App> {
    tracing::info!(database = %config.database_url_redacted(), "opening database");
    let app = App::open(config).await?;
    if migrate {
        app.db.migrate().await?;
    } else if !app.db.is_migrated().await? {
        bail!("the database is not migrated; run `eposta migrate` first");
    }
    Ok(app)
}

/// Reads a password from standard input (one line), never from the command line.
fn read_password() -> anyhow::Result<SecretString> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (input is shown; pipe it in to avoid that): ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(SecretString::from(password))
}

fn registry() -> jobs::Registry {
    eposta_payments::jobs(eposta_postal::jobs(eposta_kernel::jobs()))
}

/// Every route the process serves: the kernel's and each capability's.
pub(crate) fn routes() -> web::Routes {
    eposta_kernel::routes()
        .merge(eposta_postal::routes())
        .merge(eposta_payments::routes())
}

fn spawn_workers(
    app: &App,
    shutdown: &tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "eposta".into());
    let mut handles: Vec<_> = (0..app.config.workers)
        .map(|i| {
            let name = format!("{host}:{}:{i}", std::process::id());
            tokio::spawn(jobs::work(app.clone(), registry(), name, shutdown.clone()))
        })
        .collect();
    // A process that runs jobs also sweeps what has outlived its use, chains payments'
    // history into the audit log and expires pending payments past their deadline.
    if !handles.is_empty() {
        handles.push(tokio::spawn(eposta_kernel::housekeeping::every_interval(
            app.clone(),
            shutdown.clone(),
        )));
        handles.push(tokio::spawn(
            eposta_payments::service::sweeper::every_interval(app.clone(), shutdown.clone()),
        ));
        handles.push(tokio::spawn(eposta_payments::remittance::every_interval(
            app.clone(),
            shutdown.clone(),
        )));
    }
    handles
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}

async fn serve(mut config: Config, demo: bool, workers: bool) -> anyhow::Result<ExitCode> {
    // The demo takes card payments through the local test acquirer (never in production).
    config.payments_test_acquirer |= demo;
    eposta_postal::check_config(&config)?;
    eposta_payments::check_config(&config)?;
    let listen = config.listen;
    let app = open(config, true).await?;
    if demo {
        eposta_kernel::demo::seed(&app).await?;
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handles = if workers {
        spawn_workers(&app, &stop_rx)
    } else {
        Vec::new()
    };
    let router = web::build(app.clone(), routes());
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (EPOSTA_LISTEN)"))?;
    tracing::info!(address = %listen, demo, workers = handles.len(), "ePošta listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    let _ = stop_tx.send(true);
    for h in handles {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), h).await;
    }
    app.db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn crate_workers_only(app: App) -> anyhow::Result<ExitCode> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let handles = spawn_workers(&app, &stop_rx);
    tracing::info!(workers = handles.len(), "ePošta worker running");
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    for h in handles {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), h).await;
    }
    app.db.close().await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    /// Every API route of every capability the binary serves is in the OpenAPI document, and
    /// the document describes no route that does not exist.
    #[test]
    fn the_api_document_describes_every_api_route() {
        assert_eq!(super::routes().api_mismatches(), Vec::<String>::new());
    }

    /// The role matrix of everything served, with every kind of caller.
    #[tokio::test]
    async fn every_served_route_admits_exactly_its_roles() {
        use eposta_kernel::testing::{CALLERS, TestApp, walk_role_matrix};
        let routes = super::routes();
        let specs = routes.specs().to_vec();
        let t = TestApp::builder()
            .routes(eposta_postal::routes())
            .routes(eposta_payments::routes())
            .jobs(eposta_postal::jobs)
            .jobs(eposta_payments::jobs)
            .config(|c| c.payments_test_acquirer = true)
            .build()
            .await;
        let checked = walk_role_matrix(&t, &specs).await;
        assert!(
            checked >= (specs.len() - 1) * CALLERS.len(),
            "{checked} of {}",
            specs.len()
        );
    }
}
