//! The JSON feed formats.
//!
//! - `cof`: passive DNS Common Output Format (draft-dulaunoy-dnsop-passive-dns-cof),
//!   one JSON object a line with `rrname`, `rrtype`, `rdata` (a string or an
//!   array of strings), `time_first`, `time_last` (Unix seconds) and an
//!   optional `count`. Address records (A, AAAA) become one entry per
//!   address; other types are counted as skipped (they map no name to an
//!   address).
//! - `drop-json`: Spamhaus `drop_v4.json` / `drop_v6.json`, one
//!   `{"cidr","sblid","rir"}` a line, and a last line
//!   `{"type":"metadata","timestamp",...}`.
//! - `asndrop-json`: Spamhaus `asndrop.json`, one
//!   `{"asn","rir","domain","cc","asname"}` a line, same metadata line.
//! - `feodo-json`: abuse.ch Feodo Tracker `ipblocklist.json`, a JSON array
//!   (pretty-printed over many lines) of `{"ip_address","port","status",
//!   "hostname","as_number","as_name","country","first_seen","last_online",
//!   "malware"}`. [`ArrayFramer`] cuts it into objects while it streams,
//!   string- and escape-aware, so the file is never held whole and each
//!   object keeps the line it starts on.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use super::row::{Parsed, Reject, dns_name, ip, net, port};
use super::timefmt::TimeFormat;

/// What one JSON record gave.
#[derive(Debug)]
pub(crate) enum JsonOut {
    /// Zero or more entries.
    Entries(Vec<Parsed<'static>>),
    /// The publisher's metadata record (Spamhaus' last line).
    Metadata,
    /// A well-formed record that maps to no entry (e.g. a COF MX record).
    Skipped,
}

fn bad_json(e: &serde_json::Error) -> Reject {
    Reject::new("bad-json", format!("invalid JSON: {e}"))
}

fn is_metadata(v: &serde_json::Map<String, Value>) -> bool {
    v.get("type").and_then(Value::as_str) == Some("metadata")
}

/// A data record's object; `None` for the publisher's metadata record.
fn record(text: &str) -> Result<Option<serde_json::Map<String, Value>>, Reject> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok((!is_metadata(&m)).then_some(m)),
        Ok(_) => Err(Reject::new("bad-json", "not a JSON object")),
        Err(e) => Err(bad_json(&e)),
    }
}

/// A string field the record must have.
fn required<'m>(m: &'m serde_json::Map<String, Value>, key: &str) -> Result<&'m str, Reject> {
    m.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| Reject::new("missing-field", format!("no \"{key}\"")))
}

/// A string or number field as text (publishers are not consistent).
fn text_of(v: Option<&Value>) -> Option<Cow<'_, str>> {
    match v? {
        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

fn unix(v: Option<&Value>, what: &str) -> Result<Option<depeer_core::Timestamp>, Reject> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(|s| Some(depeer_core::Timestamp::from_secs(s)))
            .ok_or_else(|| Reject::new("bad-time", format!("{what}: not Unix seconds: {n}"))),
        Some(Value::String(s)) => TimeFormat::Auto
            .parse(s)
            .map_err(|e| Reject::new("bad-time", format!("{what}: {e}"))),
        Some(o) => Err(Reject::new("bad-time", format!("{what}: not a time: {o}"))),
    }
}

/// One COF record.
#[derive(Deserialize)]
struct Cof {
    rrname: String,
    rrtype: String,
    rdata: Value,
    #[serde(default)]
    time_first: Option<Value>,
    #[serde(default)]
    time_last: Option<Value>,
}

pub(crate) fn cof(line: &str) -> Result<JsonOut, Reject> {
    let r: Cof = serde_json::from_str(line).map_err(|e| bad_json(&e))?;
    let name = dns_name(&r.rrname)?;
    let first = unix(r.time_first.as_ref(), "time_first")?;
    let last = unix(r.time_last.as_ref(), "time_last")?;
    if !r.rrtype.eq_ignore_ascii_case("A") && !r.rrtype.eq_ignore_ascii_case("AAAA") {
        return Ok(JsonOut::Skipped);
    }
    let values: Vec<&str> = match &r.rdata {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => {
            return Err(Reject::new(
                "bad-json",
                "rdata is neither a string nor an array",
            ));
        }
    };
    if values.is_empty() {
        return Err(Reject::new("missing-field", "rdata is empty"));
    }
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        out.push(Parsed {
            indicator: name.clone(),
            address: Some(ip(v)?),
            family: None,
            port: None,
            first_seen: first,
            last_seen: last,
        });
    }
    Ok(JsonOut::Entries(out))
}

