//! Which relays belong to the trap: a configuration like SpamAssassin's
//! `trusted_networks` / `internal_networks`.
//!
//! File syntax, one entry per line, `#` starts a comment:
//!
//! ```text
//! # optional SpamAssassin keywords; a bare entry counts as trusted
//! trusted_networks 192.0.2.0/24 198.51.100.7 !192.0.2.99
//! internal_networks 10.0.0.0/8
//! 2001:db8::/32
//! mx.trap.example          # a host name: matches the relay's recorded rDNS
//! .trap.example            # a leading dot: any name under trap.example
//! ```
//!
//! An entry starting with `!` excludes addresses (first match wins, as in
//! SpamAssassin). `127.0.0.0/8` and `::1` are always trusted. With no entries
//! at all, trust is inferred as SpamAssassin does (see [`TrustConfig`]).

use std::net::IpAddr;

use ipnet::IpNet;

use crate::MailError;

/// One entry of a network list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Net { net: IpNet, negated: bool },
    Host { name: String, suffix: bool },
}

/// A list of networks and host names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NetList {
    entries: Vec<Entry>,
}

impl NetList {
    fn contains(&self, ip: Option<IpAddr>, rdns: Option<&str>) -> bool {
        for e in &self.entries {
            match e {
                Entry::Net { net, negated } => {
                    if ip.is_some_and(|ip| net.contains(&ip)) {
                        return !negated;
                    }
                }
                Entry::Host { name, suffix } => {
                    if let Some(r) = rdns {
                        let r = r.trim_end_matches('.');
                        let hit = if *suffix {
                            r.len() > name.len()
                                && r.get(r.len() - name.len()..)
                                    .is_some_and(|t| t.eq_ignore_ascii_case(name))
                        } else {
                            r.eq_ignore_ascii_case(name)
                        };
                        if hit {
                            return true;
                        }
                    }
                }
            }
        }
        false
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Trust settings for the `Received:` chain.
///
/// With no entries (the [`Default`]), trust is *inferred* exactly as
/// SpamAssassin does when `trusted_networks` is not configured: walking the
/// handover hops from the top, a hop is trusted while its relay IP is
/// private, loopback, link-local or CGN (10/8, 127/8, 169.254/16, 172.16/12,
/// 192.168/16, 100.64/10, fe80::/10, ::1 and their IPv4-mapped forms) or the
/// relay authenticated; the first other hop is the first untrusted one, and
/// everything below it is untrusted. The trap's own MX, which writes the top
/// `Received:` line, is thus trusted implicitly: the relay it recorded is the
/// first untrusted hop.
///
/// With entries, a hop is trusted while its IP is in `trusted_networks` (or
/// its recorded rDNS matches a host entry there) or it authenticated.
/// When only one of the two lists is given, the other is the same list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustConfig {
    trusted: NetList,
    internal: NetList,
}

fn loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[0] == 127,
        IpAddr::V6(v6) => v6.is_loopback(),
    }
}

/// SpamAssassin's `IP_PRIVATE`.
pub fn is_private_ip(ip: IpAddr) -> bool {
    let v4 = match ip {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                v4
            } else {
                let seg0 = v6.segments()[0];
                return v6.is_loopback() || (seg0 & 0xffc0) == 0xfe80;
            }
        }
    };
    let [a, b, _, _] = v4.octets();
    matches!((a, b), (10, _) | (127, _) | (169, 254) | (192, 168))
        || (a == 172 && (16..=31).contains(&b))
        || (a == 100 && (64..=127).contains(&b))
}

impl TrustConfig {
    /// The default: no entries, trust inferred (see the type's docs).
    pub fn inferred() -> Self {
        Self::default()
    }

    /// Reads and parses a trust file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self, MailError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| MailError::TrustFile {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Whether trust is inferred (no entries configured).
    pub fn is_inferred(&self) -> bool {
        self.trusted.is_empty() && self.internal.is_empty()
    }

    /// Parses a trust file (see the module docs). `origin` names the file in
    /// errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, MailError> {
        let mut cfg = TrustConfig::default();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace().peekable();
            let mut target = 0u8; // 0 trusted, 1 internal
            match words.peek().copied() {
                Some("trusted_networks") => {
                    words.next();
                }
                Some("internal_networks") => {
                    words.next();
                    target = 1;
                }
                Some("clear_trusted_networks") => {
                    cfg.trusted.entries.clear();
                    continue;
                }
                Some("clear_internal_networks") => {
                    cfg.internal.entries.clear();
                    continue;
                }
                _ => {}
            }
            for w in words {
                let entry = parse_entry(w).ok_or_else(|| MailError::TrustSyntax {
                    origin: origin.to_string(),
                    line: n + 1,
                    entry: w.chars().take(100).collect(),
                })?;
                match target {
                    0 => cfg.trusted.entries.push(entry),
                    _ => cfg.internal.entries.push(entry),
                }
            }
        }
        Ok(cfg)
    }

    /// Whether a hop is trusted (given the configured lists or inference).
    pub(crate) fn trusts(&self, ip: Option<IpAddr>, rdns: Option<&str>, auth: bool) -> bool {
        if auth {
            return true;
        }
        if ip.is_some_and(loopback) {
            return true;
        }
        if self.is_inferred() {
            return ip.is_some_and(is_private_ip);
        }
        let list = if self.trusted.is_empty() {
            &self.internal
        } else {
            &self.trusted
        };
        list.contains(ip, rdns)
    }

    /// Whether a hop is internal (given the configured lists or inference).
    pub fn is_internal(&self, ip: Option<IpAddr>, rdns: Option<&str>, auth: bool) -> bool {
        if self.is_inferred() || self.internal.is_empty() {
            return self.trusts(ip, rdns, auth);
        }
        auth || ip.is_some_and(loopback) || self.internal.contains(ip, rdns)
    }
}

