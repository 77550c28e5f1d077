//! Threat feeds written from the truth with noise: missed entries, false
//! positives, listing delays, entries that linger after the server died,
//! family aliases and mislabelled bots. Also the as2org file in CAIDA's
//! as-org2info JSON-lines form.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::botnet::Cast;
use crate::outfile::OutFile;
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::timefmt::{compact_day, iso, parse_duration};
use crate::world::World;
use crate::{SimError, bot_ip};

fn alias(rng: &mut Rng, family: &str) -> String {
    match rng.below(20) {
        0 => format!("Trojan.{}", crate::text::title_case(family)),
        1 => family.to_uppercase(),
        _ => family.to_string(),
    }
}

/// Writes feeds/*.csv; returns the files.
pub(crate) fn write_feeds(
    w: &World,
    sc: &Scenario,
    cast: &Cast,
    dir: &Path,
    gzip: bool,
) -> Result<Vec<(PathBuf, u64)>, SimError> {
    let f = &sc.feeds;
    let mut rng = Rng::stream(w.seed, "feeds", 0);
    let dur = |s: &str| parse_duration(s).unwrap_or(0) as f64;
    let mut files = Vec::new();
    let fam_names: Vec<&str> = cast.botnets.iter().map(|b| b.family.as_str()).collect();

    // C&C list.
    let mut rows: Vec<(i64, String)> = Vec::new();
    for b in &cast.botnets {
        for g in &b.groups {
            let lost = g
                .reach
                .iter()
                .find(|&&(t, r)| !r && t >= g.from)
                .map_or(i64::MAX, |x| x.0);
            for server in &g.servers {
                for loc in server {
                    if !rng.chance(f.cc_recall) {
                        continue;
                    }
                    let first = loc.from + rng.exp(dur(&f.cc_delay)) as i64;
                    let alive_to = loc.to.min(g.dead_from).min(lost).min(w.end);
                    let last = (alive_to + rng.exp(dur(&f.cc_linger)) as i64).min(w.end - 1);
                    if first >= last || first >= w.end {
                        continue;
                    }
                    rows.push((
                        first,
                        format!(
                            "{},{},{},{},{}",
                            Ipv4Addr::from(loc.ip),
                            g.port,
                            alias(&mut rng, &b.family),
                            iso(first),
                            iso(last)
                        ),
                    ));
                }
            }
        }
    }
    let fps = (rows.len() as f64 * f.cc_false_positives).round() as usize;
    for _ in 0..fps {
        let h = *rng.pick(&w.hosters);
        let first = w.start + rng.below((w.end - w.start) as u64) as i64;
        let last = (first + rng.exp(5.0 * 86_400.0) as i64)
            .min(w.end - 1)
            .max(first + 1);
        let port = [80u16, 443, 8080, 6667][rng.index(4)];
        rows.push((
            first,
            format!(
                "{},{},{},{},{}",
                Ipv4Addr::from(w.host_in(h, rng.next_u64())),
                port,
                rng.pick(&fam_names),
                iso(first),
                iso(last)
            ),
        ));
    }
    rows.sort();
    files.push(write_rows(
        &dir.join("feeds/cc.csv"),
        gzip,
        "ip,port,family,first_seen,last_seen",
        &rows,
    )?);

    // Malicious URLs.
    let mut rows = Vec::new();
    for site in &cast.sites {
        let c = &cast.campaigns[site.campaign];
        if !rng.chance(f.url_recall) {
            continue;
        }
        let first = c.from.max(w.start) + rng.exp(dur(&f.url_delay)) as i64;
        if first >= w.end {
            continue;
        }
        let tag = match c.topic.as_str() {
            "phishing" => "phishing",
            "fakeav" | "ecard" => "malware",
            _ => "spam-advertised",
        };
        rows.push((
            first,
            format!("http://{}{},{},{}", site.domain, c.path, iso(first), tag),
        ));
    }
    let fps = (rows.len() as f64 * f.url_false_positives).round() as usize;
    for _ in 0..fps {
        let first = w.start + rng.below((w.end - w.start) as u64) as i64;
        rows.push((
            first,
            format!(
                "https://www.{}/,{},spam-advertised",
                legit_domain(w, &mut rng),
                iso(first)
            ),
        ));
    }
    rows.sort();
    files.push(write_rows(
        &dir.join("feeds/urls.csv"),
        gzip,
        "url,first_seen,tag",
        &rows,
    )?);

    // Passive DNS.
    let mut rows = Vec::new();
    for site in &cast.sites {
        for loc in &site.locations {
            if !rng.chance(f.pdns_coverage) {
                continue;
            }
            let span = (loc.to - loc.from).max(2);
            let first = loc.from + rng.below((span / 4).max(1) as u64) as i64;
            let last = loc.to - rng.below((span / 4).max(1) as u64) as i64;
            for name in [site.domain.clone(), format!("www.{}", site.domain)] {
                if rng.chance(0.8) {
                    rows.push((
                        first,
                        format!(
                            "{name},{},{},{}",
                            Ipv4Addr::from(loc.ip),
                            iso(first),
                            iso(last.max(first))
                        ),
                    ));
                }
            }
        }
    }
    for _ in 0..(cast.sites.len() / 2).max(3) {
        let h = *rng.pick(&w.hosters);
        let first = w.start + rng.below((w.end - w.start) as u64 / 2) as i64;
        rows.push((
            first,
            format!(
                "www.{},{},{},{}",
                legit_domain(w, &mut rng),
                Ipv4Addr::from(w.host_in(h, rng.next_u64())),
                iso(first),
                iso(w.end - 1)
            ),
        ));
    }
    rows.sort();
    files.push(write_rows(
        &dir.join("feeds/pdns.csv"),
        gzip,
        "name,address,first_seen,last_seen",
        &rows,
    )?);

    // Family-tagged bot list.
    let mut rows = Vec::new();
    for (bi, b) in cast.botnets.iter().enumerate() {
        let n = (b.bots as f64 * f.bots_listed).round() as u64;
        for _ in 0..n {
            let bot = rng.below(b.bots);
            let t = w.start + rng.below((w.end - w.start) as u64) as i64;
            let ip = bot_ip(w, b, bot, t);
            let fam = if rng.chance(f.bots_mislabelled) {
                rng.pick(&fam_names).to_string()
            } else {
                alias(&mut rng, &b.family)
            };
            let last = (t + rng.exp(86_400.0) as i64).min(w.end - 1);
            rows.push((
                t,
                format!(
                    "{},{},{},{}",
                    Ipv4Addr::from(ip),
                    fam,
                    iso(t),
                    iso(last.max(t))
                ),
            ));
            let _ = bi;
        }
    }
    let fps = (rows.len() as f64 * f.bots_false_positives).round() as usize;
    for _ in 0..fps {
        let a = *rng.pick(&w.access);
        let t = w.start + rng.below((w.end - w.start) as u64) as i64;
        rows.push((
            t,
            format!(
                "{},{},{},{}",
                Ipv4Addr::from(w.host_in(a, rng.next_u64())),
                rng.pick(&fam_names),
                iso(t),
                iso(t)
            ),
        ));
    }
    rows.sort();
    files.push(write_rows(
        &dir.join("feeds/bots.csv"),
        gzip,
        "ip,family,first_seen,last_seen",
        &rows,
    )?);
    Ok(files)
}

