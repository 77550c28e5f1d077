//! The C&C and URL feeds once more, in the layouts abuse.ch publishes
//! them: the Feodo Tracker IP blocklist CSV (`feeds/feodo-ipblocklist.csv`)
//! and the URLhaus CSV dump (`feeds/urlhaus.csv`), so that `depeer ingest
//! feed` reads the simulator's feeds through its detection of real
//! layouts too.
//!
//! Same listings, same order as `feeds/cc.csv` and `feeds/urls.csv`, one
//! row each; nothing random is drawn, so the other outputs do not change.
//! What the abuse.ch layouts have and depeer's do not is derived: a C&C
//! is `online` when it is still listed on the world's last day, its
//! `last_online` is that day's date; a URL's `id` is its row number from
//! 1, its status `online`, its `last_online` empty, its threat
//! `malware_download` (URLhaus's only one) and its tag depeer's.
//!
//! Both formats quote every field (a `"` inside doubled) and open with a
//! `#` comment block; the Feodo file ends with `# Number of entries: N`.

use std::path::{Path, PathBuf};

use crate::SimError;
use crate::outfile::OutFile;
use crate::timefmt::iso;

/// `2008-11-11T21:30:00Z` as abuse.ch writes it: `2008-11-11 21:30:00`.
fn abusech_time(t: &str) -> String {
    t.trim_end_matches('Z').replacen('T', " ", 1)
}

/// Appends `"a","b",...` and a newline.
fn push_quoted(buf: &mut Vec<u8>, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.push(b'"');
        for &b in f.as_bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    }
    buf.push(b'\n');
}

fn banner(buf: &mut Vec<u8>, title: &str, updated: &str, terms: &str, contact: &str) {
    let line = |buf: &mut Vec<u8>, text: &str| {
        buf.extend_from_slice(format!("# {text:<61}#\n").as_bytes());
    };
    let rule = "#".repeat(64);
    buf.extend_from_slice(rule.as_bytes());
    buf.push(b'\n');
    line(buf, title);
    line(buf, &format!("Last updated: {updated}"));
    line(buf, "");
    line(buf, &format!("Terms Of Use: {terms}"));
    line(
        buf,
        &format!("For questions please contact {contact} [at] abuse.ch"),
    );
    buf.extend_from_slice(rule.as_bytes());
    buf.extend_from_slice(b"\n#\n");
}

fn write(path: &Path, gzip: bool, buf: &[u8]) -> Result<(PathBuf, u64), SimError> {
    let mut out = OutFile::create(path, gzip)?;
    out.write(buf)?;
    out.finish()
}

/// Writes the Feodo Tracker CSV from the sorted rows of `feeds/cc.csv`
/// (`ip,port,family,first_seen,last_seen`); `end` is the world's end.
pub(crate) fn write_feodo(
    path: &Path,
    gzip: bool,
    end: i64,
    rows: &[(i64, String)],
) -> Result<(PathBuf, u64), SimError> {
    let mut buf = Vec::with_capacity(256 + rows.len() * 80);
    banner(
        &mut buf,
        "abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)",
        &format!("{} UTC", abusech_time(&iso(end))),
        "https://feodotracker.abuse.ch/blocklist/",
        "feodotracker",
    );
    push_quoted(
        &mut buf,
        &[
            "first_seen_utc",
            "dst_ip",
            "dst_port",
            "c2_status",
            "last_online",
            "malware",
        ],
    );
    let last_day = iso(end - 86_400);
    let mut n = 0usize;
    for (_, r) in rows {
        let c: Vec<&str> = r.split(',').collect();
        let [ip, port, family, first, last] = c.as_slice() else {
            continue;
        };
        let status = if *last >= last_day.as_str() {
            "online"
        } else {
            "offline"
        };
        let first = abusech_time(first);
        let last = last.get(..10).unwrap_or(last);
        push_quoted(&mut buf, &[&first, ip, port, status, last, family]);
        n += 1;
    }
    buf.extend_from_slice(format!("# Number of entries: {n}\n").as_bytes());
    write(path, gzip, &buf)
}

/// Writes the URLhaus CSV from the sorted rows of `feeds/urls.csv`
/// (`url,first_seen,tag`); `end` is the world's end.
pub(crate) fn write_urlhaus(
    path: &Path,
    gzip: bool,
    end: i64,
    rows: &[(i64, String)],
) -> Result<(PathBuf, u64), SimError> {
    let mut buf = Vec::with_capacity(256 + rows.len() * 160);
    banner(
        &mut buf,
        "abuse.ch URLhaus Database Dump (CSV - recent URLs)",
        &format!("{} (UTC)", abusech_time(&iso(end))),
        "https://urlhaus.abuse.ch/api/",
        "urlhaus",
    );
    buf.extend_from_slice(
        b"# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n",
    );
    let mut id = 0u64;
    for (_, r) in rows {
        // The URL itself may hold a comma: the time and tag are the last two.
        let mut c = r.rsplitn(3, ',');
        let (Some(tag), Some(first), Some(url)) = (c.next(), c.next(), c.next()) else {
            continue;
        };
        id += 1;
        let ids = id.to_string();
        let link = format!("https://urlhaus.abuse.ch/url/{id}/");
        let first = abusech_time(first);
        push_quoted(
            &mut buf,
            &[
                &ids,
                &first,
                url,
                "online",
                "",
                "malware_download",
                tag,
                &link,
                "depeer-sim",
            ],
        );
    }
    write(path, gzip, &buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_times_rewritten() {
        let mut b = Vec::new();
        push_quoted(&mut b, &["a", "b\"c", ""]);
        assert_eq!(b, b"\"a\",\"b\"\"c\",\"\"\n");
        assert_eq!(abusech_time("2008-11-11T21:30:00Z"), "2008-11-11 21:30:00");
    }

    #[test]
    fn the_banner_lines_are_64_wide() {
        let mut b = Vec::new();
        banner(&mut b, "t", "2008-11-12 00:00:00 UTC", "https://x/", "x");
        let text = String::from_utf8(b).unwrap();
        for l in text.lines().filter(|l| l.len() > 1) {
            assert_eq!(l.len(), 64, "{l:?}");
        }
    }
}
