//! The SMPP client against a real third-party SMSC: farhadi/node-smpp (npm `smpp` 0.5.1,
//! pinned in tests/peers/package-lock.json) scripted by tests/peers/smsc.js.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use eposta_sms::phone::Msisdn;
use eposta_sms::receipt::{IdForm, MessageState, ids_match};
use eposta_sms::smpp::{Config, Event, Session, SmppError, Status, classify};
use eposta_sms::text;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::mpsc;

struct Smsc {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    port: u16,
}

impl Smsc {
    async fn start() -> Smsc {
        Smsc::start_with("").await
    }

    /// Starts the SMSC with a script of behaviours (see tests/peers/smsc.js).
    async fn start_with(script: &str) -> Smsc {
        let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers");
        assert!(
            peers.join("node_modules/smpp/package.json").is_file(),
            "the npm SMPP peer is not installed: run `npm ci` in {} (the CI does it in .ci/run)",
            peers.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new("node")
            .arg("smsc.js")
            .arg(port.to_string())
            .arg(script)
            .current_dir(&peers)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node must be installed to run the SMPP peer");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut smsc = Smsc {
            child,
            lines: BufReader::new(stdout).lines(),
            port,
        };
        let first = smsc.next().await;
        assert_eq!(first["event"], "listening", "{first}");
        smsc
    }

    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("the SMSC said nothing for 10 s")
            .expect("reading the SMSC's output")
            .expect("the SMSC exited");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    /// Takes the events of kind `event` already read into `others`, then reads until `n` have
    /// come; the other events read go to `others`.
    async fn collect(&mut self, event: &str, n: usize, others: &mut Vec<Value>) -> Vec<Value> {
        let (mut got, rest): (Vec<Value>, Vec<Value>) =
            others.drain(..).partition(|v| v["event"] == event);
        *others = rest;
        // One deadline for the lot: our enquire_link keeps the SMSC talking, so a timeout per
        // line would never fire.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got.len() < n {
            let v = tokio::time::timeout_at(deadline, self.next())
                .await
                .unwrap_or_else(|_| panic!("{n} {event} events within 10 s, got {}", got.len()));
            if v["event"] == event {
                got.push(v);
            } else {
                others.push(v);
            }
        }
        got
    }
}

fn config(port: u16) -> Config {
    let mut c = Config::new(format!("127.0.0.1:{port}"), "eposta", "secret");
    c.window = 3;
    c.enquire_link = Duration::from_millis(200);
    c.response_timeout = Duration::from_secs(5);
    c
}

#[tokio::test]
async fn bind_refused_with_a_wrong_password() {
    let mut smsc = Smsc::start().await;
    let (tx, _rx) = mpsc::channel(8);
    let mut c = config(smsc.port);
    c.password = "wrong".to_owned();
    let err = Session::bind(c, tx)
        .await
        .err()
        .expect("the bind must fail");
    // ESME_RBINDFAIL
    assert!(matches!(err, SmppError::Bind(0x0D)), "{err:?}");
    let v = smsc.collect("bind", 1, &mut Vec::new()).await;
    assert_eq!(v[0]["ok"], false);
    let _ = smsc.child.kill().await;
}

