//! A minimal SMPP 3.4 client session (ESME side), on the `rusmpp` codec (research/sms.md §3
//! "SMPP 3.4 essentials", §5 "Rust SMPP crates"; docs/sms.md says why `rusmpp`).
//!
//! What it does: connect over TCP, `bind_transceiver`, `submit_sm` of the segments
//! [`crate::text::split`] makes (`data_coding` 0x00 or 0x08, `esm_class` 0x40 when the segment
//! has a UDH, `registered_delivery` 1), a window of outstanding `submit_sm` (a semaphore), the
//! SMSC's `enquire_link` answered and our own sent every [`Config::enquire_link`], every
//! `deliver_sm` answered with `deliver_sm_resp` after its receipt or message is handed to the
//! caller's channel, `unbind`.
//!
//! Throttling: a per-bind rate ([`Config::rate`], a token bucket), and on `ESME_RTHROTTLED` or
//! `ESME_RMSGQFUL` the bind pauses, lowers its rate and resends the refused segment first
//! ([`Session::submit_segment`]); other statuses are classified by [`classify`].
//!
//! Reconnect: when the connection is lost (EOF, a read or write error, an unanswered
//! `enquire_link`, an `unbind` from the SMSC) the session connects and binds again with
//! exponential back-off ([`Config::reconnect_min`], [`Config::reconnect_max`]). Submits that
//! were sent and got no response fail with [`SmppError::UnknownFate`] and are not resent
//! (a resend of an accepted message reaches the handset twice); submits made meanwhile wait
//! for the new bind.
//!
//! Not yet: TLS, the `sar_*` TLVs and `message_payload`, `bind_transmitter`/`receiver`
//! pairs, a submit that waits for the rebind beyond the response timeout
//! ([`SmppError::NotBound`]). A response that does not come within [`Config::response_timeout`] is an error
//! ([`SmppError::Timeout`]); whether the message was accepted is then unknown, and the
//! caller decides (no resend here).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use rusmpp::pdus::{BindTransceiver, DeliverSmResp, SubmitSm};
use rusmpp::tlvs::TlvValue;
use rusmpp::tokio_codec::CommandCodec;
use rusmpp::types::{COctetString, OctetString};
use rusmpp::values::{
    DataCoding, EsmClass, InterfaceVersion, Npi, RegisteredDelivery, ServiceType, Ton,
};
use rusmpp::{Command, CommandId, CommandStatus, Pdu};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::codec::{Decoder, Encoder};

use crate::phone::Msisdn;
use crate::receipt::{self, Receipt, ReceiptTlvs};
use crate::text::{self, Encoding, Reference, Segment, TextError};

/// `ESME_RX_T_APPN`: the answer to a `deliver_sm` that could not be handed on, so the SMSC
/// delivers it again later instead of losing it.
const ESME_RX_T_APPN: u32 = 0x64;