pub(crate) fn drop_json(line: &str) -> Result<JsonOut, Reject> {
    let Some(m) = record(line)? else {
        return Ok(JsonOut::Metadata);
    };
    let cidr = required(&m, "cidr")?;
    Ok(JsonOut::Entries(vec![Parsed::bare(net(cidr)?)]))
}

pub(crate) fn asndrop_json(line: &str) -> Result<JsonOut, Reject> {
    let Some(m) = record(line)? else {
        return Ok(JsonOut::Metadata);
    };
    let asn = text_of(m.get("asn")).ok_or_else(|| Reject::new("missing-field", "no \"asn\""))?;
    let asn = if asn.starts_with("AS") || asn.starts_with("as") {
        asn.into_owned()
    } else {
        format!("AS{asn}")
    };
    Ok(JsonOut::Entries(vec![Parsed::bare(net(&asn)?)]))
}

pub(crate) fn feodo_object(text: &str) -> Result<JsonOut, Reject> {
    let Some(m) = record(text)? else {
        return Ok(JsonOut::Metadata);
    };
    let addr = required(&m, "ip_address")?;
    let p = match text_of(m.get("port")) {
        Some(p) => port(&p)?,
        None => None,
    };
    let family = m
        .get("malware")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(|s| Cow::Owned(s.to_string()));
    Ok(JsonOut::Entries(vec![Parsed {
        indicator: ip(addr)?,
        address: None,
        family,
        port: p,
        first_seen: unix(m.get("first_seen"), "first_seen")?,
        last_seen: unix(m.get("last_online"), "last_online")?,
    }]))
}

/// A complete top-level object cut out of the stream, or a framing error.
#[derive(Debug)]
pub(crate) struct Framed {
    /// Line and byte offset where the object starts.
    pub(crate) line: u64,
    pub(crate) offset: u64,
    pub(crate) bytes: Vec<u8>,
    /// Set when the object was too large (bytes is its start) or the text
    /// outside objects was not JSON.
    pub(crate) error: Option<&'static str>,
}

/// Cuts JSON objects out of a stream fed line by line: the elements of a
/// top-level array, or bare objects one after another (JSON lines).
#[derive(Debug, Default)]
pub(crate) struct ArrayFramer {
    depth: u32,
    /// Depth at which the current object started (1 inside the array, 0 bare).
    base: u32,
    in_object: bool,
    in_string: bool,
    escape: bool,
    cur: Vec<u8>,
    start: (u64, u64),
    oversize: bool,
    max: usize,
}