#[tokio::test]
async fn long_gsm_and_cyrillic_messages_segments_and_receipts() {
    let mut smsc = Smsc::start().await;
    let (tx, mut events) = mpsc::channel(16);
    let session = Session::bind(config(smsc.port), tx).await.expect("bind");
    let to = Msisdn::parse("064 123 4567").expect("number");

    let gsm = format!(
        "Posiljka {} je stigla. Cena: 10€ [uplata]. ",
        "RR123456789RS"
    )
    .repeat(4);
    let cyr = "Ваша пошиљка РР123456789РС чека у пошти Београд 6 до петка. ".repeat(2);
    let (ge, gsm_parts) = text::split(&gsm, text::Reference::Eight(7)).expect("split");
    let (ce, cyr_parts) = text::split(&cyr, text::Reference::Eight(8)).expect("split");
    assert_eq!(ge, text::Encoding::Gsm7);
    assert_eq!(ce, text::Encoding::Ucs2);
    assert!(gsm_parts.len() >= 2 && cyr_parts.len() >= 2);

    let gsm_ids = session.submit_text(&to, &gsm, 7).await.expect("GSM submit");
    let cyr_ids = session
        .submit_text(&to, &cyr, 8)
        .await
        .expect("Cyrillic submit");
    assert_eq!(gsm_ids.len(), gsm_parts.len());
    assert_eq!(cyr_ids.len(), cyr_parts.len());
    let total = gsm_parts.len() + cyr_parts.len();

    let mut others = Vec::new();
    let submits = smsc.collect("submit_sm", total, &mut others).await;
    // What the SMSC received, in our segment order (sorted by the UDH sequence number).
    let check = |ref_byte: u8, want_dc: u64, text: &str, ids: &[eposta_sms::smpp::Submitted]| {
        let mut mine: Vec<&Value> = submits
            .iter()
            .filter(|v| {
                v["udh"][0]
                    .as_str()
                    .is_some_and(|u| u.starts_with(&format!("0003{ref_byte:02x}")))
            })
            .collect();
        mine.sort_by_key(|v| v["udh"][0].as_str().map(str::to_owned));
        let n = mine.len();
        assert_eq!(n, ids.len(), "segments of ref {ref_byte}");
        let mut joined = String::new();
        for (i, v) in mine.iter().enumerate() {
            assert_eq!(v["data_coding"], want_dc, "{v}");
            assert_eq!(v["esm_class"].as_u64().map(|e| e & 0x40), Some(0x40), "{v}");
            assert_eq!(v["registered_delivery"], 1, "{v}");
            assert_eq!(v["dest_addr_ton"], 1);
            assert_eq!(v["dest_addr_npi"], 1);
            assert_eq!(v["destination_addr"], "381641234567");
            // node-smpp hands the IE without its length octet: 00 03 ref total seq
            assert_eq!(
                v["udh"][0],
                format!("0003{ref_byte:02x}{n:02x}{:02x}", i + 1),
                "{v}"
            );
            joined.push_str(v["message"].as_str().expect("decoded text"));
        }
        assert_eq!(joined, text);
        // Every id we got back is one the SMSC handed out for these segments.
        let mut sent: Vec<&str> = mine
            .iter()
            .filter_map(|v| v["message_id"].as_str())
            .collect();
        let mut got: Vec<&str> = ids.iter().map(|s| s.message_id.as_str()).collect();
        sent.sort_unstable();
        got.sort_unstable();
        assert_eq!(sent, got);
    };
    check(7, 0, &gsm, &gsm_ids);
    check(8, 8, &cyr, &cyr_ids);

    // Receipts: hex ids in submit_sm_resp, decimal in receipts; TLVs win over the text.
    let all_ids: Vec<String> = gsm_ids
        .iter()
        .chain(&cyr_ids)
        .map(|s| s.message_id.clone())
        .collect();
    let mut matched = Vec::new();
    for _ in 0..total {
        let ev = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("a receipt within 10 s")
            .expect("events channel open");
        let Event::Receipt(r) = ev else {
            panic!("expected a receipt, got {ev:?}")
        };
        assert_eq!(r.state, Some(MessageState::Delivered), "{r:?}");
        let rid = r.message_id.clone().expect("receipt id");
        let hit: Vec<&String> = all_ids
            .iter()
            .filter(|s| ids_match(s, IdForm::Hex, &rid, IdForm::Decimal))
            .collect();
        assert_eq!(hit.len(), 1, "receipt {rid} matches exactly one submit");
        matched.push(hit[0].clone());
    }
    matched.sort();
    matched.dedup();
    assert_eq!(matched.len(), total, "every segment got its own receipt");
    let resps = smsc.collect("deliver_sm_resp", total, &mut others).await;
    assert!(resps.iter().all(|v| v["status"] == 0), "{resps:?}");

    // Give our enquire_link (every 200 ms) time to go out, then unbind.
    tokio::time::sleep(Duration::from_millis(450)).await;
    session.unbind().await.expect("unbind");
    let unbind = smsc.collect("unbind", 1, &mut others).await;
    assert_eq!(unbind.len(), 1);
    let has = |e: &str| others.iter().any(|v| v["event"] == e);
    assert!(
        has("enquire_link"),
        "the client sent enquire_link: {others:?}"
    );
    let resp = others
        .iter()
        .find(|v| v["event"] == "enquire_link_resp")
        .expect("the client answered the SMSC's enquire_link");
    assert_eq!(resp["status"], 0);
    let _ = smsc.child.kill().await;
}