/// Settings of one bind.
#[derive(Clone)]
pub struct Config {
    /// `host:port` of the SMSC.
    pub address: String,
    /// At most 15 characters (16 octets with the NUL).
    pub system_id: String,
    /// At most 8 characters.
    pub password: String,
    /// At most 12 characters; often empty.
    pub system_type: String,
    /// The sender: an alphanumeric name (TON 5) or digits (TON 1, international).
    pub source_addr: String,
    /// How many `submit_sm` may wait for their `submit_sm_resp` at once (the SMSC contract
    /// says; Kannel's default is 10).
    pub window: usize,
    /// How long to wait for any response.
    pub response_timeout: Duration,
    /// How often to send `enquire_link`.
    pub enquire_link: Duration,
    /// The most `submit_sm` per second on this bind (the SMSC contract says; default 100,
    /// what a single SMSC connection usually takes, research/sms.md §1). A token bucket of
    /// one token: submits go out evenly spaced, `1 / rate` apart.
    pub rate: f64,
    /// How long the bind pauses after an `ESME_RTHROTTLED` (0x58), times the attempt
    /// (default 1 s, Kannel's `SMPP_THROTTLING_SLEEP_TIME`).
    pub throttle_pause: Duration,
    /// How long the bind pauses after an `ESME_RMSGQFUL` (0x14), times the attempt
    /// (default 10 s: the SMSC's queue for the handset or the link is full, which drains
    /// slower than a rate limit).
    pub queue_full_pause: Duration,
    /// How many times one segment is resent after `ESME_RTHROTTLED`/`ESME_RMSGQFUL` before
    /// the status is returned (default 5).
    pub max_retries: u32,
    /// The first wait before reconnecting after the connection is lost (default 1 s); it
    /// doubles after each failed attempt up to [`Config::reconnect_max`] (default 60 s), and
    /// starts again from here once bound. No jitter: one bind per SMSC does not stampede.
    pub reconnect_min: Duration,
    /// The longest wait between reconnect attempts.
    pub reconnect_max: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("address", &self.address)
            .field("system_id", &self.system_id)
            .field("password", &"***")
            .field("window", &self.window)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn new(
        address: impl Into<String>,
        system_id: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Config {
            address: address.into(),
            system_id: system_id.into(),
            password: password.into(),
            system_type: String::new(),
            source_addr: "ePosta".to_owned(),
            window: 10,
            response_timeout: Duration::from_secs(10),
            enquire_link: Duration::from_secs(30),
            rate: 100.0,
            throttle_pause: Duration::from_secs(1),
            queue_full_pause: Duration::from_secs(10),
            max_retries: 5,
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SmppError {
    #[error("SMPP connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("{field} is not valid for SMPP ({reason})")]
    Field { field: &'static str, reason: String },
    #[error(transparent)]
    Text(#[from] TextError),
    #[error("the SMSC refused the bind with command_status {0:#010x}")]
    Bind(u32),
    #[error("the SMSC refused the submit_sm with command_status {0:#010x}")]
    Submit(u32),
    #[error("the SMSC answered {0:?} where another response was expected")]
    Unexpected(CommandId),
    #[error("no response from the SMSC within the timeout")]
    Timeout,
    /// The connection was lost after the request went out and before its response came:
    /// the SMSC may or may not have accepted the message. It is not resent, because a
    /// resend of an accepted message reaches the handset twice.
    #[error("the connection was lost before the SMSC answered; the message may have been accepted")]
    UnknownFate,
    /// The session is reconnecting and did not bind again in time; nothing was sent.
    #[error("the SMPP session is not bound (reconnecting); nothing was sent")]
    NotBound,
    #[error("the SMPP session is closed")]
    Closed,
}

impl SmppError {
    /// Whether sending the same message again later may succeed: a temporary
    /// `command_status` ([`classify`]), a refused or lost connection, or the session not
    /// bound. A [`SmppError::Timeout`] is *not* temporary in this sense: the SMSC may have
    /// accepted the message, and sending it again may deliver it twice.
    pub fn is_temporary(&self) -> bool {
        match self {
            SmppError::Submit(s) => classify(*s) != Status::Permanent,
            SmppError::Io(_) | SmppError::Bind(_) | SmppError::NotBound => true,
            _ => false,
        }
    }
}

/// `ESME_RMSGQFUL`: the message queue is full.
pub const ESME_RMSGQFUL: u32 = 0x14;
/// `ESME_RTHROTTLED`: too many messages per second.
pub const ESME_RTHROTTLED: u32 = 0x58;

/// What a `command_status` in a `submit_sm_resp` means for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `ESME_ROK`: accepted.
    Ok,
    /// `ESME_RTHROTTLED`: the bind pauses and the segment is resent.
    Throttled,
    /// `ESME_RMSGQFUL`: the bind pauses longer and the segment is resent.
    QueueFull,
    /// Refused now; the same message may be accepted later (the caller decides).
    Temporary,
    /// Refused for good: resending the same message will not help.
    Permanent,
}

/// Classifies a `command_status` (SMPP 3.4 §5.1.3, "command_status"):
///
/// | value | name | class |
/// |---|---|---|
/// | 0x00 | `ESME_ROK` | ok |
/// | 0x58 | `ESME_RTHROTTLED` | throttled (pause, resend) |
/// | 0x14 | `ESME_RMSGQFUL` | queue full (longer pause, resend) |
/// | 0x04 | `ESME_RINVBNDSTS` (wrong bind state) | temporary |
/// | 0x08 | `ESME_RSYSERR` (system error) | temporary |
/// | 0x45 | `ESME_RSUBMITFAIL` (submit failed) | temporary |
/// | 0x64 | `ESME_RX_T_APPN` (ESME receiver temporary error) | temporary |
/// | 0xFF | `ESME_RUNKNOWNERR` (unknown error) | temporary |
/// | anything else: 0x01–0x03, 0x0A–0x0B (bad address), 0x15, 0x43, 0x48–0x51 (bad TON/NPI), 0x61–0x62 (bad times), 0x65–0x66 (permanent/rejected), 0xC0–0xC4 (bad TLVs), 0x400–0x4FF (vendor specific), … | | permanent |
///
/// The temporary set is Kannel's (research/sms.md §4: `MSGQFUL`, `THROTTLED`, `X_T_APPN`,
/// `SYSERR`) plus the three whose names say nothing about the message itself. Vendor codes
/// are permanent because their meaning is unknown and resending something the SMSC refused
/// for an unknown reason could go on forever.
pub fn classify(status: u32) -> Status {
    match status {
        0 => Status::Ok,
        ESME_RTHROTTLED => Status::Throttled,
        ESME_RMSGQFUL => Status::QueueFull,
        0x04 | 0x08 | 0x45 | ESME_RX_T_APPN | 0xFF => Status::Temporary,
        _ => Status::Permanent,
    }
}

/// The per-bind rate: a token bucket of one token (GCRA), so submits are spaced `1 / rate`
/// apart. [`Rate::slow_down`] halves the rate after a throttle (not below 1/16 of the
/// configured one); each accepted submit gives back 1/20 of the configured rate.
struct Rate {
    state: std::sync::Mutex<RateState>,
}

struct RateState {
    next: tokio::time::Instant,
    now: f64,
    max: f64,
}

impl Rate {
    fn new(max: f64) -> Rate {
        Rate {
            state: std::sync::Mutex::new(RateState {
                next: tokio::time::Instant::now(),
                now: max,
                max,
            }),
        }
    }

    async fn take(&self) {
        let at = {
            let Ok(mut s) = self.state.lock() else { return };
            let t = s.next.max(tokio::time::Instant::now());
            s.next = t + Duration::from_secs_f64(1.0 / s.now);
            t
        };
        tokio::time::sleep_until(at).await;
    }

    fn slow_down(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.now = (s.now / 2.0).max(s.max / 16.0);
        }
    }

    fn recover(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.now = (s.now + s.max / 20.0).min(s.max);
        }
    }

    fn current(&self) -> f64 {
        self.state.lock().map(|s| s.now).unwrap_or(0.0)
    }
}

/// What the SMSC sends us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A `deliver_sm` with `esm_class` message type 0x04: a delivery receipt.
    Receipt(Receipt),
    /// Any other `deliver_sm` (a message from a handset). Its address is not logged.
    Message {
        source_addr: String,
        data_coding: u8,
        esm_class: u8,
        short_message: Vec<u8>,
    },
}

/// One accepted segment: the SMSC's id from `submit_sm_resp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub message_id: String,
}

