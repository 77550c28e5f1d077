//! Enrichment of the real public spam (../shared/data/spam) against the
//! pyasn table of May 2008 (../shared/data/ipasn/ipasn_20080501_v12.dat.gz),
//! issue 17: every relay (the first untrusted hop, as `ingest mail` finds
//! it) and every URL host is looked up, and the share that no announced
//! prefix covers is reported, split into special-purpose addresses
//! (private, loopback, documentation, ...: unroutable by definition) and
//! public addresses nobody announced then.
//!
//! The corpus is from 2002-2010 and this one table is the only routing data
//! for it, so it is used as a snapshot for every message (what `depeer
//! route lookup --at 2008-05-01` answers), not the routing of each
//! message's own moment, which `depeer attribute` uses when the dataset
//! has a history. URL hosts that are names are counted apart: enriching a
//! name needs its address at that time (passive DNS), which this corpus
//! does not have.
//!
//! Run with `--nocapture` to see the figures (docs/intel.md quotes them).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use depeer_core::test_support::{have_shared_data, shared_data_dir};
use depeer_core::{Asn, Prefix, SourceRef, Timestamp};
use depeer_mail::{ExtractContext, MessageReader, TrustConfig, extract};
use depeer_routing::{RouteTable, read_ipasn};

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut ents: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        ents.sort();
        for e in ents {
            walk(&e, out);
        }
    } else if p.is_file() {
        out.push(p.to_path_buf());
    }
}

/// Independent longest-prefix match (one hash map per length) to check
/// the table's answers.
struct Reference {
    by_len: Vec<HashMap<u32, Prefix>>,
}

impl Reference {
    fn new(rows: &[(Prefix, Asn)]) -> Reference {
        let mut by_len = vec![HashMap::new(); 33];
        for (p, _) in rows {
            if let Prefix::V4(n) = p {
                by_len[usize::from(n.prefix_len())].insert(u32::from(n.network()), *p);
            }
        }
        Reference { by_len }
    }

    fn lookup(&self, ip: IpAddr) -> Option<Prefix> {
        let IpAddr::V4(a) = ip else { return None };
        let a = u32::from(a);
        (0..=32usize).rev().find_map(|len| {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            self.by_len[len].get(&(a & mask)).copied()
        })
    }
}

/// Addresses no public route may cover (RFC 6890 special-purpose blocks
/// and multicast), so their being unroutable is no gap in the table.
fn special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_multicast()
                || a.is_broadcast()
                || a.is_documentation()
                || a.is_unspecified()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        }
        IpAddr::V6(a) => a.is_loopback() || a.is_multicast() || a.is_unspecified(),
    }
}

/// Tally of one kind of address.
#[derive(Default)]
struct Tally {
    seen: u64,
    routed: u64,
    special: u64,
    public_unrouted: u64,
    distinct: HashSet<IpAddr>,
    distinct_routed: HashSet<IpAddr>,
    origins: HashSet<u32>,
}

impl Tally {
    fn add(&mut self, ip: IpAddr, table: &RouteTable, reference: &Reference) {
        self.seen += 1;
        self.distinct.insert(ip);
        let hit = table.lookup(ip);
        // The table's answer is the reference's longest prefix.
        assert_eq!(hit.map(|e| e.prefix), reference.lookup(ip), "{ip}");
        match hit {
            Some(e) => {
                assert!(!e.origins.is_empty(), "{ip}: a route without an origin");
                self.routed += 1;
                self.distinct_routed.insert(ip);
                self.origins.extend(e.origins.iter().map(|a| a.0));
            }
            None if special(ip) => self.special += 1,
            None => self.public_unrouted += 1,
        }
        assert!(
            !(hit.is_some() && special(ip)),
            "{ip}: a special-purpose address is routed"
        );
    }

    fn line(&self, what: &str) -> String {
        let pct = |n: u64| 100.0 * n as f64 / self.seen.max(1) as f64;
        format!(
            "{what}: {} ({} distinct), routed {} ({:.1} %; {} distinct, {} origin ASes), unroutable {} ({:.1} %: special-purpose {}, public but unannounced {})",
            self.seen,
            self.distinct.len(),
            self.routed,
            pct(self.routed),
            self.distinct_routed.len(),
            self.origins.len(),
            self.seen - self.routed,
            pct(self.seen - self.routed),
            self.special,
            self.public_unrouted
        )
    }
}