/// The events `submit_sm`, `refused` and `dropped` in the order the SMSC saw them, until
/// `accepted` submits were accepted.
async fn submits_until(smsc: &mut Smsc, accepted: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    let mut ok = 0;
    while ok < accepted {
        let v = tokio::time::timeout_at(deadline, smsc.next())
            .await
            .unwrap_or_else(|_| panic!("{accepted} accepted submits within 15 s: {seen:?}"));
        match v["event"].as_str() {
            Some("submit_sm") => {
                ok += 1;
                seen.push(v);
            }
            Some("refused" | "dropped") => seen.push(v),
            _ => {}
        }
    }
    seen
}

/// The UDH sequence number (last octet) of a submit event.
fn udh_seq(v: &Value) -> u64 {
    let udh = v["udh"][0].as_str().expect("a UDH");
    u64::from_str_radix(&udh[udh.len() - 2..], 16).expect("hex")
}

#[tokio::test]
async fn throttled_and_queue_full_pause_and_resend_in_order() {
    // The 2nd submit_sm is throttled (0x58), the 5th refused with a full queue (0x14).
    let mut smsc = Smsc::start_with("status=2:0x58,status=5:0x14").await;
    let (tx, _rx) = mpsc::channel(64);
    let mut c = config(smsc.port);
    c.window = 1;
    c.rate = 50.0;
    c.throttle_pause = Duration::from_millis(300);
    c.queue_full_pause = Duration::from_millis(700);
    let session = Session::bind(c, tx).await.expect("bind");
    let to = Msisdn::parse("064 123 4567").expect("number");
    let text = "Posiljka RR123456789RS je stigla u postu. ".repeat(12);
    let (_, parts) = text::split(&text, text::Reference::Eight(3)).expect("split");
    assert_eq!(parts.len(), 4);

    let ids = session.submit_text(&to, &text, 3).await.expect("submit");
    assert_eq!(ids.len(), 4);
    assert!(
        session.rate() < 50.0,
        "the rate is lowered after a throttle: {}",
        session.rate()
    );

    let seen = submits_until(&mut smsc, 4).await;
    let order: Vec<(String, u64)> = seen
        .iter()
        .map(|v| (v["event"].as_str().unwrap_or("").to_owned(), udh_seq(v)))
        .collect();
    let want: Vec<(String, u64)> = [
        ("submit_sm", 1),
        ("refused", 2),
        ("submit_sm", 2),
        ("submit_sm", 3),
        ("refused", 4),
        ("submit_sm", 4),
    ]
    .iter()
    .map(|(e, n)| ((*e).to_owned(), *n))
    .collect();
    assert_eq!(order, want, "{seen:?}");
    assert_eq!(seen[1]["status"], 0x58);
    assert_eq!(seen[4]["status"], 0x14);
    let t = |i: usize| seen[i]["t"].as_u64().expect("t");
    assert!(t(2) - t(1) >= 290, "paused after the throttle: {seen:?}");
    assert!(
        t(5) - t(4) >= 690,
        "paused longer after a full queue: {seen:?}"
    );
    // The ids returned are those of the accepted submits, in segment order.
    let accepted: Vec<&str> = seen
        .iter()
        .filter(|v| v["event"] == "submit_sm")
        .filter_map(|v| v["message_id"].as_str())
        .collect();
    let got: Vec<&str> = ids.iter().map(|s| s.message_id.as_str()).collect();
    assert_eq!(got, accepted);
    session.unbind().await.expect("unbind");
    let _ = smsc.child.kill().await;
}

#[tokio::test]
async fn rate_limit_spaces_submits() {
    let mut smsc = Smsc::start().await;
    let (tx, _rx) = mpsc::channel(64);
    let mut c = config(smsc.port);
    c.window = 10;
    c.rate = 20.0;
    let session = Session::bind(c, tx).await.expect("bind");
    let to = Msisdn::parse("064 123 4567").expect("number");
    let (enc, parts) = text::split("Kratka poruka", text::Reference::Eight(1)).expect("split");
    let start = std::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (s, to, p) = (session.clone(), to.clone(), parts[0].clone());
        set.spawn(async move { s.submit_segment(&to, enc, &p).await });
    }
    while let Some(r) = set.join_next().await {
        r.expect("join").expect("submit");
    }
    let took = start.elapsed();
    // 8 submits at 20/s: 7 gaps of 50 ms.
    assert!(took >= Duration::from_millis(340), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    let mut others = Vec::new();
    let seen = smsc.collect("submit_sm", 8, &mut others).await;
    let times: Vec<u64> = seen.iter().filter_map(|v| v["t"].as_u64()).collect();
    for w in times.windows(2) {
        assert!(w[1] - w[0] >= 35, "submits 50 ms apart: {times:?}");
    }
    assert_eq!(session.rate(), 20.0);
    let _ = smsc.child.kill().await;
}