type Pending = Arc<Mutex<HashMap<u32, oneshot::Sender<Command>>>>;

/// One TCP connection and its bind. Dropping it aborts its reader, writer and
/// `enquire_link` tasks.
struct Conn {
    out: mpsc::Sender<Command>,
    pending: Pending,
    /// False once the connection is lost; set while holding `pending`'s lock, so a request
    /// either sees it false or is woken by the reader's clearing of `pending`.
    alive: Arc<std::sync::atomic::AtomicBool>,
    tasks: std::sync::Mutex<JoinSet<()>>,
}

impl Conn {
    fn alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    fn abort(&self) {
        self.alive.store(false, Ordering::Release);
        if let Ok(mut t) = self.tasks.lock() {
            t.abort_all();
        }
    }

    /// Aborts the tasks and wakes every request still waiting, with
    /// [`SmppError::UnknownFate`].
    async fn close(&self) {
        let mut pending = self.pending.lock().await;
        self.abort();
        pending.clear();
    }

    /// Sends a request and waits for the response with the same sequence number. `None`
    /// when the connection was already lost (nothing was sent).
    async fn request(
        &self,
        seq: u32,
        pdu: Pdu,
        timeout: Duration,
    ) -> Option<Result<Command, SmppError>> {
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.pending.lock().await;
            if !self.alive() {
                return None;
            }
            pending.insert(seq, tx);
        }
        let command = Command::new(CommandStatus::EsmeRok, seq, pdu);
        if self.out.send(command).await.is_err() {
            self.pending.lock().await.remove(&seq);
            return None;
        }
        Some(match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(_)) => Err(SmppError::UnknownFate),
            Err(_) => {
                self.pending.lock().await.remove(&seq);
                Err(SmppError::Timeout)
            }
        })
    }
}

