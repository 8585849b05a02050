//! Pure webhook rules: which URLs an endpoint may have (the SSRF guard), which addresses a
//! delivery may connect to, how a body is signed, and the envelope every event is sent in.
//! docs/webhooks.md describes the scheme for receivers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use url::{Host, Url};
use uuid::Uuid;

use crate::error::Error;

/// The request headers of a delivery.
pub const ID_HEADER: &str = "Eposta-Webhook-Id";
pub const TIMESTAMP_HEADER: &str = "Eposta-Webhook-Timestamp";
pub const SIGNATURE_HEADER: &str = "Eposta-Webhook-Signature";
pub const EVENT_HEADER: &str = "Eposta-Webhook-Event";

/// Signing secrets look like `whsec_` and 64 hex digits; the whole string is the HMAC key.
pub const SECRET_PREFIX: &str = "whsec_";

/// Longest URL an endpoint may have.
pub const MAX_URL: usize = 2000;

/// Which endpoints are allowed: HTTPS to public hosts only, unless the installation allows
/// loopback receivers (`EPOSTA_WEBHOOKS_ALLOW_LOOPBACK`, for development and tests), which
/// admits `http://` and `https://` to `localhost`, 127.0.0.0/8 and `[::1]` and nothing else.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlPolicy {
    pub allow_loopback: bool,
}

/// Host names that name no public machine.
const PRIVATE_SUFFIXES: &[&str] = &[
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".intranet",
    ".lan",
    ".home.arpa",
    ".arpa",
];

impl UrlPolicy {
    /// Checks an endpoint URL as registered; the addresses its name resolves to are checked
    /// again at every delivery ([`UrlPolicy::address_allowed`]), because DNS can change.
    pub fn check_url(self, input: &str) -> Result<Url, Error> {
        let input = input.trim();
        let bad = |m: &'static str| Error::invalid("url", m);
        if input.is_empty() {
            return Err(bad("is required"));
        }
        if input.len() > MAX_URL {
            return Err(bad("must be at most 2000 characters"));
        }
        let url = Url::parse(input).map_err(|_| bad("is not a valid URL"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry a user name or password"));
        }
        if url.fragment().is_some() {
            return Err(bad("must not have a #fragment"));
        }
        let loopback = match url.host() {
            None => return Err(bad("must name a host")),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            Some(Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") {
                    if !self.allow_loopback {
                        return Err(bad("must be a public host, not localhost"));
                    }
                    true
                } else if !name.contains('.') || PRIVATE_SUFFIXES.iter().any(|s| name.ends_with(s))
                {
                    return Err(bad("must be a public host name"));
                } else {
                    false
                }
            }
        };
        match url.scheme() {
            "https" => Ok(url),
            "http" if loopback => Ok(url),
            "http" => Err(bad("must use https://")),
            _ => Err(bad("must be an https:// URL")),
        }
    }

    /// True for a loopback address the policy allows; an error for any other non-public one.
    fn check_ip(self, ip: IpAddr) -> Result<bool, Error> {
        if self.address_allowed(ip) {
            Ok(ip.is_loopback())
        } else {
            Err(Error::invalid(
                "url",
                "must be a public address, not a private, loopback or reserved one",
            ))
        }
    }

    /// Whether a delivery may connect to this address: public unicast, or loopback when the
    /// policy allows it.
    pub fn address_allowed(self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => v4_allowed(v4, self.allow_loopback),
            IpAddr::V6(v6) => match embedded_v4(v6) {
                Some(v4) => v4_allowed(v4, self.allow_loopback),
                None => v6_allowed(v6, self.allow_loopback),
            },
        }
    }
}