#[test]
fn real_spam_relays_and_url_hosts_are_enriched_against_the_may_2008_table() {
    if !have_shared_data("real_spam_relays_and_url_hosts_are_enriched_against_the_may_2008_table") {
        return;
    }
    let data = shared_data_dir();
    let mut raw = Vec::new();
    let file = std::fs::File::open(data.join("ipasn/ipasn_20080501_v12.dat.gz")).unwrap();
    depeer_io::open_decoded(file, depeer_io::Limits::default())
        .unwrap()
        .reader
        .read_to_end(&mut raw)
        .unwrap();
    let t = read_ipasn(&raw[..], "ipasn_20080501_v12.dat.gz").unwrap();
    let at = Timestamp::parse("2008-05-01T00:00:00Z").unwrap();
    let routes = t.routes_at(at, "ipasn");
    let table = RouteTable::from_routes(&routes, Some(at));
    let reference = Reference::new(&t.rows);
    assert!(table.entries().len() > 200_000, "{}", table.entries().len());

    let mut files = Vec::new();
    walk(&data.join("spam"), &mut files);
    let trust = TrustConfig::default();
    let (mut messages, mut unreadable, mut no_relay, mut before) = (0u64, 0u64, 0u64, 0u64);
    let (mut relays, mut ip_hosts) = (Tally::default(), Tally::default());
    let (mut name_hosts, mut hosts_seen) = (HashSet::new(), 0u64);
    let mut names_seen = 0u64;
    for path in &files {
        let Ok(f) = std::fs::File::open(path) else {
            continue;
        };
        let decoded = depeer_io::open_decoded(f, depeer_io::Limits::default()).unwrap();
        let Ok(reader) = MessageReader::sniffed(decoded.reader) else {
            continue;
        };
        let name = path.display().to_string();
        for raw in reader {
            let Ok(raw) = raw else {
                unreadable += 1;
                continue;
            };
            let mut ctx = ExtractContext::new(
                &trust,
                SourceRef::new(&name, raw.offset, raw.index),
                Timestamp::from_secs(2_000_000_000),
            );
            ctx.mbox_from_time = raw.mbox_from_time;
            let Ok(e) = extract(&raw.bytes, &ctx) else {
                unreadable += 1;
                continue;
            };
            messages += 1;
            if e.message.arrival_time < at {
                before += 1;
            }
            match e.message.relay_ip {
                Some(ip) => relays.add(ip, &table, &reference),
                None => no_relay += 1,
            }
            let mut hosts: Vec<&str> = e.urls.iter().map(|u| u.host.as_str()).collect();
            hosts.sort_unstable();
            hosts.dedup();
            for h in hosts {
                hosts_seen += 1;
                match h.trim_matches(['[', ']']).parse::<IpAddr>() {
                    Ok(ip) => ip_hosts.add(ip, &table, &reference),
                    Err(_) => {
                        names_seen += 1;
                        name_hosts.insert(h.to_string());
                    }
                }
            }
        }
    }
    // The figures of docs/intel.md ("Real spam against the May 2008 table").
    eprintln!(
        "real spam: {messages} messages from {} files ({unreadable} unreadable), {before} dated before the table (2008-05-01); table {} IPv4 prefixes",
        files.len(),
        table.entries().len()
    );
    eprintln!("  {} ; no relay found: {no_relay}", relays.line("relays"));
    eprintln!(
        "  URL hosts (distinct per message): {hosts_seen}; names {names_seen} ({} distinct: not enriched, no passive DNS for this corpus); IP literals {}",
        name_hosts.len(),
        ip_hosts.seen
    );
    eprintln!("  {}", ip_hosts.line("IP-literal URL hosts"));
    // Every message was read, and every relay and IP host looked up (the
    // reference agreed with each answer above).
    assert!(messages >= 2_500, "{messages} messages");
    assert_eq!(relays.seen + no_relay, messages);
    assert_eq!(
        relays.routed + relays.special + relays.public_unrouted,
        relays.seen
    );
    // Most of a spam corpus's relays are public addresses of 2002-2010
    // networks; a broken lookup or relay finder would route almost none.
    assert!(relays.routed * 2 > relays.seen, "{}", relays.line("relays"));
    assert!(ip_hosts.seen > 0 && names_seen > 0);
}
