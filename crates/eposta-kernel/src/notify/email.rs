//! E-mail delivery: the [`EmailTransport`] the app holds (SMTP through lettre when
//! `EPOSTA_SMTP_URL` is set) and the [`DeliverEmail`] job that sends one outbox message
//! with it, marks it `sent`, or records the error for the queue to retry.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{OutboxRow, Status, mask_recipient, store};
use crate::app::App;
use crate::config::Config;
use crate::error::Error;
use crate::jobs::Job;

/// Longest wait for the SMTP server at each step; well inside the job lease.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// What [`EmailTransport::send`] returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

/// Hands a composed e-mail to whoever carries it on. SMTP in production; tests may put in a
/// transport of their own (one that fails, say) with `TestApp::builder().email_transport(..)`.
pub trait EmailTransport: Send + Sync {
    /// Ok once the next hop has accepted the message. An error should say what went wrong
    /// without secrets; the job scrubs the SMTP password and the recipient all the same.
    fn send<'a>(&'a self, email: &'a lettre::Message) -> SendFuture<'a>;
}

/// SMTP through lettre, one connection per message.
pub struct Smtp(AsyncSmtpTransport<Tokio1Executor>);

impl Smtp {
    /// `smtp://host:port` (plain, for local relays), `smtp://…?tls=required` (STARTTLS) or
    /// `smtps://…` (TLS from the start); `user:password@` for AUTH.
    pub fn from_url(url: &SecretString) -> Result<Smtp, Error> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .map_err(|e| Error::Config(format!("EPOSTA_SMTP_URL: {e}")))?;
        Ok(Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
    }
}

impl EmailTransport for Smtp {
    fn send<'a>(&'a self, email: &'a lettre::Message) -> SendFuture<'a> {
        Box::pin(async move {
            self.0
                .send_raw(email.envelope(), &email.formatted())
                .await?;
            Ok(())
        })
    }
}

/// Stands in for SMTP when `EPOSTA_SMTP_URL` cannot be used (only reachable when the
/// configuration skipped `Config::load`'s checks): mail stays queued and says why.
struct Unusable(String);

impl EmailTransport for Unusable {
    fn send<'a>(&'a self, _email: &'a lettre::Message) -> SendFuture<'a> {
        Box::pin(async move { Err(anyhow::anyhow!("{}", self.0)) })
    }
}

/// The transport the configuration asks for: SMTP when `smtp_url` is set, else none (and
/// e-mail is then held in the outbox).
pub fn transport_from_config(config: &Config) -> Option<Arc<dyn EmailTransport>> {
    let url = config.smtp_url.as_ref()?;
    Some(match Smtp::from_url(url) {
        Ok(smtp) => Arc::new(smtp),
        Err(e) => {
            tracing::error!(error = %e, "cannot use the SMTP URL; e-mail stays queued");
            Arc::new(Unusable(e.to_string()))
        }
    })
}

/// Checks the e-mail settings at start-up, so that a bad one fails there and not in a job.
pub fn check_config(config: &Config) -> Result<(), Error> {
    if let Some(url) = &config.smtp_url {
        Smtp::from_url(url)?;
        config
            .mail_from
            .parse::<Mailbox>()
            .map_err(|e| Error::Config(format!("EPOSTA_MAIL_FROM is not an address: {e}")))?;
    }
    Ok(())
}

/// Sends one outbox e-mail. Idempotent: a message that is no longer `queued` (sent, failed,
/// or gone) is left alone, so a repeated or late run never sends it twice.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliverEmail {
    pub outbox_id: Uuid,
}

impl Job for DeliverEmail {
    const KIND: &'static str = "notify.deliver_email";
    /// With the queue's backoff, about an hour and a half of trying.
    const MAX_ATTEMPTS: i32 = 10;
    /// People wait for these (confirmation and reset links).
    const PRIORITY: i32 = 10;

    async fn run(self, app: App) -> anyhow::Result<()> {
        deliver(&app, self.outbox_id).await
    }