fn parse_entry(w: &str) -> Option<Entry> {
    let (negated, w) = match w.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, w),
    };
    if let Ok(net) = w.parse::<IpNet>() {
        return Some(Entry::Net {
            net: net.trunc(),
            negated,
        });
    }
    if let Ok(ip) = w.parse::<IpAddr>() {
        return Some(Entry::Net {
            net: IpNet::from(ip),
            negated,
        });
    }
    // SpamAssassin also accepts partial IPv4 ("10.", "192.168").
    let t = w.trim_end_matches('.');
    let parts: Vec<&str> = t.split('.').collect();
    if (1..4).contains(&parts.len()) && parts.iter().all(|p| p.parse::<u8>().is_ok()) {
        let mut oct = [0u8; 4];
        for (o, p) in oct.iter_mut().zip(&parts) {
            *o = p.parse().ok()?;
        }
        let net = IpNet::new(IpAddr::from(oct), (parts.len() * 8) as u8).ok()?;
        return Some(Entry::Net { net, negated });
    }
    if negated {
        return None;
    }
    let (suffix, name) = match w.strip_prefix('.') {
        Some(n) => (true, n),
        None => (false, w),
    };
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && name.bytes().any(|b| b.is_ascii_alphabetic());
    valid.then(|| Entry::Host {
        name: if suffix {
            format!(".{}", name.to_ascii_lowercase())
        } else {
            name.to_ascii_lowercase()
        },
        suffix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn private_ranges_match_spamassassin() {
        for p in [
            "10.1.2.3",
            "127.0.0.1",
            "169.254.1.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "100.64.0.1",
            "100.127.1.1",
            "fe80::1",
            "::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private_ip(p.parse().unwrap()), "{p}");
        }
        for p in [
            "172.32.0.1",
            "100.128.0.1",
            "8.8.8.8",
            "192.0.2.1",
            "2001:db8::1",
            "fec0::1",
        ] {
            assert!(!is_private_ip(p.parse().unwrap()), "{p}");
        }
    }

    #[test]
    fn parses_sa_style_file() {
        let cfg = TrustConfig::parse(
            "# trap\ntrusted_networks !192.0.2.99 192.0.2.0/24 # mx\n198.51.100.7\n10.\nmx.trap.example\n.relay.example\ninternal_networks 192.0.2.0/24\n",
            "trust.cf",
        )
        .unwrap();
        assert!(!cfg.is_inferred());
        assert!(cfg.trusts(ip("192.0.2.1"), None, false));
        assert!(!cfg.trusts(ip("192.0.2.99"), None, false));
        assert!(cfg.trusts(ip("198.51.100.7"), None, false));
        assert!(cfg.trusts(ip("10.9.9.9"), None, false));
        assert!(cfg.trusts(ip("203.0.113.1"), Some("MX.trap.example."), false));
        assert!(cfg.trusts(ip("203.0.113.1"), Some("a.relay.example"), false));
        assert!(!cfg.trusts(ip("203.0.113.1"), Some("relay.example"), false));
        assert!(!cfg.trusts(ip("203.0.113.1"), Some("evil.example"), false));
        assert!(cfg.trusts(ip("127.0.0.1"), None, false));
        assert!(cfg.trusts(ip("203.0.113.1"), None, true));
        assert!(cfg.is_internal(ip("192.0.2.1"), None, false));
        assert!(!cfg.is_internal(ip("198.51.100.7"), None, false));
    }

    #[test]
    fn bad_entries_are_located_errors() {
        let e = TrustConfig::parse("192.0.2.0/24\n\ntrusted_networks 300.1.1.1/8\n", "t.cf")
            .unwrap_err();
        assert_eq!(e.reason(), "trust-syntax");
        assert!(e.to_string().contains("t.cf:3"), "{e}");
    }

    #[test]
    fn from_file_reads_and_locates_errors() {
        let dir = std::env::temp_dir().join(format!("depeer-trust-{}", std::process::id()));
        std::fs::write(&dir, "trusted_networks 192.0.2.0/24\n").unwrap();
        assert!(
            TrustConfig::from_file(&dir)
                .unwrap()
                .trusts(ip("192.0.2.9"), None, false)
        );
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(
            TrustConfig::from_file(&dir).unwrap_err().reason(),
            "trust-file"
        );
    }

    #[test]
    fn inference_trusts_private_only() {
        let cfg = TrustConfig::default();
        assert!(cfg.is_inferred());
        assert!(cfg.trusts(ip("192.168.1.1"), None, false));
        assert!(!cfg.trusts(ip("198.51.100.1"), None, false));
        assert!(!cfg.trusts(None, None, false));
    }
}