struct Inner {
    config: Config,
    events: mpsc::Sender<Event>,
    /// The bound connection; `None` while reconnecting.
    conn: tokio::sync::watch::Sender<Option<Arc<Conn>>>,
    sequence: Arc<AtomicU32>,
    window: Arc<Semaphore>,
    rate: Rate,
    /// Held for writing by a submit that was throttled, while it pauses and resends; every
    /// other submit passes it (for reading) before going out, so nothing overtakes the resend.
    gate: tokio::sync::RwLock<()>,
    /// Set by [`Session::unbind`]: the supervisor stops reconnecting.
    closing: std::sync::atomic::AtomicBool,
    supervisor: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(c) = self.conn.borrow().as_ref() {
            c.abort();
        }
        if let Ok(Some(h)) = self.supervisor.lock().map(|mut h| h.take()) {
            h.abort();
        }
    }
}

/// A bound SMPP transceiver session. Cheap to clone; clones share the connection, window and
/// rate. When the connection is lost it reconnects by itself ([`Config::reconnect_min`]).
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

fn cstr<const MIN: usize, const MAX: usize>(
    field: &'static str,
    value: &str,
) -> Result<COctetString<MIN, MAX>, SmppError> {
    COctetString::from_string(value.to_owned()).map_err(|e| SmppError::Field {
        field,
        reason: e.to_string(),
    })
}

fn status_u32(status: CommandStatus) -> u32 {
    status.into()
}

fn next_sequence(sequence: &AtomicU32) -> u32 {
    // 1 ..= 0x7FFFFFFF, then round again.
    sequence.fetch_add(1, Ordering::Relaxed) % 0x7FFF_FFFF + 1
}

