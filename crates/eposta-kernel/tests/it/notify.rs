//! The notifier: e-mail is held without SMTP, queued with a delivery job with it, delivered
//! to a real SMTP server (aiosmtpd, started by the test), retried while the server is down,
//! marked failed after the last attempt, and never sent twice. SMS stays held.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::http::StatusCode;
use eposta_kernel::i18n::{Lang, Tr};
use eposta_kernel::jobs::{self, Job};
use eposta_kernel::notify::email::{DeliverEmail, EmailTransport, SendFuture};
use eposta_kernel::notify::{self, Channel, Message, OutboxRow};
use eposta_kernel::testing::{PASSWORD, TestApp};
use secrecy::SecretString;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A real SMTP server in a child process (tests/smtp_sink.py on aiosmtpd), killed on drop.
struct SmtpSink {
    port: u16,
    dir: tempfile::TempDir,
    _child: Child,
}

/// What the sink saved of one message.
#[derive(Debug, serde::Deserialize)]
struct Received {
    rcpt_tos: Vec<String>,
    to: String,
    subject: String,
    message_id: String,
    body: String,
}

const PIP_HINT: &str = "pip install -r .ci/requirements.txt (aiosmtpd)";

impl SmtpSink {
    /// Starts the sink on `port` (0: any free port). None when aiosmtpd is missing outside CI
    /// (see `testing::peer_available`); under CI a missing aiosmtpd fails the test.
    async fn start(test: &str, port: u16) -> Option<SmtpSink> {
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .output()
            .await
            .is_ok_and(|o| o.status.success());
        if !eposta_kernel::testing::peer_available(
            test,
            available,
            "the SMTP server aiosmtpd",
            PIP_HINT,
        ) {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .arg(port.to_string())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start python3 tests/smtp_sink.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        tokio::time::timeout(
            StdDuration::from_secs(20),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .expect("the SMTP sink starts within 20 s")
        .expect("read the SMTP sink's first line");
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink said {line:?}"));
        Some(SmtpSink {
            port,
            dir,
            _child: child,
        })
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Messages received so far, oldest first.
    fn received(&self) -> Vec<Received> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("read sink dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                serde_json::from_str(&std::fs::read_to_string(p).expect("read message"))
                    .expect("message JSON")
            })
            .collect()
    }
}

/// A port nothing listens on (for a while).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Records what it is asked to send; fails with `error` (the recipient and the SMTP
/// password may be put in it, as a careless relay might) when set.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<String>>,
    error: Option<&'static str>,
}

impl Recorder {
    fn failing(error: &'static str) -> Arc<Recorder> {
        Arc::new(Recorder {
            error: Some(error),
            ..Recorder::default()
        })
    }

    fn calls(&self) -> usize {
        self.sent.lock().expect("lock").len()
    }
}

impl EmailTransport for Recorder {
    fn send<'a>(&'a self, email: &'a lettre::Message) -> SendFuture<'a> {
        Box::pin(async move {
            let to = email
                .envelope()
                .to()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            self.sent.lock().expect("lock").push(to.clone());
            match self.error {
                Some(e) => anyhow::bail!("{}", e.replace("{to}", &to)),
                None => Ok(()),
            }
        })
    }
}

