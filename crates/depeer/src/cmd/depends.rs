//! `depeer depends`: how much of the trapped spam depends on what one AS
//! hosts (C&C servers of the botnets, advertised sites), and `--build`,
//! the `dependencies` table of every window. The graph itself is
//! `depeer_analysis::DependencyInput` (definitions in docs/intel.md,
//! "Dependencies"); this module reads the dataset into it and prints.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use depeer_analysis::{
    AsDependence, DependencyInput, Hosting, RouteSpan, UpstreamSpan, Window, WindowGraph,
    parse_duration,
};
use depeer_core::{Relationship, Timestamp};
use depeer_store::{Dataset, DependencyRow, MessagePoint};

use crate::cmd::route::parse_time;

/// Flags of `depeer depends`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer depends 26780 --at 2008-11-11T21:30Z           # share of the day's spam controlled from AS26780
  depeer depends AS26780 --at 2008-11-11T21:30Z --window 6h --json
  depeer depends --build --window 24h                   # the `dependencies` table, one graph per day
  depeer sql \"SELECT asn, org, sum(share) FROM dependencies WHERE kind = 'cc' GROUP BY 1, 2 ORDER BY 3 DESC\"")]
pub struct Args {
    /// The AS (`26780` or `AS26780`); not with --build.
    #[arg(value_name = "ASN", required_unless_present = "build")]
    pub asn: Option<String>,
    /// End of the window (default: the end of the mail data).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Length of the window before --at (with --build: of each window).
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub window: String,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the `dependencies` table: one graph per window, from the
    /// first message (or --from) to the last (or --until).
    #[arg(long, conflicts_with = "asn")]
    pub build: bool,
    /// With --build: start of the first window.
    #[arg(long, value_name = "TIME", requires = "build")]
    pub from: Option<String>,
    /// With --build: end of the last window.
    #[arg(long, value_name = "TIME", requires = "build")]
    pub until: Option<String>,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
}

/// The routing history of the dataset, indexed for placements.
pub fn load_hosting(ds: &Dataset) -> anyhow::Result<Hosting> {
    let routes: Vec<RouteSpan> = ds
        .read_routes()?
        .into_iter()
        .map(|r| RouteSpan {
            network: r.prefix.network(),
            len: r.prefix.prefix_len(),
            origin: r.origin_asn.0,
            first: r.first_seen.0,
            last: r.last_seen.0,
            collector: r.collector,
        })
        .collect();
    if routes.is_empty() {
        anyhow::bail!(
            "{}: no routes stored; run `depeer ingest mrt` (or `ingest ipasn`) first",
            ds.dir().display()
        );
    }
    let ups = ds
        .read_as_links()?
        .into_iter()
        .filter(|l| l.relationship == Relationship::Provider)
        .map(|l| UpstreamSpan {
            asn: l.asn.0,
            provider: l.neighbor_asn.0,
            first: l.first_seen.0,
            last: l.last_seen.0,
        })
        .collect();
    let orgs = ds
        .read_as_names()?
        .into_iter()
        .map(|n| (n.asn.0, n.org.unwrap_or(n.name)))
        .collect();
    Ok(Hosting::new(routes, ups, orgs))
}

/// Botnet and campaign by message (hex SHA-256).
pub type Labels = HashMap<String, (Option<String>, Option<String>)>;

/// Botnet and campaign per message, from the `attribution` table; a clear
/// error when `depeer attribute` has not run.
pub fn load_attribution(ds: &Dataset) -> anyhow::Result<Labels> {
    let rows = ds.read_attribution()?;
    if rows.is_empty() {
        anyhow::bail!(
            "{}: the `attribution` table is empty: run `depeer attribute` first (it decides each message's botnet and campaign)",
            ds.dir().display()
        );
    }
    Ok(rows
        .into_iter()
        .map(|r| (r.sha256, (r.botnet, r.campaign)))
        .collect())
}

/// Everything the graphs of a dataset are made of, read once.
struct Inputs {
    hosting: Hosting,
    /// Messages in time order.
    messages: Vec<MessagePoint>,
    attribution: Labels,
    hosts: HashMap<String, Vec<String>>,
    /// The C&C (`cnc`) and passive DNS (`pdns`) listings.
    listings: Vec<depeer_core::FeedEntryObs>,
}

