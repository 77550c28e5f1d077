//! The built-in feed formats: their names, what they list, how to detect
//! them from a file's first lines, and their column layouts. Each layout
//! follows the publisher's documented columns (see the README table of
//! this crate for sources); when the file carries a header, columns are
//! found by name, so a publisher adding a column does not break reading.

use super::FeedKind;
use super::lines::{Delim, Field, split_fields};
use super::row::{Columns, RowLayout, Target};
use super::timefmt::TimeFormat;

/// A built-in feed format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The simulator's `feeds/*.csv`: `ip,port,family,first_seen,last_seen`
    /// (cc), `url,first_seen,tag` (urls), `name,address,first_seen,last_seen`
    /// (pdns), `ip,family,first_seen,last_seen[,cc]` (bots; `cc`, when
    /// present and not empty, the C&C server the bot was seen talking to).
    Depeer,
    /// abuse.ch Feodo Tracker IP blocklist, CSV:
    /// `first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware`.
    FeodoCsv,
    /// abuse.ch Feodo Tracker IP blocklist, JSON array of objects.
    FeodoJson,
    /// abuse.ch URLhaus CSV dump:
    /// `id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter`.
    UrlhausCsv,
    /// PhishTank CSV: `phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target`.
    PhishtankCsv,
    /// OpenPhish: one URL a line.
    Openphish,
    /// Passive DNS Common Output Format, JSON lines.
    Cof,
    /// Spamhaus DROP / EDROP text: `CIDR ; SBLnnn`, `;` comments (also the
    /// ASN-DROP text `ASnnn ; CC | NAME`, and mirrors that keep only the CIDR).
    DropText,
    /// Spamhaus `drop_v4.json` / `drop_v6.json` JSON lines.
    DropJson,
    /// Spamhaus `asndrop.json` JSON lines.
    AsndropJson,
}

impl Format {
    /// Every built-in format.
    pub const ALL: [Format; 10] = [
        Format::Depeer,
        Format::FeodoCsv,
        Format::FeodoJson,
        Format::UrlhausCsv,
        Format::PhishtankCsv,
        Format::Openphish,
        Format::Cof,
        Format::DropText,
        Format::DropJson,
        Format::AsndropJson,
    ];

    /// The name used on the command line (`--format`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Depeer => "depeer",
            Format::FeodoCsv => "feodo-csv",
            Format::FeodoJson => "feodo-json",
            Format::UrlhausCsv => "urlhaus-csv",
            Format::PhishtankCsv => "phishtank-csv",
            Format::Openphish => "openphish",
            Format::Cof => "cof",
            Format::DropText => "drop-text",
            Format::DropJson => "drop-json",
            Format::AsndropJson => "asndrop-json",
        }
    }

    /// The source name used when none is given.
    pub fn default_source(self) -> &'static str {
        match self {
            Format::Depeer => "depeer-sim",
            Format::FeodoCsv | Format::FeodoJson => "abuse.ch-feodotracker",
            Format::UrlhausCsv => "abuse.ch-urlhaus",
            Format::PhishtankCsv => "phishtank",
            Format::Openphish => "openphish",
            Format::Cof => "passive-dns",
            Format::DropText | Format::DropJson => "spamhaus-drop",
            Format::AsndropJson => "spamhaus-asndrop",
        }
    }

    /// The kind a file of this format lists when none is given (`depeer`
    /// files say it in their header; this is its C&C default).
    pub fn default_kind(self) -> FeedKind {
        match self {
            Format::Depeer | Format::FeodoCsv | Format::FeodoJson => FeedKind::Cnc,
            Format::UrlhausCsv | Format::PhishtankCsv | Format::Openphish => FeedKind::Url,
            Format::Cof => FeedKind::Pdns,
            Format::DropText | Format::DropJson | Format::AsndropJson => FeedKind::Net,
        }
    }

    /// Comment prefixes of the format.
    pub(crate) fn comment_prefixes(self) -> &'static [&'static str] {
        match self {
            Format::DropText => &[";", "#"],
            Format::Cof | Format::DropJson | Format::AsndropJson | Format::FeodoJson => &[],
            _ => &["#"],
        }
    }

    /// Header names of the CSV formats, in the publisher's order.
    pub(crate) fn header_names(self) -> &'static [&'static str] {
        match self {
            Format::FeodoCsv => &[
                "first_seen_utc",
                "dst_ip",
                "dst_port",
                "c2_status",
                "last_online",
                "malware",
            ],
            Format::UrlhausCsv => &[
                "id",
                "dateadded",
                "url",
                "url_status",
                "last_online",
                "threat",
                "tags",
                "urlhaus_link",
                "reporter",
            ],
            Format::PhishtankCsv => &[
                "phish_id",
                "url",
                "phish_detail_url",
                "submission_time",
                "verified",
                "verification_time",
                "online",
                "target",
            ],
            _ => &[],
        }
    }
}