async fn register(t: &TestApp, email: &str) {
    let r = t
        .client()
        .post_form("/register", &[("email", email), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn outbox(t: &TestApp) -> Vec<OutboxRow> {
    let mut conn = t.app.db.conn().await.expect("conn");
    notify::recent(&mut conn, 50).await.expect("outbox")
}

async fn only_mail(t: &TestApp) -> OutboxRow {
    let mut mails = outbox(t).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    mails.remove(0)
}

async fn all_jobs(t: &TestApp) -> Vec<jobs::JobRow> {
    let mut conn = t.app.db.conn().await.expect("conn");
    jobs::list(&mut conn, 100).await.expect("jobs")
}

/// Queues a message straight through the notifier, as a service would.
async fn queue(t: &TestApp, channel: Channel, recipient: &str) -> uuid::Uuid {
    let mut tx = t.app.db.begin().await.expect("tx");
    let id = notify::queue(
        &t.app,
        &mut tx,
        t.app.now(),
        &Message {
            channel,
            recipient: recipient.into(),
            subject: "Пошиљка".into(),
            body: "Ваша пошиљка је стигла.".into(),
        },
    )
    .await
    .expect("queue");
    tx.commit().await.expect("commit");
    id
}

fn smtp(url: &str) -> impl FnOnce(&mut eposta_kernel::config::Config) {
    let url = url.to_owned();
    move |c| c.smtp_url = Some(SecretString::from(url))
}

#[tokio::test]
async fn without_smtp_mail_is_held_and_no_job_is_made() {
    let t = TestApp::new().await;
    register(&t, "ana@example.rs").await;
    let mail = only_mail(&t).await;
    assert_eq!(
        (mail.channel.as_str(), mail.recipient.as_str()),
        ("email", "ana@example.rs")
    );
    assert_eq!(mail.status, "held");
    assert!(all_jobs(&t).await.is_empty());
    assert_eq!(t.run_pending_jobs().await, 0);
    assert_eq!(only_mail(&t).await.status, "held");
}

#[tokio::test]
async fn with_smtp_the_confirmation_mail_reaches_a_real_smtp_server() {
    let Some(sink) = SmtpSink::start("smtp delivery", 0).await else {
        return;
    };
    let t = TestApp::builder().config(smtp(&sink.url())).build().await;
    register(&t, "ana@example.rs").await;

    let mail = only_mail(&t).await;
    assert_eq!((mail.status.as_str(), mail.attempts), ("queued", 0));
    let queued = all_jobs(&t).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].kind, DeliverEmail::KIND);
    assert_eq!(queued[0].priority, DeliverEmail::PRIORITY);

    assert_eq!(t.run_pending_jobs().await, 1);
    let received = sink.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let got = &received[0];
    assert_eq!(got.rcpt_tos, ["ana@example.rs"]);
    assert_eq!(got.to, "ana@example.rs");
    let subject = Tr::new(Lang::SrCyrl).t("mail.confirm.subject");
    assert_eq!(got.subject, subject);
    assert_eq!(mail.subject, subject);
    assert_eq!(got.message_id, format!("<{}@eposta.localhost>", mail.id));
    let prefix = format!("{}/confirm-email?token=", t.app.config.public_url);
    let link = got
        .body
        .split_whitespace()
        .find(|w| w.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no confirmation link in {:?}", got.body));

    let mail = only_mail(&t).await;
    assert_eq!(mail.status, "sent");
    assert_eq!(mail.sent_at, Some(t.app.now()));
    assert_eq!((mail.attempts, mail.last_error), (1, None));
    assert!(all_jobs(&t).await.is_empty());

    // The link that arrived by SMTP confirms the address.
    let mut c = t.client();
    let r = c
        .get(link.trim_start_matches(&t.app.config.public_url))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    c.login("ana@example.rs", PASSWORD).await;

    // A repeated delivery job (say, after a worker died) does not send it again.
    let mut tx = t.app.db.begin().await.expect("tx");
    jobs::enqueue(&mut tx, t.app.now(), &DeliverEmail { outbox_id: mail.id })
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    assert_eq!(t.run_pending_jobs().await, 1);
    assert_eq!(sink.received().len(), 1);
    assert_eq!(only_mail(&t).await.attempts, 1);
}

#[tokio::test]
async fn with_the_smtp_server_down_delivery_is_retried_until_it_is_up() {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let t = TestApp::builder().config(smtp(&url)).build().await;
    register(&t, "ana@example.rs").await;

    assert_eq!(t.run_pending_jobs().await, 1);
    let mail = only_mail(&t).await;
    assert_eq!((mail.status.as_str(), mail.attempts), ("queued", 1));
    let error = mail.last_error.expect("the error is recorded");
    assert!(error.to_lowercase().contains("connect"), "{error}");
    let job = all_jobs(&t).await.pop().expect("the job stays");
    assert_eq!(job.attempts, 1);
    assert_eq!(job.last_error.as_deref(), Some(error.as_str()));
    assert_eq!(job.run_at, t.app.now() + jobs::backoff(1));
    assert_eq!(job.failed_at, None);
    assert_eq!(t.run_pending_jobs().await, 0, "not before the backoff");

    let Some(sink) = SmtpSink::start("smtp retry", port).await else {
        return;
    };
    t.clock.advance(jobs::backoff(1));
    assert_eq!(t.run_pending_jobs().await, 1);
    assert_eq!(sink.received().len(), 1);
    let mail = only_mail(&t).await;
    assert_eq!(mail.status, "sent");
    assert_eq!((mail.attempts, mail.last_error), (2, None));
    assert!(all_jobs(&t).await.is_empty());
}

#[tokio::test]
async fn delivery_gives_up_after_the_last_attempt() {
    let relay = Recorder::failing("relay refused");
    let t = TestApp::builder()
        .config(smtp("smtp://127.0.0.1:1"))
        .email_transport(relay.clone())
        .build()
        .await;
    let id = queue(&t, Channel::Email, "ana@example.rs").await;

    for attempt in 1..=DeliverEmail::MAX_ATTEMPTS {
        assert_eq!(t.run_pending_jobs().await, 1, "attempt {attempt}");
        let mail = only_mail(&t).await;
        assert_eq!(mail.attempts, attempt);
        let expected = if attempt < DeliverEmail::MAX_ATTEMPTS {
            "queued"
        } else {
            "failed"
        };
        assert_eq!(mail.status, expected, "after attempt {attempt}");
        t.clock.advance(jobs::backoff(attempt));
    }
    let mail = only_mail(&t).await;
    assert_eq!(mail.id, id);
    assert_eq!(mail.last_error.as_deref(), Some("relay refused"));
    assert_eq!(mail.sent_at, None);
    let job = all_jobs(&t).await.pop().expect("the failed job stays");
    assert!(job.failed_at.is_some());
    assert_eq!(
        relay.calls(),
        usize::try_from(DeliverEmail::MAX_ATTEMPTS).expect("small")
    );

    t.clock.advance(chrono::Duration::days(1));
    assert_eq!(t.run_pending_jobs().await, 0);
    assert_eq!(
        relay.calls(),
        usize::try_from(DeliverEmail::MAX_ATTEMPTS).expect("small")
    );
}

#[tokio::test]
async fn delivery_errors_keep_secrets_and_addresses_out() {
    let relay = Recorder::failing("550 <{to}> rejected after AUTH mailer:s3cret-pw");
    let t = TestApp::builder()
        .config(smtp("smtp://mailer:s3cret-pw@127.0.0.1:1"))
        .email_transport(relay)
        .build()
        .await;
    queue(&t, Channel::Email, "ana@example.rs").await;
    assert_eq!(t.run_pending_jobs().await, 1);
    let error = only_mail(&t).await.last_error.expect("recorded");
    assert_eq!(
        error,
        "550 <a•••@example.rs> rejected after AUTH mailer:***"
    );
    let job = all_jobs(&t).await.pop().expect("job");
    assert_eq!(job.last_error.as_deref(), Some(error.as_str()));
}

#[tokio::test]
async fn a_sent_message_is_never_sent_twice() {
    let relay = Arc::new(Recorder::default());
    let t = TestApp::builder()
        .config(smtp("smtp://127.0.0.1:1"))
        .email_transport(relay.clone())
        .build()
        .await;
    let id = queue(&t, Channel::Email, "ana@example.rs").await;
    let mut tx = t.app.db.begin().await.expect("tx");
    jobs::enqueue(&mut tx, t.app.now(), &DeliverEmail { outbox_id: id })
        .await
        .expect("a duplicate job");
    tx.commit().await.expect("commit");

    assert_eq!(t.run_pending_jobs().await, 2);
    assert_eq!(relay.calls(), 1);
    let mail = only_mail(&t).await;
    assert_eq!((mail.status.as_str(), mail.attempts), ("sent", 1));
}

#[tokio::test]
async fn an_address_that_cannot_be_written_to_fails_at_once() {
    let relay = Arc::new(Recorder::default());
    let t = TestApp::builder()
        .config(smtp("smtp://127.0.0.1:1"))
        .email_transport(relay.clone())
        .build()
        .await;
    queue(&t, Channel::Email, "not an address").await;
    assert_eq!(t.run_pending_jobs().await, 1);
    let mail = only_mail(&t).await;
    assert_eq!((mail.status.as_str(), mail.attempts), ("failed", 1));
    assert!(mail.last_error.is_some());
    assert_eq!(relay.calls(), 0);
    assert!(all_jobs(&t).await.is_empty(), "nothing left to retry");
}

#[tokio::test]
async fn sms_stays_held_even_when_smtp_is_configured() {
    let relay = Arc::new(Recorder::default());
    let t = TestApp::builder()
        .config(smtp("smtp://127.0.0.1:1"))
        .email_transport(relay.clone())
        .build()
        .await;
    queue(&t, Channel::Sms, "+381641234567").await;
    let sms = only_mail(&t).await;
    assert_eq!((sms.channel.as_str(), sms.status.as_str()), ("sms", "held"));
    assert!(all_jobs(&t).await.is_empty());
    assert_eq!(t.run_pending_jobs().await, 0);
    assert_eq!(relay.calls(), 0);
}
