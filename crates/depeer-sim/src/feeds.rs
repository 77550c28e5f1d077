//! Threat feeds written from the truth with noise: missed entries, false
//! positives, listing delays, entries that linger after the server died,
//! family aliases and mislabelled bots. Also the as2org file in CAIDA's
//! as-org2info JSON-lines form.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::SimError;
use crate::botnet::{Cast, bot_ip};
use crate::outfile::{JsonLines, OutFile};
use crate::rng::Rng;
use crate::scenario::{FeedsCfg, Scenario};
use crate::timefmt::{compact_day, iso, parse_duration};
use crate::world::{AsNode, World};

fn alias(rng: &mut Rng, family: &str) -> String {
    match rng.below(20) {
        0 => format!("Trojan.{}", crate::text::title_case(family)),
        1 => family.to_uppercase(),
        _ => family.to_string(),
    }
}

/// Writes feeds/*.csv; returns the files in depeer's layout (the C&C and
/// URL feeds in abuse.ch's layouts are written beside them, see
/// [`crate::abusech`], and left out of the list so that `truth.json` stays
/// as it was).
pub(crate) fn write_feeds(
    w: &World,
    sc: &Scenario,
    cast: &Cast,
    dir: &Path,
    gzip: bool,
) -> Result<Vec<(PathBuf, u64)>, SimError> {
    let f = &sc.feeds;
    let mut rng = Rng::stream(w.seed, "feeds", 0);
    let fam_names: Vec<&str> = cast.botnets.iter().map(|b| b.family.as_str()).collect();
    // One random stream, drawn feed after feed in this order.
    let cc = cc_rows(w, f, cast, &mut rng, &fam_names);
    let url = url_rows(w, f, cast, &mut rng);
    let pdns = pdns_rows(w, f, cast, &mut rng);
    let bot = bot_rows(w, f, cast, &mut rng, &fam_names);
    let mut feeds = [
        ("feeds/cc.csv", "ip,port,family,first_seen,last_seen", cc),
        ("feeds/urls.csv", "url,first_seen,tag", url),
        ("feeds/pdns.csv", "name,address,first_seen,last_seen", pdns),
        ("feeds/bots.csv", "ip,family,first_seen,last_seen,cc", bot),
    ];
    let mut files = Vec::with_capacity(feeds.len());
    for (path, header, rows) in feeds.iter_mut() {
        rows.sort();
        files.push(write_rows(&dir.join(path), gzip, header, rows)?);
    }
    let [(_, _, cc), (_, _, url), ..] = &feeds;
    let feodo = dir.join("feeds/feodo-ipblocklist.csv");
    crate::abusech::write_feodo(&feodo, gzip, w.end, cc)?;
    crate::abusech::write_urlhaus(&dir.join("feeds/urlhaus.csv"), gzip, w.end, url)?;
    Ok(files)
}

/// The C&C list: the servers of every C&C group as the feed saw them
/// (recall, delay, linger), plus false positives at hosters.
fn cc_rows(
    w: &World,
    f: &FeedsCfg,
    cast: &Cast,
    rng: &mut Rng,
    fam_names: &[&str],
) -> Vec<(i64, String)> {
    let dur = |s: &str| parse_duration(s).unwrap_or(0) as f64;
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
                            alias(rng, &b.family),
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
        let port = *rng.pick(&[80u16, 443, 8080, 6667]);
        rows.push((
            first,
            format!(
                "{},{},{},{},{}",
                Ipv4Addr::from(w.host_in(h, rng.next_u64())),
                port,
                rng.pick(fam_names),
                iso(first),
                iso(last)
            ),
        ));
    }
    rows
}

/// Malicious URLs: campaign sites as the feed saw them, plus false
/// positives at legitimate domains.
fn url_rows(w: &World, f: &FeedsCfg, cast: &Cast, rng: &mut Rng) -> Vec<(i64, String)> {
    let dur = |s: &str| parse_duration(s).unwrap_or(0) as f64;
    let mut rows: Vec<(i64, String)> = Vec::new();
    for site in &cast.sites {
        let Some(c) = cast.campaigns.get(site.campaign) else {
            continue;
        };
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
                legit_domain(w, rng),
                iso(first)
            ),
        ));
    }
    rows
}