named_enum!(Format, name, "feed format");

/// The built-in format names, comma-separated.
pub(crate) fn all_names() -> String {
    Format::ALL.map(Format::name).join(", ")
}

/// The header names of a line, if it is a plausible header: fields with
/// quotes, blanks and a leading `#` removed, lowercased.
pub(crate) fn header_fields(line: &str) -> Vec<String> {
    let body = line.trim_start().trim_start_matches('#').trim();
    let mut f: Vec<Field> = Vec::new();
    if split_fields(body, Delim::Byte(b','), Some(b'"'), &mut f).is_err() {
        return Vec::new();
    }
    f.iter()
        .map(|x| x.text(body, Some(b'"')).trim().to_ascii_lowercase())
        .collect()
}

/// Whether `names` is the header of `format` (the publisher's columns, as
/// a prefix: extra trailing columns are tolerated).
pub(crate) fn is_header_of(format: Format, names: &[String]) -> bool {
    let want = format.header_names();
    !want.is_empty() && names.len() >= want.len() && want.iter().zip(names).all(|(w, n)| w == n)
}

/// The simulator's layouts, recognised by their header names.
pub(crate) fn depeer_layout(names: &[String]) -> Option<(RowLayout, FeedKind)> {
    let pos = |n: &str| names.iter().position(|h| h == n);
    let mut cols = Columns {
        family: pos("family"),
        port: pos("port"),
        first_seen: pos("first_seen"),
        last_seen: pos("last_seen"),
        ..Columns::default()
    };
    let (target, kind) = if let Some(i) = pos("url") {
        cols.url = Some(i);
        (Target::Url, FeedKind::Url)
    } else if let (Some(n), Some(a)) = (pos("name"), pos("address")) {
        cols.name = Some(n);
        cols.address = Some(a);
        (Target::Pdns, FeedKind::Pdns)
    } else if let Some(i) = pos("ip") {
        cols.ip = Some(i);
        let kind = if cols.port.is_some() {
            FeedKind::Cnc
        } else {
            // A bot list may say which C&C server each bot talked to.
            cols.address = pos("cc");
            FeedKind::Bots
        };
        (Target::Ip, kind)
    } else {
        return None;
    };
    Some((csv_layout(cols, target), kind))
}

fn csv_layout(cols: Columns, target: Target) -> RowLayout {
    RowLayout {
        delim: Delim::Byte(b','),
        quote: Some(b'"'),
        cols,
        target,
        first_fmt: TimeFormat::Auto,
        last_fmt: TimeFormat::Auto,
        family_const: None,
    }
}

/// The layout of a built-in CSV format; `names` (a header found in the
/// file) places the columns by name, else the documented positions apply.
pub(crate) fn builtin_layout(format: Format, names: Option<&[String]>) -> Option<RowLayout> {
    let spec: &[(&str, usize)] = match format {
        Format::FeodoCsv => &[
            ("dst_ip", 1),
            ("dst_port", 2),
            ("malware", 5),
            ("first_seen_utc", 0),
            ("last_online", 4),
        ],
        Format::UrlhausCsv => &[("url", 2), ("dateadded", 1), ("last_online", 4)],
        Format::PhishtankCsv => &[("url", 1), ("submission_time", 3)],
        _ => return None,
    };
    let at = |name: &str, default: usize| -> usize {
        names
            .and_then(|n| n.iter().position(|h| h == name))
            .unwrap_or(default)
    };
    let mut cols = Columns::default();
    let target = match format {
        Format::FeodoCsv => {
            let [ip, port, fam, first, last] = spec else {
                return None;
            };
            cols.ip = Some(at(ip.0, ip.1));
            cols.port = Some(at(port.0, port.1));
            cols.family = Some(at(fam.0, fam.1));
            cols.first_seen = Some(at(first.0, first.1));
            cols.last_seen = Some(at(last.0, last.1));
            Target::Ip
        }
        Format::UrlhausCsv => {
            let [url, first, last] = spec else {
                return None;
            };
            cols.url = Some(at(url.0, url.1));
            cols.first_seen = Some(at(first.0, first.1));
            cols.last_seen = Some(at(last.0, last.1));
            Target::Url
        }
        _ => {
            let [url, first] = spec else {
                return None;
            };
            cols.url = Some(at(url.0, url.1));
            cols.first_seen = Some(at(first.0, first.1));
            Target::Url
        }
    };
    Some(csv_layout(cols, target))
}

