//! `depeer route lookup | as | events`: questions to the routing history.
//!
//! Every command reads the stored tables (Parquet; no MRT is re-parsed),
//! builds what it needs for the moment asked (`--at`, default: the end of
//! the data) and prints a table for people, or `--json` / `--csv`.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;
use depeer_core::{AsLinkObs, AsNameObs, Asn, Relationship, RouteObs, RoutingEventObs, Timestamp};
use depeer_routing::RouteTable;

/// Output format flags shared by the route commands.
#[derive(Debug, Clone, clap::Args)]
pub struct Format {
    /// JSON on stdout.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV on stdout (with a header line).
    #[arg(long)]
    pub csv: bool,
}

/// Where a command writes its answer.
type Out<'a> = &'a mut dyn Write;

impl Format {
    /// Writes the answer to stdout (buffered) by the writer of the chosen
    /// format: JSON, CSV or an aligned table.
    fn answer(
        &self,
        json: impl FnOnce(Out<'_>) -> anyhow::Result<()>,
        csv: impl FnOnce(Out<'_>) -> anyhow::Result<()>,
        table: impl FnOnce(Out<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        if self.json {
            json(&mut out)?;
        } else if self.csv {
            csv(&mut out)?;
        } else {
            table(&mut out)?;
        }
        out.flush()?;
        Ok(())
    }
}

/// The dataset and the moment asked about (`lookup` and `as`).
#[derive(Debug, Clone, clap::Args)]
pub struct Moment {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// The moment (default: the end of the data).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

impl Moment {
    /// `--at`, parsed.
    fn at(&self) -> anyhow::Result<Option<Timestamp>> {
        self.at.as_deref().map(parse_time).transpose()
    }
}

/// Flags of `depeer route lookup`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  depeer route lookup 208.66.192.10 --at 2008-11-11T21:00Z
  depeer route lookup --file addresses.txt --csv > enriched.csv")]
pub struct LookupArgs {
    /// The dataset and the moment.
    #[command(flatten)]
    pub moment: Moment,
    /// Also read addresses from this file, one per line (`-`: stdin).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Output format.
    #[command(flatten)]
    pub format: Format,
    /// Addresses (IPv4 or IPv6).
    #[arg(value_name = "IP")]
    pub ips: Vec<String>,
}

/// Flags of `depeer route as`.
#[derive(Debug, clap::Args)]
pub struct AsArgs {
    /// The dataset and the moment.
    #[command(flatten)]
    pub moment: Moment,
    /// Output format.
    #[command(flatten)]
    pub format: Format,
    /// The AS (`26780` or `AS26780`).
    #[arg(value_name = "ASN")]
    pub asn: String,
}

/// Flags of `depeer route events`.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Only events of this AS.
    #[arg(long = "as", value_name = "ASN")]
    pub asn: Option<String>,
    /// Only events at or after this time.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events at or before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only events of this kind (e.g. `origin-change`, `upstream-lost`).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Output format.
    #[command(flatten)]
    pub format: Format,
}

fn open(data: &std::path::Path) -> anyhow::Result<depeer_store::Dataset> {
    depeer_store::Dataset::open(data).with_context(|| {
        format!(
            "{}: no dataset; ingest routing data first (depeer ingest mrt / ingest ipasn)",
            data.display()
        )
    })
}

fn parse_asn(s: &str) -> anyhow::Result<Asn> {
    s.parse::<Asn>()
        .map_err(|_| anyhow::anyhow!("{s:?} is not an AS number (use 26780 or AS26780)"))
}

/// Names by AS (the last row read wins).
fn names_by_asn(rows: Vec<AsNameObs>) -> HashMap<Asn, AsNameObs> {
    rows.into_iter().map(|r| (r.asn, r)).collect()
}

/// The links alive at `at` (same rule as routes: seen around `at`, or still
/// seen at the end of the data), by AS.
fn links_at(links: &[AsLinkObs], at: Option<Timestamp>) -> HashMap<Asn, Vec<&AsLinkObs>> {
    let end = links.iter().map(|l| l.last_seen).max();
    let mut out: HashMap<Asn, Vec<&AsLinkObs>> = HashMap::new();
    for l in links {
        let live = match at {
            None => true,
            Some(t) => l.first_seen <= t && (t <= l.last_seen || Some(l.last_seen) == end),
        };
        if live {
            let v = out.entry(l.asn).or_default();
            if !v.iter().any(|x| x.neighbor_asn == l.neighbor_asn) {
                v.push(l);
            }
        }
    }
    out
}

fn neighbours(links: &HashMap<Asn, Vec<&AsLinkObs>>, asn: Asn, rel: Relationship) -> Vec<Asn> {
    let mut v: Vec<Asn> = links
        .get(&asn)
        .map(|ls| {
            ls.iter()
                .filter(|l| l.relationship == rel)
                .map(|l| l.neighbor_asn)
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v.dedup();
    v
}

fn at_text(at: Option<Timestamp>, routes: &[RouteObs]) -> String {
    match at {
        Some(t) => t.to_rfc3339(),
        None => routes
            .iter()
            .map(|r| r.last_seen)
            .max()
            .map_or_else(String::new, |t| t.to_rfc3339()),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes a CSV header and one line a row, every field quoted as needed.
fn write_csv<const N: usize>(
    out: &mut dyn Write,
    header: &str,
    rows: impl Iterator<Item = [String; N]>,
) -> anyhow::Result<()> {
    writeln!(out, "{header}")?;
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

fn join_asns(v: &[Asn], sep: &str) -> String {
    v.iter()
        .map(|a| a.0.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

/// Prints rows as an aligned table (tab-separated beyond 10,000 rows).
fn print_table(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    if rows.len() > 10_000 {
        writeln!(out, "{}", header.join("\t"))?;
        for r in rows {
            writeln!(out, "{}", r.join("\t"))?;
        }
        return Ok(());
    }
    let mut w: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(x) = w.get_mut(i) {
                *x = (*x).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let width = w.get(i).copied().unwrap_or(0);
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}  "));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for r in rows {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// One answer of `depeer route lookup` (the `--json` object).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LookupRow {
    /// The address asked.
    pub ip: String,
    /// The longest matching prefix, if any.
    pub prefix: Option<String>,
    /// Its origin ASes at that moment (more than one: MOAS or AS_SET).
    pub origin_asns: Vec<u32>,
    /// Name of the (first) origin AS, when known.
    pub as_name: Option<String>,
    /// Providers of the origin ASes (inferred or from as-rel).
    pub upstreams: Vec<u32>,
    /// The moment of the table.
    pub at: String,
}

/// Answers lookups from the dataset in `data` (the library side of
/// `depeer route lookup`).
pub fn lookup_rows(
    data: &std::path::Path,
    addrs: &[IpAddr],
    at: Option<Timestamp>,
) -> anyhow::Result<Vec<LookupRow>> {
    let ds = open(data)?;
    let routes = ds.read_routes()?;
    if routes.is_empty() {
        anyhow::bail!(
            "{}: no routes stored; run `depeer ingest mrt` or `depeer ingest ipasn` first",
            data.display()
        );
    }
    let table = RouteTable::from_routes(&routes, at);
    let names = names_by_asn(ds.read_as_names()?);
    let all_links = ds.read_as_links()?;
    let links = links_at(&all_links, at);
    let at_s = at_text(at, &routes);
    let mut upstream_cache: HashMap<Asn, Vec<Asn>> = HashMap::new();
    let mut rows = Vec::with_capacity(addrs.len());
    for ip in addrs {
        let e = table.lookup(*ip);
        let origins: Vec<Asn> = e.map(|e| e.origins.clone()).unwrap_or_default();
        let mut ups: Vec<u32> = Vec::new();
        for o in &origins {
            let u = upstream_cache
                .entry(*o)
                .or_insert_with(|| neighbours(&links, *o, Relationship::Provider));
            for a in u.iter() {
                if !ups.contains(&a.0) {
                    ups.push(a.0);
                }
            }
        }
        rows.push(LookupRow {
            ip: ip.to_string(),
            prefix: e.map(|e| e.prefix.to_string()),
            as_name: origins
                .first()
                .and_then(|a| names.get(a))
                .map(|n| n.name.clone()),
            origin_asns: origins.iter().map(|a| a.0).collect(),
            upstreams: ups,
            at: at_s.clone(),
        });
    }
    Ok(rows)
}

fn join_u32(v: &[u32], sep: &str) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(sep)
}

/// Parses `--at` style times.
pub(crate) fn parse_time(s: &str) -> anyhow::Result<Timestamp> {
    Timestamp::parse(s).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The addresses of `depeer route lookup`: the arguments, then the lines of
/// `--file` (blank lines and `#` comments skipped).
fn read_addresses(args: &LookupArgs) -> anyhow::Result<Vec<IpAddr>> {
    let mut ips: Vec<String> = args.ips.clone();
    if let Some(f) = &args.file {
        let reader: Box<dyn BufRead> = if f.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(f).with_context(|| format!("{}: cannot open", f.display()))?,
            ))
        };
        for line in reader.lines() {
            let line = line?;
            let t = line.trim();
            if !t.is_empty() && !t.starts_with('#') {
                ips.push(t.to_string());
            }
        }
    }
    if ips.is_empty() {
        anyhow::bail!("no address given: `depeer route lookup IP...` or --file FILE");
    }
    ips.iter()
        .map(|s| {
            s.parse::<IpAddr>()
                .map_err(|_| anyhow::anyhow!("{s:?} is not an IP address"))
        })
        .collect()
}

/// Runs `depeer route lookup`.
pub fn lookup(args: &LookupArgs) -> anyhow::Result<()> {
    let at = args.moment.at()?;
    let addrs = read_addresses(args)?;
    let rows = lookup_rows(&args.moment.data, &addrs, at)?;
    args.format.answer(
        |out| {
            writeln!(out, "[")?;
            for (i, r) in rows.iter().enumerate() {
                let sep = if i + 1 < rows.len() { "," } else { "" };
                writeln!(out, "  {}{sep}", serde_json::to_string(r)?)?;
            }
            writeln!(out, "]")?;
            Ok(())
        },
        |out| {
            let header = "ip,prefix,origin_asns,as_name,upstreams,at";
            write_csv(
                out,
                header,
                rows.iter().map(|r| {
                    [
                        r.ip.clone(),
                        r.prefix.clone().unwrap_or_default(),
                        join_u32(&r.origin_asns, " "),
                        r.as_name.clone().unwrap_or_default(),
                        join_u32(&r.upstreams, " "),
                        r.at.clone(),
                    ]
                }),
            )
        },
        |out| print_lookup_table(out, &rows, at.is_none()),
    )
}

fn print_lookup_table(out: &mut dyn Write, rows: &[LookupRow], at_end: bool) -> anyhow::Result<()> {
    let dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.ip.clone(),
                dash(r.prefix.clone().unwrap_or_default()),
                dash(join_u32(&r.origin_asns, ",")),
                dash(r.as_name.clone().unwrap_or_default()),
                dash(join_u32(&r.upstreams, ",")),
            ]
        })
        .collect();
    print_table(
        out,
        &["IP", "PREFIX", "ORIGIN", "AS NAME", "UPSTREAMS"],
        &table,
    )?;
    let at_s = rows.first().map(|r| r.at.clone()).unwrap_or_default();
    writeln!(
        out,
        "(routing table at {at_s}{})",
        if at_end { ", the end of the data" } else { "" }
    )?;
    Ok(())
}

/// What `depeer route as` reports of one AS at one moment.
struct AsReport {
    asn: Asn,
    at: String,
    names: HashMap<Asn, AsNameObs>,
    /// Prefixes it originates then: prefix, peers seeing it, all origins.
    prefixes: Vec<(String, u32, Vec<Asn>)>,
    /// Distinct prefixes it ever originated.
    ever: usize,
    /// Neighbours by relationship, in print order.
    groups: [(&'static str, Vec<Asn>); 5],
    /// Its events up to the moment, in time order.
    events: Vec<RoutingEventObs>,
}

impl AsReport {
    fn read(data: &std::path::Path, asn: Asn, at: Option<Timestamp>) -> anyhow::Result<Self> {
        let ds = open(data)?;
        let routes = ds.read_routes()?;
        let table = RouteTable::from_routes(&routes, at);
        let all_links = ds.read_as_links()?;
        let links = links_at(&all_links, at);
        let mut events: Vec<RoutingEventObs> = ds
            .read_routing_events()?
            .into_iter()
            .filter(|e| e.asn == Some(asn) && at.is_none_or(|t| e.time <= t))
            .collect();
        events.sort_by_key(|e| e.time);
        let prefixes = table
            .entries()
            .iter()
            .filter(|e| e.origins.contains(&asn))
            .map(|e| (e.prefix.to_string(), e.peer_count, e.origins.clone()))
            .collect();
        let mut ever: Vec<_> = routes
            .iter()
            .filter(|r| r.origin_asn == asn)
            .map(|r| r.prefix)
            .collect();
        ever.sort();
        ever.dedup();
        let rel = |r| neighbours(&links, asn, r);
        Ok(AsReport {
            asn,
            at: at_text(at, &routes),
            names: names_by_asn(ds.read_as_names()?),
            prefixes,
            ever: ever.len(),
            groups: [
                ("upstreams", rel(Relationship::Provider)),
                ("customers", rel(Relationship::Customer)),
                ("peers", rel(Relationship::Peer)),
                ("siblings", rel(Relationship::Sibling)),
                ("unclassified", rel(Relationship::Unknown)),
            ],
            events,
        })
    }

    fn name_of(&self, a: &Asn) -> String {
        self.names
            .get(a)
            .map(|n| n.name.clone())
            .unwrap_or_default()
    }

    fn print_json(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let info = self.names.get(&self.asn);
        let prefixes: Vec<serde_json::Value> = self
            .prefixes
            .iter()
            .map(|(p, c, o)| {
                serde_json::json!({
                    "prefix": p,
                    "peer_count": c,
                    "origin_asns": o.iter().map(|a| a.0).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut obj = serde_json::json!({
            "asn": self.asn.0,
            "name": info.map(|n| n.name.clone()),
            "org": info.and_then(|n| n.org.clone()),
            "country": info.and_then(|n| n.country.clone()),
            "at": self.at,
            "prefixes": prefixes,
            "prefixes_ever": self.ever,
            "events": self.events.iter().map(event_json).collect::<Vec<_>>(),
        });
        if let Some(map) = obj.as_object_mut() {
            for (k, v) in &self.groups {
                map.insert(
                    (*k).to_string(),
                    serde_json::json!(v.iter().map(|a| a.0).collect::<Vec<_>>()),
                );
            }
        }
        writeln!(out, "{obj}")?;
        Ok(())
    }

    fn print_csv(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        writeln!(out, "section,value,detail")?;
        for (p, c, _) in &self.prefixes {
            writeln!(out, "prefix,{p},{c} peers")?;
        }
        for (k, v) in &self.groups {
            for a in v {
                writeln!(out, "{k},{},{}", a.0, csv_field(&self.name_of(a)))?;
            }
        }
        for e in &self.events {
            writeln!(
                out,
                "event,{},{} {}",
                e.time.to_rfc3339(),
                e.kind.as_str(),
                csv_field(&e.detail)
            )?;
        }
        Ok(())
    }

    fn print_text(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let info = self.names.get(&self.asn);
        writeln!(
            out,
            "{} {}{}{}  (at {})",
            self.asn,
            info.map_or("(no name known)", |n| n.name.as_str()),
            info.and_then(|n| n.org.as_deref())
                .map_or(String::new(), |o| format!(" / {o}")),
            info.and_then(|n| n.country.as_deref())
                .map_or(String::new(), |c| format!(" [{c}]")),
            self.at,
        )?;
        writeln!(
            out,
            "prefixes originated: {} at that moment, {} ever",
            self.prefixes.len(),
            self.ever
        )?;
        for (p, c, o) in &self.prefixes {
            let moas = if o.len() > 1 {
                format!("  (MOAS: {})", join_asns(o, ","))
            } else {
                String::new()
            };
            writeln!(out, "  {p:<20} {c} peers{moas}")?;
        }
        for (k, v) in self.groups.iter().filter(|(_, v)| !v.is_empty()) {
            writeln!(out, "{k}:")?;
            for a in v {
                writeln!(out, "  {a:<10} {}", self.name_of(a))?;
            }
        }
        writeln!(out, "events: {}", self.events.len())?;
        let last = self.events.len().saturating_sub(20);
        for e in self.events.iter().skip(last) {
            writeln!(
                out,
                "  {}  {:<15} {}",
                e.time.to_rfc3339(),
                e.kind.as_str(),
                e.detail
            )?;
        }
        Ok(())
    }
}

/// Runs `depeer route as`.
pub fn as_info(args: &AsArgs) -> anyhow::Result<()> {
    let asn = parse_asn(&args.asn)?;
    let report = AsReport::read(&args.moment.data, asn, args.moment.at()?)?;
    args.format.answer(
        |out| report.print_json(out),
        |out| report.print_csv(out),
        |out| report.print_text(out),
    )
}

fn event_json(e: &RoutingEventObs) -> serde_json::Value {
    serde_json::json!({
        "time": e.time.to_rfc3339(),
        "kind": e.kind.as_str(),
        "asn": e.asn.map(|a| a.0),
        "prefix": e.prefix.map(|p| p.to_string()),
        "detail": e.detail,
    })
}

/// Runs `depeer route events`.
pub fn events(args: &EventsArgs) -> anyhow::Result<()> {
    let asn = args.asn.as_deref().map(parse_asn).transpose()?;
    let since = args.since.as_deref().map(parse_time).transpose()?;
    let until = args.until.as_deref().map(parse_time).transpose()?;
    let ds = open(&args.data)?;
    let mut events: Vec<RoutingEventObs> = ds
        .read_routing_events()?
        .into_iter()
        .filter(|e| asn.is_none_or(|a| e.asn == Some(a)))
        .filter(|e| since.is_none_or(|t| e.time >= t))
        .filter(|e| until.is_none_or(|t| e.time <= t))
        .filter(|e| args.kind.as_deref().is_none_or(|k| e.kind.as_str() == k))
        .collect();
    events.sort_by_key(|e| e.time);
    args.format.answer(
        |out| {
            let all = events.iter().map(event_json).collect();
            writeln!(out, "{}", serde_json::Value::Array(all))?;
            Ok(())
        },
        |out| {
            write_csv(
                out,
                "time,kind,asn,prefix,detail",
                events.iter().map(|e| {
                    [
                        e.time.to_rfc3339(),
                        e.kind.as_str().to_string(),
                        e.asn.map_or(String::new(), |a| a.0.to_string()),
                        e.prefix.map_or(String::new(), |p| p.to_string()),
                        e.detail.clone(),
                    ]
                }),
            )
        },
        |out| print_events_table(out, &events),
    )
}

fn print_events_table(out: &mut dyn Write, events: &[RoutingEventObs]) -> anyhow::Result<()> {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.time.to_rfc3339(),
                e.kind.as_str().to_string(),
                e.asn.map_or("-".into(), |a| a.to_string()),
                e.prefix.map_or("-".into(), |p| p.to_string()),
                e.detail.clone(),
            ]
        })
        .collect();
    print_table(out, &["TIME", "KIND", "AS", "PREFIX", "DETAIL"], &rows)?;
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events {
        *by_kind.entry(e.kind.as_str()).or_insert(0) += 1;
    }
    writeln!(out, "{} events {:?}", events.len(), by_kind)?;
    Ok(())
}