impl Inputs {
    fn read(
        ds: &Dataset,
        from: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> anyhow::Result<Inputs> {
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

    /// The graph of one window.
    fn graph(&self, window: Window) -> WindowGraph {
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

fn open(data: &Path) -> anyhow::Result<Dataset> {
    Dataset::open(data).with_context(|| {
        format!(
            "{}: no dataset; ingest mail, routing and feeds first",
            data.display()
        )
    })
}

/// The window of `--window` ending at `--at` (default: just after the
/// last message).
fn window_before(ds: &Dataset, at: Option<&str>, window: &str) -> anyhow::Result<Window> {
    let len = parse_duration(window)?;
    let end = match at {
        Some(s) => parse_time(s)?.0,
        None => {
            let all = ds.read_message_points(None, None)?;
            all.iter()
                .map(|m| m.time.0 + 1)
                .max()
                .context("no messages stored: run `depeer ingest mail` first")?
        }
    };
    Ok(Window {
        start: end - len,
        end,
    })
}

/// The dependence of the trapped spam on `asn` in the window of `len`
/// before `at` (the library side of `depeer depends ASN`).
pub fn dependence(
    data: &Path,
    asn: u32,
    at: Option<&str>,
    window: &str,
) -> anyhow::Result<(Window, AsDependence)> {
    let ds = open(data)?;
    let w = window_before(&ds, at, window)?;
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
                upstreams: join(&d.upstreams, " "),
                messages: d.messages,
                share: d.share,
            });
        }
    }
    rows
}

fn join(v: &[u32], sep: &str) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(sep)
}

/// Builds and stores the `dependencies` table; returns (windows, rows).
pub fn build(
    data: &Path,
    window: &str,
    from: Option<&str>,
    until: Option<&str>,
) -> anyhow::Result<(usize, usize)> {
    let len = parse_duration(window)?;
    let ds = open(data)?;
    let (from, until) = (
        from.map(parse_time).transpose()?,
        until.map(parse_time).transpose()?,
    );
    let inputs = Inputs::read(&ds, from, until)?;
    let (Some(first), Some(last)) = (inputs.messages.first(), inputs.messages.last()) else {
        anyhow::bail!("no messages in the range: nothing to build");
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

/// Runs `depeer depends`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.build {
        let (windows, rows) = build(
            &args.data,
            &args.window,
            args.from.as_deref(),
            args.until.as_deref(),
        )?;
        if args.json {
            writeln!(
                out,
                "{}",
                serde_json::json!({"windows": windows, "rows": rows})
            )?;
        } else {
            writeln!(
                out,
                "dependencies: {rows} rows over {windows} windows of {}",
                args.window
            )?;
        }
        return Ok(out.flush()?);
    }
    let asn_text = args.asn.as_deref().unwrap_or_default();
    let asn = asn_text
        .parse::<depeer_core::Asn>()
        .map_err(|_| anyhow::anyhow!("{asn_text:?} is not an AS number (use 26780 or AS26780)"))?;
    let (w, d) = dependence(&args.data, asn.0, args.at.as_deref(), &args.window)?;
    if args.json {
        writeln!(out, "{}", to_json(&w, &args.window, &d))?;
    } else {
        print_text(&mut out, &w, &args.window, &d)?;
    }
    Ok(out.flush()?)
}

/// The `--json` answer.
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

fn print_text(
    out: &mut dyn Write,
    w: &Window,
    window: &str,
    d: &AsDependence,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "AS{}: {} messages in the {window} before {}",
        d.asn,
        d.messages,
        Timestamp(w.end).to_rfc3339()
    )?;
    writeln!(
        out,
        "  C&C share   {:6.2} %  (spam of botnets with a C&C server there)",
        d.cc_share * 100.0
    )?;
    writeln!(
        out,
        "  site share  {:6.2} %  (spam advertising a site hosted there)",
        d.site_share * 100.0
    )?;
    if d.botnets.is_empty() {
        writeln!(
            out,
            "no botnet has C&C servers or sites there in this window"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<12} {:>7} {:>8}  {:<34} SITES",
        "BOTNET", "SHARE", "MESSAGES", "C&C SERVERS"
    )?;
    for b in &d.botnets {
        let cc = if b.cc_servers.is_empty() {
            "-".to_string()
        } else {
            b.cc_servers.join(",")
        };
        writeln!(
            out,
            "{:<12} {:>6.2}% {:>8}  {:<34} {}",
            b.botnet,
            b.share * 100.0,
            b.messages,
            cc,
            b.sites.len()
        )?;
    }
    Ok(())
}
