//! Botnet attribution of the stored messages (issue 17): every message of
//! the dataset is filed with [`depeer_intel::Attributor`] (rules, the
//! family-tagged bot lists in `feed_entries`, campaign clusters), decided,
//! and its relay enriched with the prefix, origin AS and organisation as
//! routed at the message time ([`RoutingAt`]). The rows go to the
//! `attribution` table.
//!
//! Two modes ([`AttributeMode`]): `ingest mail` decides the messages that
//! have no row yet (with everything stored observed) and appends them;
//! `depeer attribute` re-decides every message and rewrites the days where
//! a row changed, so a second run with nothing new writes nothing.
//!
//! Invariants: one row per stored message; a run that fails leaves the
//! table as it was (one commit).

mod botnets;
mod parallel;
mod routing;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

use depeer_core::Timestamp;
use depeer_intel::{
    Attribution, Attributor, BotListIndex, HeaderSummary, MessageFeatures, OwnSignals, Prepared,
    RuleSet, parse_fingerprint,
};
use depeer_store::{AttributionRow, Dataset, MessageScan, Store, attribution_day};
use serde::Serialize;

use crate::IngestError;

pub use botnets::{BotnetReport, BotnetRow, BotnetsOptions, CcRow, botnets};
pub use routing::{Routed, RoutingAt};

/// Which messages a run decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttributeMode {
    /// Only messages without a row yet; their rows are appended.
    Missing,
    /// Every message; the days where a row changed are rewritten.
    #[default]
    All,
}

/// How to run [`attribute`].
#[derive(Debug, Clone, Default)]
pub struct AttributeOptions {
    /// Which messages to decide.
    pub mode: AttributeMode,
    /// The rules; `None` takes the built-in rules file.
    pub rules: Option<RuleSet>,
}

/// What one [`attribute`] run did, and the table after it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AttributeSummary {
    /// Which messages were decided.
    pub mode: AttributeMode,
    /// Messages in the dataset.
    pub messages: u64,
    /// Messages decided in this run.
    pub decided: u64,
    /// Rows new or different from what the table held.
    pub changed: u64,
    /// Rows written (whole days are rewritten).
    pub written: u64,
    /// Day partitions replaced.
    pub days_rewritten: u64,
    /// Rows per deciding signal (`rule`, `bot-list`, `cluster`, `none`),
    /// over the whole table after the run.
    pub signals: BTreeMap<String, u64>,
    /// Rows with a botnet.
    pub attributed: u64,
    /// `attributed / messages`.
    pub attributed_share: f64,
    /// Rows per botnet.
    pub botnets: BTreeMap<String, u64>,
    /// Rows whose message has a relay address.
    pub relays: u64,
    /// Rows whose relay no announced prefix covered at the message time
    /// (all of them without routing data).
    pub unroutable_relays: u64,
    /// Route rows used for the enrichment (0: no routing data).
    pub routes: u64,
    /// Addresses in the family-tagged bot lists used.
    pub bot_list_addresses: u64,
    /// Wall time.
    pub seconds: f64,
}

/// Opens the data directory `data` and runs [`attribute`] on it.
pub fn attribute_dir(
    data: &Path,
    opts: &AttributeOptions,
) -> Result<AttributeSummary, IngestError> {
    if !data.join("tables").is_dir() {
        return Err(IngestError::OpenStore {
            dir: data.to_path_buf(),
            source: depeer_store::StoreError::NoDataset {
                dir: data.to_path_buf(),
            },
        });
    }
    let store = crate::input::open_store(data)?;
    attribute(&store, opts)
}