pub(crate) fn legit_domain(w: &World, rng: &mut Rng) -> String {
    w.ases[*rng.pick(&w.hosters)].domain.clone()
}

fn write_rows(
    path: &Path,
    gzip: bool,
    header: &str,
    rows: &[(i64, String)],
) -> Result<(PathBuf, u64), SimError> {
    let mut out = OutFile::create(path, gzip)?;
    let mut buf = Vec::with_capacity(1 << 16);
    buf.extend_from_slice(header.as_bytes());
    buf.push(b'\n');
    for (_, r) in rows {
        buf.extend_from_slice(r.as_bytes());
        buf.push(b'\n');
        if buf.len() > 1 << 16 {
            out.write(&buf)?;
            buf.clear();
        }
    }
    out.write(&buf)?;
    out.finish()
}

/// Writes the as2org file (CAIDA as-org2info JSON-lines: Organization
/// records, then ASN records; keys in CAIDA's order).
pub(crate) fn write_as2org(w: &World, dir: &Path, gzip: bool) -> Result<(PathBuf, u64), SimError> {
    let changed = compact_day(w.start - 30 * 86_400);
    let mut out = OutFile::create(&dir.join("as2org.jsonl"), gzip)?;
    let mut buf = Vec::with_capacity(1 << 16);
    let source = |org_id: &str| org_id.rsplit('-').next().unwrap_or("ARIN").to_string();
    let mut orgs: Vec<(&str, usize)> = w
        .ases
        .iter()
        .enumerate()
        .map(|(i, a)| (a.org_id.as_str(), i))
        .collect();
    orgs.sort();
    orgs.dedup_by(|a, b| a.0 == b.0);
    for (org, i) in &orgs {
        let a = &w.ases[*i];
        let line = serde_json::json!({
            "changed": changed, "country": a.country, "name": a.org_name,
            "organizationId": org, "source": source(org), "type": "Organization"
        });
        let _ = writeln!(buf, "{line}");
    }
    let mut by_asn: Vec<usize> = (0..w.ases.len()).collect();
    by_asn.sort_by_key(|&i| w.ases[i].asn);
    for i in by_asn {
        let a = &w.ases[i];
        // Each AS belongs to the first AS's organisation of the same org id.
        let line = serde_json::json!({
            "asn": a.asn.to_string(), "changed": changed, "name": a.name,
            "organizationId": a.org_id, "source": source(&a.org_id), "type": "ASN"
        });
        let _ = writeln!(buf, "{line}");
        if buf.len() > 1 << 16 {
            out.write(&buf)?;
            buf.clear();
        }
    }
    out.write(&buf)?;
    out.finish()
}