impl ArrayFramer {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            ..Self::default()
        }
    }

    /// Feeds one piece of a line (without its newline; `line_end` when the
    /// piece ends the line); completed objects go to `out`.
    pub(crate) fn push_line(
        &mut self,
        line: &[u8],
        number: u64,
        offset: u64,
        line_end: bool,
        out: &mut Vec<Framed>,
    ) {
        let mut stray = false;
        for (i, &b) in line.iter().enumerate() {
            if self.in_object {
                self.keep(b);
                if self.in_string {
                    if self.escape {
                        self.escape = false;
                    } else if b == b'\\' {
                        self.escape = true;
                    } else if b == b'"' {
                        self.in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth == self.base {
                            out.push(self.finish());
                        }
                    }
                    _ => {}
                }
                continue;
            }
            match b {
                b'{' => {
                    self.in_object = true;
                    self.base = self.depth;
                    self.depth += 1;
                    self.cur.clear();
                    self.oversize = false;
                    self.start = (number, offset + i as u64);
                    self.keep(b);
                }
                b'[' if self.depth == 0 => self.depth = 1,
                b']' if self.depth == 1 => self.depth = 0,
                b',' | b' ' | b'\t' | b'\r' => {}
                _ => stray = true,
            }
        }
        if self.in_object && line_end {
            self.keep(b'\n');
        }
        if stray {
            out.push(Framed {
                line: number,
                offset,
                bytes: line.to_vec(),
                error: Some("text outside a JSON object"),
            });
        }
    }

    /// At the end of input: an unfinished object, if any.
    pub(crate) fn finish_input(&mut self) -> Option<Framed> {
        if !self.in_object {
            return None;
        }
        let mut f = self.finish();
        f.error = Some("the JSON object is not closed at the end of the input");
        Some(f)
    }

    fn keep(&mut self, b: u8) {
        if self.cur.len() < self.max {
            self.cur.push(b);
        } else {
            self.oversize = true;
        }
    }

    fn finish(&mut self) -> Framed {
        self.in_object = false;
        self.in_string = false;
        self.escape = false;
        Framed {
            line: self.start.0,
            offset: self.start.1,
            bytes: std::mem::take(&mut self.cur),
            error: self
                .oversize
                .then_some("JSON object longer than the record cap"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &str) -> Vec<Framed> {
        let mut f = ArrayFramer::new(1 << 16);
        let mut out = Vec::new();
        let mut off = 0;
        for (n, line) in text.split('\n').enumerate() {
            f.push_line(line.as_bytes(), n as u64 + 1, off, true, &mut out);
            off += line.len() as u64 + 1;
        }
        out.extend(f.finish_input());
        out
    }

    #[test]
    fn framer_cuts_pretty_printed_arrays_and_json_lines() {
        let text = "[\n    {\n        \"ip_address\": \"1.2.3.4\",\n        \"note\": \"a } in a \\\" string\",\n        \"nested\": {\"x\": [1, 2]}\n    },\n    {\"ip_address\": \"5.6.7.8\"}\n]\n";
        let out = frame(text);
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].line, out[0].error), (2, None));
        assert_eq!(
            (out[1].line, out[1].offset),
            (7, text.find("{\"ip_address\": \"5").unwrap() as u64)
        );
        let v: Value = serde_json::from_slice(&out[0].bytes).unwrap();
        assert_eq!(v["nested"]["x"][1], 2);
        let out = frame("{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(out.len(), 2);
        let out = frame("[\n{\"a\":1},\ngarbage\n{\"a\":");
        assert_eq!(out.len(), 3);
        assert_eq!(out[1].error, Some("text outside a JSON object"));
        assert!(out[2].error.unwrap().contains("not closed"));
    }

    #[test]
    fn cof_records() {
        let JsonOut::Entries(e) = cof(r#"{"count":5,"time_first":1226440000,"rrtype":"A","rrname":"Www.Example.com.","rdata":["192.0.2.1","192.0.2.2"],"time_last":1226450000}"#).unwrap() else { panic!() };
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].indicator, "www.example.com");
        assert_eq!(e[1].address.as_deref(), Some("192.0.2.2"));
        assert_eq!(
            e[0].first_seen,
            Some(depeer_core::Timestamp::from_secs(1_226_440_000))
        );
        assert!(matches!(
            cof(r#"{"rrtype":"MX","rrname":"example.com","rdata":"10 mx.example.com"}"#).unwrap(),
            JsonOut::Skipped
        ));
        assert_eq!(
            cof(r#"{"rrtype":"A","rrname":"example.com","rdata":"mx"}"#)
                .unwrap_err()
                .reason,
            "bad-ip"
        );
        assert_eq!(
            cof(r#"{"rrtype":"A","rdata":"1.2.3.4"}"#)
                .unwrap_err()
                .reason,
            "bad-json"
        );
    }

    #[test]
    fn spamhaus_json() {
        let JsonOut::Entries(e) =
            drop_json(r#"{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(e[0].indicator, "1.10.16.0/20");
        assert!(matches!(
            drop_json(r#"{"type":"metadata","timestamp":1709006105,"size":17905,"records":201}"#)
                .unwrap(),
            JsonOut::Metadata
        ));
        let JsonOut::Entries(e) = asndrop_json(
            r#"{"asn":932,"rir":"arin","domain":"xn.net","cc":"US","asname":"XNNET"}"#,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(e[0].indicator, "AS932");
        assert_eq!(
            drop_json(r#"{"sblid":"SBL1"}"#).unwrap_err().reason,
            "missing-field"
        );
    }

    #[test]
    fn feodo_objects() {
        let JsonOut::Entries(e) = feodo_object(r#"{"ip_address":"192.0.2.10","port":443,"status":"online","hostname":null,"as_number":64500,"as_name":"EXAMPLE-AS","country":"US","first_seen":"2026-04-01 09:00:00","last_online":"2026-04-02","malware":"Emotet"}"#).unwrap() else { panic!() };
        assert_eq!(e[0].indicator, "192.0.2.10");
        assert_eq!(e[0].port, Some(443));
        assert_eq!(e[0].family.as_deref(), Some("Emotet"));
        assert_eq!(
            e[0].last_seen,
            depeer_core::Timestamp::parse("2026-04-02").ok()
        );
    }
}