/// Opens a TCP connection, starts its reader, writer and `enquire_link` tasks and binds.
/// The receiver yields (or closes) when the connection is lost.
async fn connect(inner: &Inner) -> Result<(Arc<Conn>, mpsc::Receiver<()>), SmppError> {
    let config = &inner.config;
    let bind = BindTransceiver::builder()
        .system_id(cstr::<1, 16>("system_id", &config.system_id)?)
        .password(cstr::<1, 9>("password", &config.password)?)
        .system_type(cstr::<1, 13>("system_type", &config.system_type)?)
        .interface_version(InterfaceVersion::Smpp3_4)
        .addr_ton(Ton::Unknown)
        .addr_npi(Npi::Unknown)
        .address_range(COctetString::empty())
        .build();
    let stream = TcpStream::connect(&config.address).await?;
    stream.set_nodelay(true)?;
    let (mut reader, mut writer) = stream.into_split();
    let (out, mut out_rx) = mpsc::channel::<Command>(64);
    let (dead_tx, dead_rx) = mpsc::channel::<()>(1);
    let pending: Pending = Arc::default();
    let alive = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut tasks = JoinSet::new();

    {
        let dead = dead_tx.clone();
        tasks.spawn(async move {
            let mut codec = CommandCodec::new();
            let mut buf = BytesMut::new();
            while let Some(command) = out_rx.recv().await {
                buf.clear();
                if let Err(e) = codec.encode(&command, &mut buf) {
                    tracing::warn!(error = %e, "SMPP: could not encode a PDU");
                    continue;
                }
                if let Err(e) = writer.write_all(&buf).await {
                    tracing::warn!(error = %e, "SMPP: write failed");
                    break;
                }
            }
            let _ = writer.shutdown().await;
            let _ = dead.try_send(());
        });
    }

    {
        let pending = pending.clone();
        let alive = alive.clone();
        let out = out.clone();
        let events = inner.events.clone();
        let dead = dead_tx.clone();
        tasks.spawn(async move {
            let mut codec = CommandCodec::new();
            let mut buf = BytesMut::with_capacity(4096);
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(command)) => {
                        if !dispatch(command, &pending, &out, &events).await {
                            break;
                        }
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "SMPP: undecodable PDU, closing");
                        break;
                    }
                }
                match reader.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            // Wake every waiter: their responses will not come.
            let mut pending = pending.lock().await;
            alive.store(false, Ordering::Release);
            pending.clear();
            drop(pending);
            let _ = dead.try_send(());
        });
    }

    let conn = Arc::new(Conn {
        out,
        pending,
        alive,
        tasks: std::sync::Mutex::new(tasks),
    });
    let seq = next_sequence(&inner.sequence);
    let resp = match conn
        .request(seq, Pdu::BindTransceiver(bind), config.response_timeout)
        .await
    {
        Some(r) => r?,
        None => return Err(SmppError::Closed),
    };
    match (resp.id(), status_u32(resp.status())) {
        (CommandId::BindTransceiverResp, 0) => {}
        (CommandId::BindTransceiverResp | CommandId::GenericNack, s) => {
            conn.abort();
            return Err(SmppError::Bind(s));
        }
        (id, _) => {
            conn.abort();
            return Err(SmppError::Unexpected(id));
        }
    }

    let weak = Arc::downgrade(&conn);
    let sequence = inner.sequence.clone();
    let every = config.enquire_link;
    let timeout = config.response_timeout;
    if let Ok(mut t) = conn.tasks.lock() {
        t.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(conn) = weak.upgrade() else { break };
                let seq = next_sequence(&sequence);
                match conn.request(seq, Pdu::EnquireLink, timeout).await {
                    Some(Ok(_)) => {}
                    _ => {
                        tracing::warn!("SMPP: enquire_link failed, dropping the connection");
                        let _ = dead_tx.try_send(());
                        break;
                    }
                }
            }
        });
    }
    Ok((conn, dead_rx))
}

/// Waits for the connection to be lost, then reconnects and binds again with exponential
/// back-off, until [`Session::unbind`] or the last [`Session`] is dropped.
async fn supervise(weak: std::sync::Weak<Inner>, mut dead: mpsc::Receiver<()>) {
    loop {
        let _ = dead.recv().await;
        let Some(inner) = weak.upgrade() else { return };
        let old = inner.conn.send_replace(None);
        if let Some(c) = old {
            c.close().await;
        }
        if inner.closing.load(Ordering::Acquire) {
            return;
        }
        tracing::warn!("SMPP: connection lost, reconnecting");
        let (min, max) = (inner.config.reconnect_min, inner.config.reconnect_max);
        drop(inner);
        let mut delay = min;
        loop {
            tokio::time::sleep(delay).await;
            let Some(inner) = weak.upgrade() else { return };
            if inner.closing.load(Ordering::Acquire) {
                return;
            }
            match connect(&inner).await {
                Ok((conn, d)) => {
                    inner.conn.send_replace(Some(conn));
                    dead = d;
                    tracing::info!("SMPP: bound again");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?delay, "SMPP: reconnect failed");
                    delay = (delay * 2).min(max);
                }
            }
        }
    }
}

