//! Delimited rows mapped to feed fields, and the value checks every format
//! shares. The built-in CSV formats (depeer, feodo-csv, urlhaus-csv,
//! phishtank-csv) and declared mapping files are all a [`RowLayout`]: which
//! column holds the ip / url / name / address / family / port / first and
//! last seen, how times are written, how fields are separated.

use std::net::IpAddr;

use depeer_core::Timestamp;

use super::lines::{Delim, Field, split_fields};
use super::timefmt::TimeFormat;

/// What a layout's indicator is; decides which columns are required and
/// which kinds fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// An IP address (C&C server, bot).
    Ip,
    /// A URL.
    Url,
    /// A DNS name and the address it resolved to.
    Pdns,
    /// A network: CIDR, address, or AS number.
    Net,
}

/// The parts of one row, before the reader adds source, kind and location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed<'a> {
    pub(crate) indicator: String,
    pub(crate) address: Option<String>,
    pub(crate) family: Option<std::borrow::Cow<'a, str>>,
    pub(crate) port: Option<u16>,
    pub(crate) first_seen: Option<Timestamp>,
    pub(crate) last_seen: Option<Timestamp>,
}

impl Parsed<'_> {
    /// An entry that is its indicator alone (URL lists, network lists).
    pub(crate) fn bare(indicator: String) -> Parsed<'static> {
        Parsed {
            indicator,
            address: None,
            family: None,
            port: None,
            first_seen: None,
            last_seen: None,
        }
    }
}

/// Why a line was rejected: a stable reason and a detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reject {
    pub(crate) reason: &'static str,
    pub(crate) detail: String,
}

impl Reject {
    pub(crate) fn new(reason: &'static str, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }
}

/// 0-based column positions of the fields a layout reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Columns {
    pub(crate) ip: Option<usize>,
    pub(crate) url: Option<usize>,
    pub(crate) name: Option<usize>,
    pub(crate) address: Option<usize>,
    pub(crate) family: Option<usize>,
    pub(crate) port: Option<usize>,
    pub(crate) first_seen: Option<usize>,
    pub(crate) last_seen: Option<usize>,
}

impl Columns {
    fn max(&self) -> usize {
        [
            self.ip,
            self.url,
            self.name,
            self.address,
            self.family,
            self.port,
            self.first_seen,
            self.last_seen,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0)
    }
}

/// A delimited layout.
#[derive(Debug, Clone)]
pub(crate) struct RowLayout {
    pub(crate) delim: Delim,
    pub(crate) quote: Option<u8>,
    pub(crate) cols: Columns,
    pub(crate) target: Target,
    pub(crate) first_fmt: TimeFormat,
    pub(crate) last_fmt: TimeFormat,
    /// A family for every row (mapping files: `[constants] family`).
    pub(crate) family_const: Option<String>,
}

impl RowLayout {
    /// Reads one data line. `fields` is scratch space reused across lines.
    pub(crate) fn parse<'a>(
        &'a self,
        line: &'a str,
        fields: &mut Vec<Field>,
    ) -> Result<Parsed<'a>, Reject> {
        split_fields(line, self.delim, self.quote, fields)
            .map_err(|e| Reject::new("bad-csv", e))?;
        let need = self.cols.max() + 1;
        if fields.len() < need {
            return Err(Reject::new(
                "missing-field",
                format!("{} fields, the layout needs at least {need}", fields.len()),
            ));
        }
        let get = |c: Option<usize>| {
            c.and_then(|i| fields.get(i))
                .map(|f| f.text(line, self.quote))
        };
        let (indicator, address) = match self.target {
            // An IP listing may name an address it points to: for a bot,
            // the C&C server it was seen talking to (drone reports' `cc`).
            Target::Ip => (
                ip(&get(self.cols.ip).unwrap_or_default())?,
                match get(self.cols.address).filter(|a| !a.trim().is_empty()) {
                    Some(a) => Some(ip(&a)?),
                    None => None,
                },
            ),
            Target::Url => (url(&get(self.cols.url).unwrap_or_default())?, None),
            Target::Net => (net(&get(self.cols.ip).unwrap_or_default())?, None),
            Target::Pdns => (
                dns_name(&get(self.cols.name).unwrap_or_default())?,
                Some(ip(&get(self.cols.address).unwrap_or_default())?),
            ),
        };
        let family = match self.family_const.as_deref() {
            Some(f) => Some(std::borrow::Cow::Borrowed(f)),
            None => get(self.cols.family).filter(|f| !f.is_empty()),
        };
        let port = match get(self.cols.port) {
            Some(p) => port(&p)?,
            None => None,
        };
        let time = |c: Option<usize>, f: &TimeFormat| match get(c) {
            Some(v) => f.parse(&v).map_err(|e| Reject::new("bad-time", e)),
            None => Ok(None),
        };
        Ok(Parsed {
            indicator,
            address,
            family,
            port,
            first_seen: time(self.cols.first_seen, &self.first_fmt)?,
            last_seen: time(self.cols.last_seen, &self.last_fmt)?,
        })
    }
}