/// Attributes the messages of `store` (see the module documentation).
pub fn attribute(store: &Store, opts: &AttributeOptions) -> Result<AttributeSummary, IngestError> {
    let start = Instant::now();
    let step = IngestError::store;
    let ds = store.dataset();
    let builtin;
    let rules = match &opts.rules {
        Some(r) => r,
        None => {
            builtin = RuleSet::builtin().unwrap_or_else(|e| {
                tracing::error!("the built-in rules do not parse ({e}); attributing without rules");
                RuleSet::default()
            });
            &builtin
        }
    };
    let bots = bot_list(ds)?;
    let routing = RoutingAt::new(
        &ds.read_routes().map_err(step("reading routes"))?,
        &ds.read_as_names().map_err(step("reading as_names"))?,
    );
    let sites = sites_by_message(ds)?;
    // Each message's signals are taken as it is read and its features
    // dropped at once: the index needs ~150 bytes a message, the features
    // ~2.4 KB (12 GB for 5 M messages when they were all kept).
    let mut pending: Vec<Pending<'_>> = ds
        .scan_messages(|m| {
            let f = features(m, &sites);
            Pending {
                p: Attributor::prepare(rules, &f, &bots),
                relay_ip: f.relay_ip,
            }
        })
        .map_err(step("reading messages"))?;
    drop(sites);
    pending.sort_by_key(|x| (x.p.time(), x.p.sha256()));
    let old: HashMap<String, AttributionRow> = ds
        .read_attribution()
        .map_err(step("reading attribution"))?
        .into_iter()
        .map(|r| (r.sha256.clone(), r))
        .collect();
    let mut summary = AttributeSummary {
        mode: opts.mode,
        messages: pending.len() as u64,
        routes: routing.routes() as u64,
        bot_list_addresses: bots.len() as u64,
        ..AttributeSummary::default()
    };
    let decided = decide_pending(pending, rules, &routing, opts.mode, &old);
    summary.decided = decided.len() as u64;
    let table = write(store, opts.mode, decided, old, &mut summary)?;
    tally(&table, &mut summary);
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// Attributes `feats` (sorted by time) and enriches each relay as routed
/// at the message time: every message observed, then every one decided,
/// as rows. This is the work of [`attribute`] between reading the dataset
/// and writing the table, on its own so that a caller with features in
/// hand (and `scripts/bench/intel`, which times exactly this) need not go
/// through a store.
pub fn attribute_features(
    feats: &[MessageFeatures],
    rules: &RuleSet,
    bots: &BotListIndex,
    routing: &RoutingAt,
) -> Vec<AttributionRow> {
    decide_all(
        feats,
        rules,
        bots,
        routing,
        AttributeMode::All,
        &HashMap::new(),
    )
}

/// [`attribute_features`] on `threads` threads (1: all on the calling
/// thread): the same rows whatever the number.
pub fn attribute_features_on(
    feats: &[MessageFeatures],
    rules: &RuleSet,
    bots: &BotListIndex,
    routing: &RoutingAt,
    threads: usize,
) -> Vec<AttributionRow> {
    decide_on(
        feats,
        rules,
        bots,
        routing,
        AttributeMode::All,
        &HashMap::new(),
        threads.max(1),
    )
}

/// A message read from the dataset, reduced to what attribution needs:
/// its signals ([`Prepared`], which carries its time and SHA-256) and its
/// relay (for the enrichment).
struct Pending<'a> {
    p: Prepared<'a>,
    relay_ip: Option<IpAddr>,
}

/// Files the pending messages (sorted by time) in order, then decides
/// those the mode asks for, as rows, on all threads.
fn decide_pending(
    pending: Vec<Pending<'_>>,
    rules: &RuleSet,
    routing: &RoutingAt,
    mode: AttributeMode,
    old: &HashMap<String, AttributionRow>,
) -> Vec<AttributionRow> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, DECIDE_THREADS);
    let mut a = Attributor::new(rules);
    a.reserve(pending.len());
    let mut items = Vec::with_capacity(pending.len());
    let own: Vec<OwnSignals> = pending
        .into_iter()
        .map(|x| {
            let (sha, time) = (x.p.sha256(), x.p.time());
            items.push((sha, time, x.relay_ip));
            a.file(x.p)
        })
        .collect();
    a.solve();
    let a = &a;
    let decide = |&(sha, time, ip): &([u8; 32], i64, Option<IpAddr>), o, hex_sha: String| {
        row(hex_sha, time, ip, a.decide_solved_at(sha, time, o), routing)
    };
    let mut rows: Vec<Option<AttributionRow>> = vec![None; items.len()];
    parallel::decide_into(&items, &own, &mut rows, threads, |x, o| {
        let sha = hex(&x.0);
        (mode == AttributeMode::All || !old.contains_key(&sha)).then(|| decide(x, o, sha))
    });
    rows.into_iter().flatten().collect()
}