impl Session {
    /// Connects, binds as a transceiver and starts the reader, writer, `enquire_link` and
    /// reconnecting tasks. Receipts and messages arrive on `events`; a `deliver_sm` is
    /// answered `ESME_ROK` once it is in that channel, and `ESME_RX_T_APPN` when the receiver
    /// is gone. Only this first bind's failure is returned; later ones are retried.
    pub async fn bind(config: Config, events: mpsc::Sender<Event>) -> Result<Session, SmppError> {
        cstr::<1, 16>("system_id", &config.system_id)?;
        cstr::<1, 9>("password", &config.password)?;
        cstr::<1, 13>("system_type", &config.system_type)?;
        cstr::<1, 21>("source_addr", &config.source_addr)?;
        if config.window == 0 {
            return Err(SmppError::Field {
                field: "window",
                reason: "must be at least 1".to_owned(),
            });
        }
        if !(config.rate.is_finite() && config.rate > 0.0) {
            return Err(SmppError::Field {
                field: "rate",
                reason: "must be a positive number of messages per second".to_owned(),
            });
        }
        if config.reconnect_min.is_zero() || config.reconnect_max < config.reconnect_min {
            return Err(SmppError::Field {
                field: "reconnect_min",
                reason: "must be above zero and at most reconnect_max".to_owned(),
            });
        }
        let inner = Arc::new(Inner {
            window: Arc::new(Semaphore::new(config.window)),
            rate: Rate::new(config.rate),
            gate: tokio::sync::RwLock::new(()),
            config,
            events,
            conn: tokio::sync::watch::Sender::new(None),
            sequence: Arc::new(AtomicU32::new(0)),
            closing: std::sync::atomic::AtomicBool::new(false),
            supervisor: std::sync::Mutex::new(None),
        });
        let (conn, dead) = connect(&inner).await?;
        inner.conn.send_replace(Some(conn));
        let handle = tokio::spawn(supervise(Arc::downgrade(&inner), dead));
        if let Ok(mut h) = inner.supervisor.lock() {
            *h = Some(handle);
        }
        Ok(Session { inner })
    }

    /// Sends a request on the bound connection, waiting up to [`Config::response_timeout`]
    /// for one if the session is reconnecting ([`SmppError::NotBound`]: nothing was sent).
    async fn request(&self, pdu: Pdu) -> Result<Command, SmppError> {
        let timeout = self.inner.config.response_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.inner.conn.subscribe();
        loop {
            let conn = tokio::time::timeout_at(
                deadline,
                rx.wait_for(|c| c.as_ref().is_some_and(|c| c.alive())),
            )
            .await
            .map_err(|_| SmppError::NotBound)?
            .map_err(|_| SmppError::Closed)?
            .clone();
            let Some(conn) = conn else { continue };
            let seq = next_sequence(&self.inner.sequence);
            if let Some(r) = conn.request(seq, pdu.clone(), timeout).await {
                return r;
            }
        }
    }