/// An IP address in its canonical text form.
pub(crate) fn ip(s: &str) -> Result<String, Reject> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Reject::new("missing-field", "empty IP address"));
    }
    match s.parse::<IpAddr>() {
        // The IPv4 parser accepts only the canonical dotted quad (no
        // leading zeros, no short forms), so the text is already canonical:
        // copy it rather than format it again.
        Ok(IpAddr::V4(_)) => Ok(s.to_string()),
        Ok(a) => Ok(a.to_string()),
        Err(_) => Err(Reject::new(
            "bad-ip",
            format!("not an IP address: {:?}", clip(s)),
        )),
    }
}

/// A port number; empty is `None`.
pub(crate) fn port(s: &str) -> Result<Option<u16>, Reject> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<u16>()
        .map(Some)
        .map_err(|_| Reject::new("bad-port", format!("not a port: {:?}", clip(s))))
}

/// A URL as listed (trimmed): it must have a scheme and a host and no
/// blanks or control characters. It is not rewritten: the listing is
/// evidence, and the mail side extracts and normalises hosts itself.
pub(crate) fn url(s: &str) -> Result<String, Reject> {
    let s = s.trim();
    let bad = |why: &str| Reject::new("bad-url", format!("{why}: {:?}", clip(s)));
    if s.is_empty() {
        return Err(Reject::new("missing-field", "empty URL"));
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(bad("no scheme"));
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
    {
        return Err(bad("bad scheme"));
    }
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..host_end).unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(bad("no host"));
    }
    if s.bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(bad("blank or control character"));
    }
    Ok(s.to_string())
}

/// A DNS name, lowercased, without a trailing dot.
pub(crate) fn dns_name(s: &str) -> Result<String, Reject> {
    let s = s.trim().trim_end_matches('.');
    if s.is_empty() {
        return Err(Reject::new("missing-field", "empty DNS name"));
    }
    let ok = s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'*')
        });
    if !ok {
        return Err(Reject::new(
            "bad-name",
            format!("not a DNS name: {:?}", clip(s)),
        ));
    }
    Ok(s.to_ascii_lowercase())
}

/// A network: `AS64500` (or `as64500`), a CIDR (host bits cleared), or an
/// address (as a host prefix).
pub(crate) fn net(s: &str) -> Result<String, Reject> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Reject::new("missing-field", "empty network"));
    }
    if let Some(n) = s.strip_prefix("AS").or_else(|| s.strip_prefix("as")) {
        return n
            .parse::<u32>()
            .map(|n| format!("AS{n}"))
            .map_err(|_| Reject::new("bad-asn", format!("not an AS number: {:?}", clip(s))));
    }
    if let Ok(p) = s.parse::<ipnet::IpNet>() {
        return Ok(p.trunc().to_string());
    }
    if let Ok(a) = s.parse::<IpAddr>() {
        return Ok(ipnet::IpNet::from(a).to_string());
    }
    Err(Reject::new(
        "bad-cidr",
        format!("not a CIDR, address or AS number: {:?}", clip(s)),
    ))
}

/// The start of a value for an error message (never the whole of a huge one).
pub(crate) fn clip(s: &str) -> &str {
    let mut end = s.len().min(80);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_canonical() {
        assert_eq!(ip(" 010.1.2.3").map_err(|e| e.reason), Err("bad-ip"));
        assert_eq!(ip("2001:DB8::1").unwrap(), "2001:db8::1");
        assert_eq!(port("443").unwrap(), Some(443));
        assert_eq!(port("").unwrap(), None);
        assert_eq!(port("70000").map_err(|e| e.reason), Err("bad-port"));
        assert!(url("http://a.example/x?y=1").is_ok());
        assert!(url("https://user@host:8080").is_ok());
        assert_eq!(url("a.example/x").map_err(|e| e.reason), Err("bad-url"));
        assert_eq!(url("http:///x").map_err(|e| e.reason), Err("bad-url"));
        assert_eq!(url("http://a b/").map_err(|e| e.reason), Err("bad-url"));
        assert_eq!(dns_name("WWW.Example.COM.").unwrap(), "www.example.com");
        assert_eq!(dns_name("a..b").map_err(|e| e.reason), Err("bad-name"));
        assert_eq!(net("1.10.16.5/20").unwrap(), "1.10.16.0/20");
        assert_eq!(net("AS612").unwrap(), "AS612");
        assert_eq!(net("2a09:9f00::/29").unwrap(), "2a09:9f00::/29");
        assert_eq!(net("9.9.9.9").unwrap(), "9.9.9.9/32");
        assert_eq!(net("ASX").map_err(|e| e.reason), Err("bad-asn"));
        assert_eq!(net("1.2.3/8").map_err(|e| e.reason), Err("bad-cidr"));
    }

    #[test]
    fn clip_respects_char_boundaries() {
        let s = "é".repeat(100);
        assert!(clip(&s).len() <= 80);
    }
}