fn v4_allowed(ip: Ipv4Addr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    let [a, b, c, _] = ip.octets();
    let reserved = ip.is_unspecified()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking, 198.18.0.0/15.
        || (a == 198 && (b == 18 || b == 19));
    !reserved
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`)
/// address, which reaches that IPv4 host.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [_, _, _, _, _, _, hi, lo] = s;
        return Some(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    None
}

fn v6_allowed(ip: Ipv6Addr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    let s = ip.segments();
    let reserved = ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, old site-local fec0::/10.
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        // Documentation 2001:db8::/32, Teredo 2001::/32, 6to4 2002::/16, discard 100::/64.
        || (s[0] == 0x2001 && (s[1] == 0x0db8 || s[1] == 0))
        || s[0] == 0x2002
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0])
        // IPv4-compatible (deprecated) and the rest of ::/8.
        || s[0] == 0;
    !reserved
}

/// The signature of one attempt: HMAC-SHA256 with the whole secret string as key over
/// `<timestamp>.<body>`, as lower-case hex.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The signature header: `v1=<hex>` for each secret in force (two during a rotation's
/// overlap), separated by spaces.
pub fn signature_header(secrets: &[String], timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| format!("v1={}", sign(s, timestamp, body)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a receiver does (and what docs/webhooks.md shows): true when one of the header's
/// `v1=` signatures is the body's under `secret` and the timestamp is within `tolerance`
/// seconds of `now`. Compares in constant time.
pub fn verify(
    secret: &str,
    header: &str,
    timestamp: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> bool {
    use subtle::ConstantTimeEq;
    let Ok(ts) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    if (now - ts).abs() > tolerance {
        return false;
    }
    let expected = sign(secret, ts, body);
    header
        .split_whitespace()
        .filter_map(|part| part.strip_prefix("v1="))
        .any(|sig| bool::from(sig.as_bytes().ct_eq(expected.as_bytes())))
}

/// The JSON body of every delivery: `{"id", "type", "created_at", "data"}`.
#[derive(Debug, Serialize)]
pub struct Envelope<'a> {
    /// The event's id: the same on every retry and resend, and at every endpoint that gets
    /// it; receivers use it to drop duplicates.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: &'a str,
    pub created_at: String,
    pub data: &'a serde_json::Value,
}

impl<'a> Envelope<'a> {
    pub fn new(
        id: Uuid,
        event_type: &'a str,
        created_at: DateTime<Utc>,
        data: &'a serde_json::Value,
    ) -> Self {
        Envelope {
            id,
            event_type,
            created_at: created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            data,
        }
    }
}

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or for a retry.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; it can be resent.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(Error::Internal(anyhow::anyhow!(
                "unknown delivery status {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: UrlPolicy = UrlPolicy {
        allow_loopback: false,
    };
    const LOOPBACK: UrlPolicy = UrlPolicy {
        allow_loopback: true,
    };

    #[test]
    fn only_public_https_urls_pass_the_strict_policy() {
        for ok in [
            "https://hooks.example.com/eposta",
            "https://hooks.example.com:8443/a?b=c",
            "https://93.184.216.34/x",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/x",
        ] {
            assert!(STRICT.check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "not a url",
            "http://hooks.example.com/",
            "ftp://hooks.example.com/",
            "file:///etc/passwd",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com/#frag",
            "https://localhost/",
            "https://a.localhost/",
            "http://127.0.0.1:8080/",
            "https://127.0.0.1/",
            "https://10.0.0.5/",
            "https://172.16.3.4/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[64:ff9b::a00:1]/",
            "https://intranet/",
            "https://printer.local/",
            "https://db.internal/",
            "https://2130706433/",
            "https://0x7f000001/",
        ] {
            match STRICT.check_url(bad) {
                Err(Error::Invalid { field, .. }) => assert_eq!(field, "url", "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(
            STRICT
                .check_url(&format!("https://example.com/{}", "a".repeat(2000)))
                .is_err()
        );
    }

    #[test]
    fn the_loopback_policy_admits_loopback_and_nothing_else_private() {
        for ok in [
            "http://127.0.0.1:8080/hook",
            "http://localhost:9000/",
            "https://[::1]:8443/",
            "http://127.1.2.3/",
        ] {
            assert!(LOOPBACK.check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/",
            "http://hooks.example.com/",
            "https://192.168.0.1/",
        ] {
            assert!(LOOPBACK.check_url(bad).is_err(), "{bad}");
        }
        assert!(LOOPBACK.address_allowed("127.0.0.1".parse().expect("ip")));
        assert!(!STRICT.address_allowed("127.0.0.1".parse().expect("ip")));
        assert!(!LOOPBACK.address_allowed("169.254.169.254".parse().expect("ip")));
        assert!(STRICT.address_allowed("93.184.216.34".parse().expect("ip")));
    }

    #[test]
    fn signatures_cover_the_timestamp_and_every_byte_of_the_body() {
        let secret = format!("{SECRET_PREFIX}{}", "ab".repeat(32));
        let body = br#"{"id":"x","type":"tracking.updated"}"#;
        let sig = sign(&secret, 1_772_442_000, body);
        assert_eq!(sig.len(), 64);
        let header = signature_header(std::slice::from_ref(&secret), 1_772_442_000, body);
        assert_eq!(header, format!("v1={sig}"));
        let now = 1_772_442_100;
        assert!(verify(&secret, &header, "1772442000", body, now, 300));
        // Another body, another time, another secret, or too old: refused.
        assert!(!verify(&secret, &header, "1772442000", b"{}", now, 300));
        assert!(!verify(&secret, &header, "1772442001", body, now, 300));
        assert!(!verify(
            "whsec_other",
            &header,
            "1772442000",
            body,
            now,
            300
        ));
        assert!(!verify(
            &secret,
            &header,
            "1772442000",
            body,
            now + 1000,
            300
        ));
        // During a rotation either secret verifies.
        let old = format!("{SECRET_PREFIX}{}", "cd".repeat(32));
        let both = signature_header(&[secret.clone(), old.clone()], 1_772_442_000, body);
        assert!(verify(&old, &both, "1772442000", body, now, 300));
        assert!(verify(&secret, &both, "1772442000", body, now, 300));
    }
}