    /// Submits one segment, waiting for a place in the window and a token of the rate.
    ///
    /// On `ESME_RTHROTTLED` or `ESME_RMSGQFUL` the whole bind pauses
    /// ([`Config::throttle_pause`], [`Config::queue_full_pause`], times the attempt), its
    /// rate is halved, and this segment is resent before any submit that had not gone out
    /// yet, at most [`Config::max_retries`] times. Any other refusal is
    /// [`SmppError::Submit`]; [`classify`] says whether it is temporary.
    pub async fn submit_segment(
        &self,
        destination: &Msisdn,
        encoding: Encoding,
        segment: &Segment,
    ) -> Result<Submitted, SmppError> {
        let submit = self.submit_pdu(destination, encoding, segment)?;
        let permit = self
            .inner
            .window
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| SmppError::Closed)?;
        self.send_submit(permit, submit).await
    }

    fn submit_pdu(
        &self,
        destination: &Msisdn,
        encoding: Encoding,
        segment: &Segment,
    ) -> Result<SubmitSm, SmppError> {
        let source_ton = if self
            .inner
            .config
            .source_addr
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            Ton::International
        } else {
            Ton::Alphanumeric
        };
        let source_npi = if source_ton == Ton::International {
            Npi::Isdn
        } else {
            Npi::Unknown
        };
        let esm_class = if segment.has_udh { 0x40 } else { 0x00 };
        let short_message =
            OctetString::from_slice(&segment.bytes).map_err(|e| SmppError::Field {
                field: "short_message",
                reason: e.to_string(),
            })?;
        Ok(SubmitSm::builder()
            .service_type(ServiceType::default())
            .source_addr_ton(source_ton)
            .source_addr_npi(source_npi)
            .source_addr(cstr("source_addr", &self.inner.config.source_addr)?)
            .dest_addr_ton(Ton::International)
            .dest_addr_npi(Npi::Isdn)
            .destination_addr(cstr("destination_addr", destination.digits())?)
            .esm_class(EsmClass::from(esm_class))
            .registered_delivery(RegisteredDelivery::from(1))
            .data_coding(DataCoding::from(encoding.data_coding()))
            .short_message(short_message)
            .build())
    }

    /// Sends one `submit_sm` holding a window place, with the pause and resend of
    /// [`Session::submit_segment`].
    async fn send_submit(
        &self,
        _permit: tokio::sync::OwnedSemaphorePermit,
        submit: SubmitSm,
    ) -> Result<Submitted, SmppError> {
        let inner = &self.inner;
        let mut held = None;
        let mut attempt = 0u32;
        loop {
            if held.is_none() {
                drop(inner.gate.read().await);
            }
            inner.rate.take().await;
            let resp = self.request(Pdu::SubmitSm(submit.clone())).await?;
            let status = status_u32(resp.status());
            if !matches!(resp.id(), CommandId::SubmitSmResp | CommandId::GenericNack) {
                return Err(SmppError::Unexpected(resp.id()));
            }
            let class = classify(status);
            match (class, resp.pdu()) {
                (Status::Ok, Some(Pdu::SubmitSmResp(r))) => {
                    inner.rate.recover();
                    return Ok(Submitted {
                        message_id: r.message_id().as_str().to_owned(),
                    });
                }
                (Status::Throttled | Status::QueueFull, _)
                    if attempt < inner.config.max_retries =>
                {
                    attempt += 1;
                    inner.rate.slow_down();
                    if held.is_none() {
                        held = Some(inner.gate.write().await);
                    }
                    let pause = if class == Status::Throttled {
                        inner.config.throttle_pause
                    } else {
                        inner.config.queue_full_pause
                    };
                    tracing::info!(
                        status,
                        attempt,
                        "SMPP: the SMSC throttles, pausing the bind"
                    );
                    tokio::time::sleep(pause * attempt).await;
                }
                _ => return Err(SmppError::Submit(status)),
            }
        }
    }

    /// The rate this bind sends at now, in messages per second: [`Config::rate`], or less
    /// after a throttle.
    pub fn rate(&self) -> f64 {
        self.inner.rate.current()
    }

    /// Splits `text` ([`text::split`], GSM-7 when it fits, else UCS-2; 8-bit concatenation
    /// reference `reference`) and submits every segment, in order, as many at once as the
    /// window allows. Returns the SMSC's ids in segment order, or the first error.
    pub async fn submit_text(
        &self,
        destination: &Msisdn,
        text: &str,
        reference: u8,
    ) -> Result<Vec<Submitted>, SmppError> {
        let (encoding, segments) = text::split(text, Reference::Eight(reference))?;
        let mut set = JoinSet::new();
        for (i, segment) in segments.into_iter().enumerate() {
            let submit = self.submit_pdu(destination, encoding, &segment)?;
            // Places in the window are taken in segment order, so segments go out in order.
            let permit = self
                .inner
                .window
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| SmppError::Closed)?;
            let s = self.clone();
            set.spawn(async move { (i, s.send_submit(permit, submit).await) });
        }
        let mut out: Vec<Option<Submitted>> = Vec::new();
        while let Some(joined) = set.join_next().await {
            let (i, r) = joined.map_err(|_| SmppError::Closed)?;
            if out.len() <= i {
                out.resize(i + 1, None);
            }
            out[i] = Some(r?);
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Stops reconnecting, sends `unbind`, waits for `unbind_resp`, and closes the
    /// connection.
    pub async fn unbind(self) -> Result<(), SmppError> {
        self.inner.closing.store(true, Ordering::Release);
        let conn = self.inner.conn.borrow().clone();
        let r = match &conn {
            Some(c) => {
                let seq = next_sequence(&self.inner.sequence);
                c.request(seq, Pdu::Unbind, self.inner.config.response_timeout)
                    .await
                    .unwrap_or(Err(SmppError::NotBound))
            }
            None => Err(SmppError::NotBound),
        };
        if let Some(c) = conn {
            c.close().await;
        }
        if let Ok(Some(h)) = self.inner.supervisor.lock().map(|mut h| h.take()) {
            h.abort();
        }
        match r?.id() {
            CommandId::UnbindResp => Ok(()),
            id => Err(SmppError::Unexpected(id)),
        }
    }
}