/// Passive DNS: the sites' names and addresses over time, plus
/// legitimate names.
fn pdns_rows(w: &World, f: &FeedsCfg, cast: &Cast, rng: &mut Rng) -> Vec<(i64, String)> {
    let mut rows: Vec<(i64, String)> = Vec::new();
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
                legit_domain(w, rng),
                Ipv4Addr::from(w.host_in(h, rng.next_u64())),
                iso(first),
                iso(w.end - 1)
            ),
        ));
    }
    rows
}

/// The family-tagged bot list: sampled bots at random times (some
/// mislabelled), plus false positives in access networks.
fn bot_rows(
    w: &World,
    f: &FeedsCfg,
    cast: &Cast,
    rng: &mut Rng,
    fam_names: &[&str],
) -> Vec<(i64, String)> {
    // The C&C contacts are drawn from their own stream, so that adding
    // them left every other column of the list as it was.
    let mut cc_rng = Rng::stream(w.seed, "feeds-bot-cc", 0);
    let mut rows: Vec<(i64, String)> = Vec::new();
    for b in &cast.botnets {
        let n = (b.bots as f64 * f.bots_listed).round() as u64;
        for _ in 0..n {
            let bot = rng.below(b.bots);
            let t = w.start + rng.below((w.end - w.start) as u64) as i64;
            let ip = bot_ip(w, b, bot, t);
            let fam = if rng.chance(f.bots_mislabelled) {
                rng.pick(fam_names).to_string()
            } else {
                alias(rng, &b.family)
            };
            let last = (t + rng.exp(86_400.0) as i64).min(w.end - 1);
            let cc = if cc_rng.chance(f.bots_cc) {
                contacted(b, bot, t, &mut cc_rng)
                    .map_or(String::new(), |ip| Ipv4Addr::from(ip).to_string())
            } else {
                String::new()
            };
            rows.push((
                t,
                format!(
                    "{},{},{},{},{}",
                    Ipv4Addr::from(ip),
                    fam,
                    iso(t),
                    iso(last.max(t)),
                    cc
                ),
            ));
        }
    }
    let fps = (rows.len() as f64 * f.bots_false_positives).round() as usize;
    for _ in 0..fps {
        let a = *rng.pick(&w.access);
        let t = w.start + rng.below((w.end - w.start) as u64) as i64;
        rows.push((
            t,
            format!(
                "{},{},{},{},",
                Ipv4Addr::from(w.host_in(a, rng.next_u64())),
                rng.pick(fam_names),
                iso(t),
                iso(t)
            ),
        ));
    }
    rows
}

/// The C&C server bot `bot` of `b` talks to at `t`, as a sinkhole sees
/// it: a group that commands that bot, drawn by the share of the volume
/// it delivers then (the mail loop draws the group of each message the
/// same way), then one of its servers where it was at `t`. `None` when no
/// group of the bot is active.
fn contacted(b: &crate::botnet::Botnet, bot: u64, t: i64, rng: &mut Rng) -> Option<u32> {
    let commands = |g: &crate::botnet::CcGroup| {
        let pool = ((b.bots as f64 * g.bot_fraction).ceil() as u64).max(1);
        if bot < pool {
            g.weight * g.activity(t)
        } else {
            0.0
        }
    };
    let cum = crate::rng::cumulative(b.groups.iter().map(commands));
    let g = b.groups.get(rng.weighted(&cum)?)?;
    let server = g.servers.get(rng.below(g.servers.len() as u64) as usize)?;
    server
        .iter()
        .find(|l| l.from <= t && t < l.to)
        .map(|l| l.ip)
}

pub(crate) fn legit_domain(w: &World, rng: &mut Rng) -> String {
    w.domain_of(*rng.pick(&w.hosters)).to_string()
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
    let mut out = JsonLines::create(&dir.join("as2org.jsonl"), gzip)?;
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
        let Some(a) = w.ases.get(*i) else { continue };
        out.push(&serde_json::json!({
            "changed": changed, "country": a.country, "name": a.org_name,
            "organizationId": org, "source": source(org), "type": "Organization"
        }));
    }
    let mut by_asn: Vec<&AsNode> = w.ases.iter().collect();
    by_asn.sort_by_key(|a| a.asn);
    for a in by_asn {
        // Each AS belongs to the first AS's organisation of the same org id.
        out.push_flushing(&serde_json::json!({
            "asn": a.asn.to_string(), "changed": changed, "name": a.name,
            "organizationId": a.org_id, "source": source(&a.org_id), "type": "ASN"
        }))?;
    }
    out.finish()
}