/// Observes every message, then decides those the mode asks for, as rows.
///
/// Observing builds one index: filing is sequential, the per-message part
/// before it runs on the other threads ([`parallel::observe_all`]);
/// deciding and enriching only read the solved index, so they run on up
/// to [`DECIDE_THREADS`] threads over consecutive slices (in order: the
/// rows come out as one thread would give them).
fn decide_all(
    feats: &[MessageFeatures],
    rules: &RuleSet,
    bots: &BotListIndex,
    routing: &RoutingAt,
    mode: AttributeMode,
    old: &HashMap<String, AttributionRow>,
) -> Vec<AttributionRow> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, DECIDE_THREADS);
    decide_on(feats, rules, bots, routing, mode, old, threads)
}

/// [`decide_all`] on `threads` threads (1: all on this one).
fn decide_on(
    feats: &[MessageFeatures],
    rules: &RuleSet,
    bots: &BotListIndex,
    routing: &RoutingAt,
    mode: AttributeMode,
    old: &HashMap<String, AttributionRow>,
    threads: usize,
) -> Vec<AttributionRow> {
    let mut a = Attributor::new(rules);
    let own = parallel::observe_all(&mut a, feats, rules, bots, threads);
    a.solve();
    let a = &a;
    let decide = |f: &MessageFeatures, o| {
        row(
            hex(&f.sha256),
            f.time,
            f.relay_ip,
            a.decide_solved(f, o),
            routing,
        )
    };
    if mode == AttributeMode::Missing {
        let mut rows: Vec<Option<AttributionRow>> = vec![None; feats.len()];
        parallel::decide_into(feats, &own, &mut rows, threads, |f, o| {
            let sha = hex(&f.sha256);
            (!old.contains_key(&sha))
                .then(|| row(sha, f.time, f.relay_ip, a.decide_solved(f, o), routing))
        });
        return rows.into_iter().flatten().collect();
    }
    let empty = AttributionRow {
        sha256: String::new(),
        time: Timestamp(0),
        botnet: None,
        campaign: None,
        confidence: 0.0,
        signal: String::new(),
        relay_ip: None,
        relay_prefix: None,
        relay_asn: None,
        relay_org: None,
    };
    let mut rows = vec![empty; feats.len()];
    parallel::decide_into(feats, &own, &mut rows, threads, decide);
    rows
}

/// At most this many threads decide and enrich.
const DECIDE_THREADS: usize = 8;

/// The table row of one decision, with the relay as routed then.
fn row(
    sha256: String,
    time: i64,
    relay_ip: Option<IpAddr>,
    a: Attribution,
    routing: &RoutingAt,
) -> AttributionRow {
    let time = Timestamp(time);
    let routed = relay_ip.and_then(|ip| routing.lookup_at(ip, time));
    AttributionRow {
        sha256,
        time,
        botnet: a.botnet,
        campaign: a.campaign,
        confidence: a.confidence,
        signal: a.signal.as_str().to_string(),
        relay_ip: relay_ip.map(ip_text),
        relay_prefix: routed.map(|r| r.prefix.to_string()),
        relay_asn: routed.map(|r| r.asn),
        relay_org: routed.and_then(|r| r.org).map(str::to_string),
    }
}

/// An address as text: IPv4 written digit by digit (the `Display` of
/// `Ipv4Addr` goes through the formatting machinery, a tenth of a row's
/// cost), IPv6 as the standard library writes it.
fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(a) = ip else {
        return ip.to_string();
    };
    let mut s = String::with_capacity(15);
    for (i, o) in a.octets().into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        if o >= 100 {
            s.push(char::from(b'0' + o / 100));
        }
        if o >= 10 {
            s.push(char::from(b'0' + o / 10 % 10));
        }
        s.push(char::from(b'0' + o % 10));
    }
    s
}