    async fn give_up(self, app: App, error: String) -> anyhow::Result<()> {
        let mut tx = app.db.begin().await?;
        if store::mark_failed(&mut tx, self.outbox_id, &error).await? {
            tracing::warn!(outbox = %self.outbox_id, "e-mail delivery gave up");
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn deliver(app: &App, id: Uuid) -> anyhow::Result<()> {
    let row = {
        let mut conn = app.db.conn().await?;
        store::by_id(&mut conn, id).await?
    };
    let Some(row) = row else {
        tracing::warn!(outbox = %id, "outbox message is gone; nothing to deliver");
        return Ok(());
    };
    if Status::parse(&row.status) != Some(Status::Queued) {
        return Ok(());
    }
    let Some(transport) = app.mailer.clone() else {
        anyhow::bail!("no e-mail transport: EPOSTA_SMTP_URL is not set");
    };
    let email = match compose(&app.config.mail_from, &row)? {
        Ok(email) => email,
        Err(reason) => {
            // Retrying cannot mend an address: give up at once.
            let error = scrub(app, &row.recipient, &reason);
            record(app, id, Status::Failed, Some(&error)).await?;
            tracing::warn!(outbox = %id, error = %error, "e-mail cannot be sent");
            return Ok(());
        }
    };
    match transport.send(&email).await {
        Ok(()) => {
            record(app, id, Status::Sent, None).await?;
            metrics::counter!("emails_sent_total").increment(1);
            tracing::info!(outbox = %id, "e-mail sent");
            Ok(())
        }
        Err(e) => {
            let error = scrub(app, &row.recipient, &format!("{e:#}"));
            record(app, id, Status::Queued, Some(&error)).await?;
            Err(anyhow::anyhow!(error))
        }
    }
}

async fn record(app: &App, id: Uuid, status: Status, error: Option<&str>) -> anyhow::Result<()> {
    let mut tx = app.db.begin().await?;
    store::record_attempt(&mut tx, id, status, error, app.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// The message as sent. Outer error: the sender setting is wrong (fixable, so retried);
/// inner error: the recipient can never be written to.
fn compose(mail_from: &str, row: &OutboxRow) -> anyhow::Result<Result<lettre::Message, String>> {
    let from: Mailbox = mail_from
        .parse()
        .context("EPOSTA_MAIL_FROM is not an address")?;
    let to: Mailbox = match row.recipient.parse() {
        Ok(to) => to,
        Err(e) => return Ok(Err(format!("the recipient is not an address: {e}"))),
    };
    // A Message-ID derived from the outbox id lets a receiver drop the duplicate if a
    // delivery is ever repeated (a worker that died after sending, before recording it).
    let message_id = format!("<{}@{}>", row.id, from.email.domain());
    let email = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.as_str())
        .message_id(Some(message_id))
        .date(SystemTime::from(row.created_at))
        .header(ContentType::TEXT_PLAIN)
        .body(row.body.clone())
        .context("composing the e-mail")?;
    Ok(Ok(email))
}

/// Takes the SMTP password and the recipient's address out of an error before it is stored
/// and logged.
fn scrub(app: &App, recipient: &str, error: &str) -> String {
    let mut text = error.to_owned();
    if let Some(password) = app
        .config
        .smtp_url
        .as_ref()
        .and_then(|u| url_password(u.expose_secret()))
    {
        text = text.replace(&password, "***");
    }
    if !recipient.is_empty() {
        text = text.replace(recipient, &mask_recipient(recipient));
    }
    text
}

/// The password of `scheme://user:password@host…`, if any.
fn url_password(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let (userinfo, _) = rest.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then(|| password.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(recipient: &str) -> OutboxRow {
        OutboxRow {
            id: Uuid::nil(),
            channel: "email".into(),
            recipient: recipient.into(),
            subject: "Потврдите адресу".into(),
            body: "Отворите https://eposta.rs/confirm-email?token=abc\n".into(),
            status: "queued".into(),
            attempts: 0,
            last_error: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
            sent_at: None,
        }
    }

    #[test]
    fn composes_with_a_stable_message_id() {
        let email = compose("ePošta <noreply@eposta.rs>", &row("ana@example.rs"))
            .expect("sender parses")
            .expect("recipient parses");
        let text = String::from_utf8(email.formatted()).expect("utf-8");
        assert!(
            text.contains("Message-ID: <00000000-0000-0000-0000-000000000000@eposta.rs>"),
            "{text}"
        );
        assert!(text.contains("To: ana@example.rs"), "{text}");
        assert_eq!(
            email
                .envelope()
                .to()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["ana@example.rs"]
        );
    }

    #[test]
    fn a_bad_recipient_is_permanent_and_a_bad_sender_is_not() {
        let permanent = compose("noreply@eposta.rs", &row("not an address")).expect("sender");
        assert!(permanent.is_err());
        assert!(compose("nobody", &row("ana@example.rs")).is_err());
    }

    #[test]
    fn finds_the_password_in_a_url() {
        assert_eq!(
            url_password("smtp://user:s3cret@mail:25").as_deref(),
            Some("s3cret")
        );
        assert_eq!(url_password("smtp://user@mail:25"), None);
        assert_eq!(url_password("smtp://mail:25"), None);
    }

    #[test]
    fn accepts_plain_starttls_and_tls_urls_and_rejects_others() {
        for ok in [
            "smtp://127.0.0.1:2525",
            "smtp://u:p@mail.example.rs:587?tls=required",
            "smtps://u:p@mail.example.rs",
        ] {
            assert!(Smtp::from_url(&SecretString::from(ok)).is_ok(), "{ok}");
        }
        for bad in ["http://mail.example.rs", "not a url"] {
            let err = Smtp::from_url(&SecretString::from(bad))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("EPOSTA_SMTP_URL"), "{bad}: {err}");
        }
    }
}