/// What the first lines of a file say about its format: `comments` are the
/// comment lines before the first data line, `data` that line and the few
/// after it.
pub(crate) fn detect(comments: &[&str], data: &[&str]) -> Option<Format> {
    let first = data.first().map(|s| s.trim()).unwrap_or("");
    for line in comments.iter().chain(data.first()) {
        let names = header_fields(line);
        for f in [Format::FeodoCsv, Format::UrlhausCsv, Format::PhishtankCsv] {
            if is_header_of(f, &names) {
                return Some(f);
            }
        }
    }
    if first.starts_with('{') || first.starts_with('[') {
        let text = data.join("\n");
        let has = |k: &str| text.contains(&format!("\"{k}\""));
        return if has("rrname") {
            Some(Format::Cof)
        } else if has("ip_address") {
            Some(Format::FeodoJson)
        } else if has("cidr") {
            Some(Format::DropJson)
        } else if has("asn") && has("asname") {
            Some(Format::AsndropJson)
        } else if first.starts_with('[') {
            Some(Format::FeodoJson)
        } else {
            None
        };
    }
    if depeer_layout(&header_fields(first)).is_some() && !first.starts_with('#') {
        return Some(Format::Depeer);
    }
    let lower = first.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Some(Format::Openphish);
    }
    let token = first.split([';', ' ', '\t']).next().unwrap_or("");
    if super::row::net(token).is_ok() {
        return Some(Format::DropText);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_from_first_lines() {
        let feodo_c = [
            "#",
            "# first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware",
        ];
        assert_eq!(
            detect(
                &feodo_c,
                &["2021-01-17 07:30:05,1.2.3.4,443,online,2021-08-18,Dridex"]
            ),
            Some(Format::FeodoCsv)
        );
        let feodo_q = r#""first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware""#;
        assert_eq!(detect(&["# x"], &[feodo_q]), Some(Format::FeodoCsv));
        assert_eq!(
            detect(
                &["# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter"],
                &[
                    r#""1","2024-01-15 00:00:00","http://x/","online","","malware_download","","","""#
                ]
            ),
            Some(Format::UrlhausCsv)
        );
        assert_eq!(
            detect(
                &[],
                &[
                    "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target"
                ]
            ),
            Some(Format::PhishtankCsv)
        );
        assert_eq!(
            detect(&[], &["ip,port,family,first_seen,last_seen"]),
            Some(Format::Depeer)
        );
        assert_eq!(
            detect(&[], &["name,address,first_seen,last_seen"]),
            Some(Format::Depeer)
        );
        assert_eq!(
            detect(&[], &["https://a.example/x"]),
            Some(Format::Openphish)
        );
        assert_eq!(
            detect(&["; Spamhaus DROP"], &["1.10.16.0/20 ; SBL256894"]),
            Some(Format::DropText)
        );
        assert_eq!(detect(&[], &["AS612 "]), Some(Format::DropText));
        assert_eq!(
            detect(
                &[],
                &[r#"{"rrname":"a.example","rrtype":"A","rdata":"1.2.3.4"}"#]
            ),
            Some(Format::Cof)
        );
        assert_eq!(
            detect(
                &[],
                &[r#"{"cidr":"1.10.16.0/20","sblid":"SBL1","rir":"apnic"}"#]
            ),
            Some(Format::DropJson)
        );
        assert_eq!(
            detect(
                &[],
                &[r#"{"asn":932,"rir":"arin","domain":"xn.net","cc":"US","asname":"XNNET"}"#]
            ),
            Some(Format::AsndropJson)
        );
        assert_eq!(
            detect(&[], &["[", "    {", r#"        "ip_address": "1.2.3.4","#]),
            Some(Format::FeodoJson)
        );
        assert_eq!(detect(&[], &["hello,world"]), None);
        assert_eq!(detect(&[], &[]), None);
    }

    #[test]
    fn layouts_follow_headers() {
        let names: Vec<String> = [
            "dst_ip",
            "first_seen_utc",
            "dst_port",
            "c2_status",
            "last_online",
            "malware",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let l = builtin_layout(Format::FeodoCsv, Some(&names)).unwrap();
        assert_eq!((l.cols.ip, l.cols.first_seen), (Some(0), Some(1)));
        let l = builtin_layout(Format::FeodoCsv, None).unwrap();
        assert_eq!((l.cols.ip, l.cols.first_seen), (Some(1), Some(0)));
        let (_, k) = depeer_layout(&header_fields("ip,family,first_seen,last_seen")).unwrap();
        assert_eq!(k, FeedKind::Bots);
        let (l, k) = depeer_layout(&header_fields("ip,family,first_seen,last_seen,cc")).unwrap();
        assert_eq!((k, l.cols.address), (FeedKind::Bots, Some(4)));
    }
}