/// Writes what changed; returns the table as it is after the run.
fn write(
    store: &Store,
    mode: AttributeMode,
    decided: Vec<AttributionRow>,
    mut old: HashMap<String, AttributionRow>,
    summary: &mut AttributeSummary,
) -> Result<Vec<AttributionRow>, IngestError> {
    let step = IngestError::store;
    if mode == AttributeMode::Missing {
        summary.changed = decided.len() as u64;
        summary.written = decided.len() as u64;
        store
            .write_attribution(&decided, &[])
            .map_err(step("writing attribution"))?;
        let mut all: Vec<AttributionRow> = old.into_values().collect();
        all.extend(decided);
        return Ok(all);
    }
    // Days where a row is new or different, or where a row of a message
    // no longer stored would remain.
    let mut days: BTreeSet<String> = BTreeSet::new();
    for r in &decided {
        match old.remove(&r.sha256) {
            Some(o) if o == *r => {}
            Some(o) => {
                summary.changed += 1;
                days.insert(attribution_day(o.time));
                days.insert(attribution_day(r.time));
            }
            None => {
                summary.changed += 1;
                days.insert(attribution_day(r.time));
            }
        }
    }
    days.extend(old.values().map(|o| attribution_day(o.time)));
    let rewrite: Vec<AttributionRow> = decided
        .iter()
        .filter(|r| days.contains(&attribution_day(r.time)))
        .cloned()
        .collect();
    let days: Vec<String> = days.into_iter().collect();
    summary.written = rewrite.len() as u64;
    summary.days_rewritten = days.len() as u64;
    store
        .write_attribution(&rewrite, &days)
        .map_err(step("writing attribution"))?;
    Ok(decided)
}

/// The summary's figures over the table.
fn tally(table: &[AttributionRow], s: &mut AttributeSummary) {
    for r in table {
        *s.signals.entry(r.signal.clone()).or_default() += 1;
        if let Some(b) = &r.botnet {
            s.attributed += 1;
            *s.botnets.entry(b.clone()).or_default() += 1;
        }
        if r.relay_ip.is_some() {
            s.relays += 1;
            if r.relay_asn.is_none() {
                s.unroutable_relays += 1;
            }
        }
    }
    s.attributed_share = if table.is_empty() {
        0.0
    } else {
        s.attributed as f64 / table.len() as f64
    };
}

/// The family-tagged bot lists of `feed_entries` (kind `bots`).
pub fn bot_list(ds: &Dataset) -> Result<BotListIndex, IngestError> {
    let mut idx = BotListIndex::new();
    let entries = ds
        .read_feed_entries()
        .map_err(IngestError::store("reading feed_entries"))?;
    for e in entries.iter().filter(|e| e.kind == "bots") {
        let (Ok(ip), Some(family)) = (e.indicator.parse::<IpAddr>(), e.family.as_deref()) else {
            continue;
        };
        let first = e.first_seen.or(e.last_seen).map_or(i64::MIN, |t| t.0);
        let last = e.last_seen.or(e.first_seen).map_or(i64::MAX, |t| t.0);
        idx.insert(ip, family, first, last);
    }
    Ok(idx)
}

/// Advertised sites per message (hex SHA-256): registrable domains of the
/// URL hosts, IP-literal hosts as written; distinct, in table order.
fn sites_by_message(ds: &Dataset) -> Result<HashMap<String, Vec<String>>, IngestError> {
    let rows = ds
        .read_url_hosts()
        .map_err(IngestError::store("reading message_urls"))?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (sha, host, domain) in rows {
        let site = match domain {
            Some(d) => d,
            None if host.parse::<IpAddr>().is_ok() => host,
            None => continue,
        };
        let v = out.entry(sha).or_default();
        if !v.contains(&site) {
            v.push(site);
        }
    }
    Ok(out)
}

/// The attribution input of one stored message.
fn features(m: &MessageScan<'_>, sites: &HashMap<String, Vec<String>>) -> MessageFeatures {
    let owned = |s: Option<&str>| s.map(str::to_string);
    MessageFeatures {
        sha256: m.sha256,
        time: m.time.0,
        relay_ip: m.relay_ip.and_then(|s| s.parse().ok()),
        relay_helo: owned(m.relay_helo),
        relay_rdns: owned(m.relay_rdns),
        from_addr: owned(m.from_addr),
        subject: owned(m.subject),
        message_id: owned(m.message_id),
        headers: HeaderSummary::from_raw(m.raw),
        url_domains: sites.get(&hex(&m.sha256)).cloned().unwrap_or_default(),
        fingerprint: parse_fingerprint(m.fingerprint),
    }
}

/// Lowercase hex of a hash (through a table: `write!` per byte was 5 %
/// of the time of `decide_all` on 5 M messages).
fn hex(b: &[u8; 32]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for x in b {
        for nib in [x >> 4, x & 15] {
            out.push(char::from(
                HEX.get(usize::from(nib)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}