#[tokio::test]
async fn refusals_are_classified() {
    // 0x0B ESME_RINVDSTADR is permanent, 0x08 ESME_RSYSERR temporary; neither is resent.
    let mut smsc = Smsc::start_with("status=1:0x0B,status=2:0x08").await;
    let (tx, _rx) = mpsc::channel(64);
    let session = Session::bind(config(smsc.port), tx).await.expect("bind");
    let to = Msisdn::parse("064 123 4567").expect("number");
    let (enc, parts) = text::split("Kratka poruka", text::Reference::Eight(1)).expect("split");
    let e1 = session
        .submit_segment(&to, enc, &parts[0])
        .await
        .expect_err("refused");
    assert!(matches!(e1, SmppError::Submit(0x0B)), "{e1:?}");
    assert!(!e1.is_temporary());
    let e2 = session
        .submit_segment(&to, enc, &parts[0])
        .await
        .expect_err("refused");
    assert!(matches!(e2, SmppError::Submit(0x08)), "{e2:?}");
    assert!(e2.is_temporary());
    session
        .submit_segment(&to, enc, &parts[0])
        .await
        .expect("third accepted");
    let seen = submits_until(&mut smsc, 1).await;
    assert_eq!(seen.len(), 3, "nothing resent: {seen:?}");
    assert_eq!(classify(0x58), Status::Throttled);
    assert_eq!(classify(0x14), Status::QueueFull);
    assert_eq!(classify(0x45), Status::Temporary);
    assert_eq!(classify(0x0401), Status::Permanent);
    let _ = smsc.child.kill().await;
}

#[tokio::test]
async fn reconnects_after_the_smsc_drops_and_reports_unknown_fate() {
    // The SMSC closes the connection when the 3rd submit_sm arrives, without answering it.
    let mut smsc = Smsc::start_with("drop=3").await;
    let (tx, _rx) = mpsc::channel(64);
    let mut c = config(smsc.port);
    c.window = 1;
    c.reconnect_min = Duration::from_millis(200);
    c.reconnect_max = Duration::from_secs(1);
    let session = Session::bind(c, tx).await.expect("bind");
    let to = Msisdn::parse("064 123 4567").expect("number");
    let submit = |n: u32| {
        let s = session.clone();
        let to = to.clone();
        async move {
            let (enc, parts) =
                text::split(&format!("Poruka {n}"), text::Reference::Eight(1)).expect("split");
            s.submit_segment(&to, enc, &parts[0]).await
        }
    };
    submit(1).await.expect("1st accepted");
    submit(2).await.expect("2nd accepted");
    let lost = submit(3).await.expect_err("the 3rd gets no response");
    assert!(matches!(lost, SmppError::UnknownFate), "{lost:?}");
    assert!(
        !lost.is_temporary(),
        "an unknown fate is not to be resent blindly"
    );
    // New submits wait for the rebind and go through.
    submit(4).await.expect("4th accepted after the rebind");
    submit(5).await.expect("5th accepted");

    let mut others = Vec::new();
    let binds = smsc.collect("bind", 2, &mut others).await;
    assert!(binds.iter().all(|b| b["ok"] == true), "{binds:?}");
    let connects = smsc.collect("connect", 2, &mut others).await;
    assert_eq!(connects.len(), 2);
    let dropped = smsc.collect("dropped", 1, &mut others).await;
    let accepted = smsc.collect("submit_sm", 4, &mut others).await;
    let texts: Vec<&str> = accepted
        .iter()
        .filter_map(|v| v["message"].as_str())
        .collect();
    // The 3rd was not resent after the rebind.
    assert_eq!(texts, ["Poruka 1", "Poruka 2", "Poruka 4", "Poruka 5"]);
    let t_drop = dropped[0]["t"].as_u64().expect("t");
    let t_next = accepted[2]["t"].as_u64().expect("t");
    assert!(
        t_next - t_drop >= 190,
        "the reconnect waited reconnect_min: {t_drop} → {t_next}"
    );
    session.unbind().await.expect("unbind");
    let _ = smsc.child.kill().await;
}
