//! The subject of a dossier: an AS, an address, a prefix or a domain.

use std::net::IpAddr;

/// What the dossier is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// An AS.
    Asn(u32),
    /// One address.
    Ip(IpAddr),
    /// A prefix: network address and length.
    Prefix(IpAddr, u8),
    /// A (registrable) domain or host name, lowercase.
    Domain(String),
}

impl Subject {
    /// `AS26780` or `26780`, an address, `a.b.c.d/n` (or IPv6), else a domain.
    pub fn parse(s: &str) -> Option<Subject> {
        let t = s.trim();
        let digits = t
            .strip_prefix("AS")
            .or_else(|| t.strip_prefix("as"))
            .unwrap_or(t);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits.parse().ok().map(Subject::Asn);
        }
        if let Some((a, l)) = t.split_once('/') {
            let addr: IpAddr = a.parse().ok()?;
            let len: u8 = l.parse().ok()?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            return (len <= max).then_some(Subject::Prefix(addr, len));
        }
        if let Ok(ip) = t.parse::<IpAddr>() {
            return Some(Subject::Ip(ip));
        }
        let d = t.trim_end_matches('.').to_ascii_lowercase();
        (d.contains('.')
            && d.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
        .then_some(Subject::Domain(d))
    }

    pub(super) fn label(&self) -> String {
        match self {
            Subject::Asn(a) => format!("AS{a}"),
            Subject::Ip(ip) => ip.to_string(),
            Subject::Prefix(a, l) => format!("{a}/{l}"),
            Subject::Domain(d) => d.clone(),
        }
    }
}

pub(super) fn in_prefix(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            u32::from(a) & m == u32::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            u128::from(a) & m == u128::from(n) & m
        }
        _ => false,
    }
}