/// Handles one PDU from the SMSC. `false` ends the session.
async fn dispatch(
    command: Command,
    pending: &Pending,
    out: &mpsc::Sender<Command>,
    events: &mpsc::Sender<Event>,
) -> bool {
    let seq = command.sequence_number();
    let id = command.id();
    if u32::from(id) & 0x8000_0000 != 0 {
        if let Some(waiter) = pending.lock().await.remove(&seq) {
            let _ = waiter.send(command);
        }
        return true;
    }
    let reply = |status: CommandStatus, pdu: Pdu| Command::new(status, seq, pdu);
    let answer = match command.pdu() {
        Some(Pdu::EnquireLink) => reply(CommandStatus::EsmeRok, Pdu::EnquireLinkResp),
        Some(Pdu::Unbind) => {
            let _ = out
                .send(reply(CommandStatus::EsmeRok, Pdu::UnbindResp))
                .await;
            return false;
        }
        Some(Pdu::DeliverSm(d)) => {
            let esm_class = u8::from(d.esm_class);
            let event = if esm_class & 0x3C == 0x04 {
                let mut tlvs = ReceiptTlvs::default();
                for tlv in d.tlvs() {
                    match tlv.value() {
                        Some(TlvValue::ReceiptedMessageId(v)) => {
                            tlvs.receipted_message_id = Some(v.as_ref());
                        }
                        Some(TlvValue::MessageState(v)) => {
                            tlvs.message_state = Some(u8::from(*v));
                        }
                        _ => {}
                    }
                }
                Event::Receipt(receipt::parse(d.short_message().as_ref(), tlvs))
            } else {
                Event::Message {
                    source_addr: d.source_addr.as_str().to_owned(),
                    data_coding: u8::from(d.data_coding),
                    esm_class,
                    short_message: d.short_message().as_ref().to_vec(),
                }
            };
            let status = if events.send(event).await.is_ok() {
                CommandStatus::EsmeRok
            } else {
                CommandStatus::from(ESME_RX_T_APPN)
            };
            reply(
                status,
                Pdu::DeliverSmResp(
                    DeliverSmResp::builder()
                        .message_id(COctetString::empty())
                        .build(),
                ),
            )
        }
        _ => reply(CommandStatus::EsmeRinvcmdid, Pdu::GenericNack),
    };
    out.send(answer).await.is_ok()
}
