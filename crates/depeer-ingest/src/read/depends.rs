//! The dependency graph of a window read from the dataset: messages,
//! their botnets and advertised hosts, the C&C and passive DNS listings,
//! and the routing history they are placed with. The graph itself is
//! `depeer_analysis::DependencyInput` (definitions in docs/intel.md,
//! "Dependencies").

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use depeer_analysis::{AsDependence, DependencyInput, Hosting, Window, WindowGraph};
use depeer_core::Timestamp;
use depeer_store::{Dataset, DependencyRow, MessagePoint};

use super::{Labels, ReadError, load_attribution, load_hosting, missing, open};

const HINT: &str = "ingest mail, routing and feeds first";

/// Everything the graphs of a dataset are made of, read once.
pub struct Inputs {
    hosting: Hosting,
    /// Messages in time order.
    messages: Vec<MessagePoint>,
    attribution: Labels,
    hosts: HashMap<String, Vec<String>>,
    /// The C&C (`cnc`) and passive DNS (`pdns`) listings.
    listings: Vec<depeer_core::FeedEntryObs>,
}

impl Inputs {
    /// Reads the messages of `[from, until)` and everything they are
    /// placed with.
    pub fn read(
        ds: &Dataset,
        from: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<Inputs, ReadError> {
        let hosting = load_hosting(ds)?;
        let attribution = load_attribution(ds)?;
        let mut messages = ds.read_message_points(from, until)?;
        messages.sort_by_key(|m| m.time);
        let mut hosts: HashMap<String, Vec<String>> = HashMap::new();
        for (sha, host, _) in ds.read_url_hosts()? {
            hosts.entry(sha).or_default().push(host);
        }
        let listings = ds
            .read_feed_entries()?
            .into_iter()
            .filter(|f| f.kind == "cnc" || f.kind == "pdns")
            .collect();
        Ok(Inputs {
            hosting,
            messages,
            attribution,
            hosts,
            listings,
        })
    }

    /// The routing history the graphs are placed with.
    pub fn hosting(&self) -> &Hosting {
        &self.hosting
    }

    /// The graph of one window.
    pub fn graph(&self, window: Window) -> WindowGraph {
        let mut input = DependencyInput::new(window);
        let micros = |t: Option<Timestamp>| t.map(|t| t.0);
        for f in &self.listings {
            let (first, last) = (micros(f.first_seen), micros(f.last_seen));
            match (f.kind.as_str(), f.family.as_deref()) {
                ("cnc", Some(family)) => {
                    if let Ok(ip) = f.indicator.parse::<IpAddr>() {
                        input.add_cc(ip, family, first, last);
                    }
                }
                ("pdns", _) => {
                    if let Some(ip) = f.address.as_deref().and_then(|a| a.parse().ok()) {
                        input.add_pdns(&f.indicator, ip, first, last);
                    }
                }
                _ => {}
            }
        }
        let lo = self.messages.partition_point(|m| m.time.0 < window.start);
        let hi = self.messages.partition_point(|m| m.time.0 < window.end);
        let none = (None, None);
        for m in self.messages.get(lo..hi).unwrap_or_default() {
            let (botnet, campaign) = self.attribution.get(&m.sha256).unwrap_or(&none);
            let hosts = self
                .hosts
                .get(&m.sha256)
                .map(Vec::as_slice)
                .unwrap_or_default();
            input.add_message(m.time.0, botnet.as_deref(), campaign.as_deref(), hosts);
        }
        input.build(&self.hosting)
    }
}

/// The window of `len` µs ending at `at` (default: just after the last
/// message).
pub fn window_before(ds: &Dataset, at: Option<Timestamp>, len: i64) -> Result<Window, ReadError> {
    let end = match at {
        Some(t) => t.0,
        None => ds
            .read_message_points(None, None)?
            .iter()
            .map(|m| m.time.0 + 1)
            .max()
            .ok_or_else(|| missing(ds, "no messages stored", "run `depeer ingest mail` first"))?,
    };
    Ok(Window {
        start: end - len,
        end,
    })
}

/// The dependence of the trapped spam on `asn` in the window of `len` µs
/// before `at` (`depeer depends ASN`).
pub fn dependence(
    data: &Path,
    asn: u32,
    at: Option<Timestamp>,
    len: i64,
) -> Result<(Window, AsDependence), ReadError> {
    let ds = open(data, HINT)?;
    let w = window_before(&ds, at, len)?;
    let inputs = Inputs::read(&ds, Some(Timestamp(w.start)), Some(Timestamp(w.end)))?;
    Ok((w, inputs.graph(w).for_asn(asn)))
}

/// The `dependencies` rows of one window's graph (one per origin AS).
fn rows_of(g: &WindowGraph) -> Vec<DependencyRow> {
    let mut rows = Vec::new();
    for d in &g.dependencies {
        let origins: Vec<Option<u32>> = match &d.placement {
            Some(p) if !p.origins.is_empty() => p.origins.iter().copied().map(Some).collect(),
            _ => vec![None],
        };
        for asn in origins {
            rows.push(DependencyRow {
                window_start: Timestamp(g.window.start),
                window_end: Timestamp(g.window.end),
                botnet: d.botnet.clone(),
                campaign: d.campaign.clone(),
                kind: d.kind.as_str().to_string(),
                indicator: d.indicator.clone(),
                address: d.address.to_string(),
                prefix: d.placement.as_ref().map(|p| p.prefix.clone()),
                asn,
                org: d.org.clone(),
                upstreams: d
                    .upstreams
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                messages: d.messages,
                share: d.share,
            });
        }
    }
    rows
}

/// Builds and stores the `dependencies` table, one graph per window of
/// `len` µs from `from` (default: the first message's window) to `until`
/// (default: the last message); returns (windows, rows).
pub fn build(
    data: &Path,
    len: i64,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<(usize, usize), ReadError> {
    let ds = open(data, HINT)?;
    let inputs = Inputs::read(&ds, from, until)?;
    let (Some(first), Some(last)) = (inputs.messages.first(), inputs.messages.last()) else {
        return Err(missing(
            &ds,
            "no messages in the range",
            "nothing to build; widen --from/--until or run `depeer ingest mail`",
        ));
    };
    let start = from.map_or(first.time.0.div_euclid(len) * len, |t| t.0);
    let end = until.map_or(last.time.0 + 1, |t| t.0);
    let mut rows = Vec::new();
    let mut windows = 0;
    let mut t = start;
    while t < end {
        let w = Window {
            start: t,
            end: t.saturating_add(len).min(end),
        };
        rows.extend(rows_of(&inputs.graph(w)));
        windows += 1;
        t = w.end;
    }
    let store = depeer_store::Store::open(data)?;
    store.replace_dependencies(&rows)?;
    Ok((windows, rows.len()))
}

/// `depeer depends ASN --json` (and `/api/v1/depends/{asn}`).
pub fn to_json(w: &Window, window: &str, d: &AsDependence) -> serde_json::Value {
    let botnets: Vec<serde_json::Value> = d
        .botnets
        .iter()
        .map(|b| {
            serde_json::json!({
                "botnet": b.botnet,
                "share": round6(b.share),
                "messages": b.messages,
                "cc_servers": b.cc_servers,
                "sites": b.sites,
            })
        })
        .collect();
    serde_json::json!({
        "asn": d.asn,
        "at": Timestamp(w.end).to_rfc3339(),
        "window": window,
        "messages": d.messages,
        "cc_share": round6(d.cc_share),
        "site_share": round6(d.site_share),
        "botnets": botnets,
    })
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
