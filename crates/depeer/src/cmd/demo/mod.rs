//! `depeer demo`: simulate McColo 2008 at a small scale, run every stage that
//! exists on it, and tell the story. Each stage runs as the `depeer`
//! subcommand a user would type (the same binary, `--json` output), so the
//! demo shows exactly what the commands do. A stage that is not built yet
//! says so; nothing is faked.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use serde_json::Value;

mod conclusions;

const AFTER: &str = "\
The demo writes a synthetic world (MRT, mbox, feeds, as2org, truth) with
`depeer sim`, ingests it with `depeer ingest mail` and `depeer ingest mrt`,
and asks the dataset what happened around the depeering. Keep the files
with --out and explore them afterwards:

  depeer demo --out /tmp/mccolo
  depeer sql --data /tmp/mccolo/data \"SELECT * FROM routing_events LIMIT 20\"";

/// Flags of `depeer demo`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// Keep everything in this directory (default: a temporary directory,
    /// removed at the end).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Scenario to simulate.
    #[arg(long, default_value = "mccolo-2008")]
    pub scenario: String,
    /// Seed of the simulated world.
    #[arg(long, default_value_t = 2008)]
    pub seed: u64,
    /// World size (1.0: a few thousand trap messages).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

pub(super) struct Runner {
    exe: PathBuf,
    data: PathBuf,
}

impl Runner {
    fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new(&self.exe)
            .args(args)
            .output()
            .with_context(|| format!("cannot start {}", self.exe.display()))?;
        if !out.status.success() {
            anyhow::bail!(
                "`depeer {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub(super) fn json(&self, args: &[&str]) -> anyhow::Result<Value> {
        let text = self.run(args)?;
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("null");
        serde_json::from_str(last)
            .or_else(|_| serde_json::from_str(&text))
            .with_context(|| format!("`depeer {}` did not print JSON", args.join(" ")))
    }

    /// Runs `depeer ARGS --json --data DATA [EXTRA...]`; a failure is
    /// written as the stage's line and gives `None`.
    pub(super) fn ask(
        &self,
        out: &mut dyn Write,
        args: &[&str],
        extra: &[String],
    ) -> anyhow::Result<Option<Value>> {
        let data = self.data.display().to_string();
        let mut argv = args.to_vec();
        argv.extend(["--json", "--data", &data]);
        argv.extend(extra.iter().map(String::as_str));
        match self.json(&argv) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                writeln!(out, "   {e:#}")?;
                Ok(None)
            }
        }
    }

    fn sql(&self, query: &str) -> anyhow::Result<Vec<Value>> {
        let data = self.data.display().to_string();
        match self.json(&["sql", "--data", &data, "--json", query])? {
            Value::Array(rows) => Ok(rows),
            other => anyhow::bail!("unexpected SQL output {other}"),
        }
    }
}

pub(super) fn num(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn files_with(dir: &Path, pred: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_with(&p, pred));
        } else if p.file_name().and_then(|n| n.to_str()).is_some_and(pred) {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A one-line chart of hourly counts.
fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().fold(0.0, f64::max);
    values
        .iter()
        .map(|v| {
            let level = if max <= 0.0 {
                0
            } else {
                ((v / max) * 7.0).round() as usize
            };
            BARS.get(level).or(BARS.last()).copied().unwrap_or(' ')
        })
        .collect()
}

/// Microseconds per hour.
pub(super) const HOUR_US: i64 = 3_600_000_000;
/// Hours on each side of the depeering in the volume chart.
const VOLUME_HOURS: i64 = 48;
/// Routing events listed at most.
const EVENTS_SHOWN: usize = 12;

/// Runs `depeer demo`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let tmp;
    let root = match &args.out {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
            tmp.path().to_path_buf()
        }
    };
    let world = root.join("world");
    let r = Runner {
        exe: std::env::current_exe().context("cannot find the depeer binary")?,
        data: root.join("data"),
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "depeer demo: {} (seed {}, scale {})\n",
        args.scenario, args.seed, args.scale
    )?;
    let cut_time = simulate(&r, args, &world, &mut out)?;
    ingest_mail(&r, &world, &mut out)?;
    let routing_ok = ingest_routing(&r, &world, &mut out)?;
    let cut = depeer_core::Timestamp::parse(&cut_time).ok();
    volume_around(&r, cut, &cut_time, &mut out)?;
    events_at(&r, routing_ok.then_some(cut).flatten(), &mut out)?;
    botnets_around(&mut out, &r, cut)?;
    let cut = routing_ok.then_some(cut).flatten();
    let m = conclusions::Moment { r: &r, cut };
    if let Some(asn) = conclusions::rank_before(&m, &mut out)? {
        conclusions::depends_on(&m, &mut out, asn)?;
        conclusions::whatif(&m, &mut out, asn)?;
    }
    conclusions::drops(&m, &mut out)?;
    conclusions::blocklists(&m, &mut out, &root)?;
    evidence(&mut out, &r)?;
    report(&mut out, &r, &root, cut, args.out.is_some())?;
    writeln!(out, "\nDone in {:.1} s.", started.elapsed().as_secs_f64())?;
    let data = r.data.display();
    if args.out.is_some() {
        writeln!(
            out,
            "The world is in {}, the dataset in {data}: try\n  depeer sql --data {data} \"SELECT subject, count(*) n FROM messages GROUP BY 1 ORDER BY n DESC LIMIT 10\"",
            world.display()
        )?;
    } else {
        writeln!(
            out,
            "Run `depeer demo --out DIR` to keep the world and the dataset."
        )?;
    }
    Ok(())
}

/// 1. The world; returns the time of the scenario's depeering.
fn simulate(r: &Runner, args: &Args, world: &Path, out: &mut dyn Write) -> anyhow::Result<String> {
    writeln!(out, "1. Simulating the world (depeer sim)")?;
    let sim = r.json(&[
        "sim",
        "--quiet",
        "--json",
        "--scenario",
        &args.scenario,
        "--seed",
        &args.seed.to_string(),
        "--scale",
        &args.scale.to_string(),
        "--out",
        &world.display().to_string(),
    ])?;
    let cut_time = sim
        .get("main_event_time")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    writeln!(
        out,
        "   {} ASes, {} IPv4 + {} IPv6 prefixes, {} BGP updates, {} spamtrap messages; \
         the scenario's depeering is at {cut_time}",
        num(&sim, "ases"),
        num(&sim, "prefixes_v4"),
        num(&sim, "prefixes_v6"),
        num(&sim, "bgp_updates"),
        num(&sim, "messages"),
    )?;
    Ok(cut_time)
}

/// 2. Mail.
fn ingest_mail(r: &Runner, world: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "\n2. Ingesting the spamtraps (depeer ingest mail)")?;
    let data = r.data.display().to_string();
    let mail = r.json(&[
        "ingest",
        "mail",
        "--quiet",
        "--json",
        "--data",
        &data,
        &world.join("mail").display().to_string(),
    ])?;
    writeln!(
        out,
        "   read {} messages: {} stored, {} duplicate, {} quarantined {} in {:.1} s",
        num(&mail, "read"),
        num(&mail, "stored"),
        num(&mail, "duplicate"),
        num(&mail, "quarantined"),
        mail.get("quarantine_reasons")
            .map(Value::to_string)
            .unwrap_or_default(),
        num(&mail, "seconds"),
    )?;
    Ok(())
}

/// 3. Routing; returns whether a routing history was stored.
fn ingest_routing(r: &Runner, world: &Path, out: &mut dyn Write) -> anyhow::Result<bool> {
    writeln!(
        out,
        "\n3. Ingesting BGP data, AS names and threat feeds (depeer ingest mrt, ingest as2org, ingest feed)"
    )?;
    let data = r.data.display().to_string();
    let mrt_files = files_with(&world.join("bgp"), &|n| {
        n.contains("rib") || n.contains("updates")
    });
    let routing_ok = if mrt_files.is_empty() {
        writeln!(out, "   no MRT files in the world: skipped")?;
        false
    } else {
        let mut argv = vec!["ingest", "mrt", "--quiet", "--json", "--data", &data];
        let names: Vec<String> = mrt_files.iter().map(|p| p.display().to_string()).collect();
        argv.extend(names.iter().map(String::as_str));
        match r.json(&argv) {
            Ok(v) => {
                writeln!(out, "   {}", summarize_mrt(&v))?;
                true
            }
            Err(e) => {
                writeln!(out, "   routing stage failed: {e:#}")?;
                false
            }
        }
    };
    for f in files_with(world, &|n| n.starts_with("as2org")) {
        let f = f.display().to_string();
        if let Err(e) = r.run(&["ingest", "as2org", "--quiet", "--data", &data, &f]) {
            writeln!(out, "   as2org: {e:#}")?;
        }
    }
    let feeds = files_with(&world.join("feeds"), &|n| n.contains(".csv"));
    if !feeds.is_empty() {
        let mut argv = vec!["ingest", "feed", "--json", "--data", &data];
        let names: Vec<String> = feeds.iter().map(|p| p.display().to_string()).collect();
        argv.extend(names.iter().map(String::as_str));
        match r.json(&argv) {
            Ok(v) => writeln!(
                out,
                "   feeds: {} files, {} listings stored, {} quarantined",
                num(&v, "files"),
                num(&v, "stored"),
                num(&v, "quarantined")
            )?,
            Err(e) => writeln!(out, "   feeds: {e:#}")?,
        }
    }
    Ok(routing_ok)
}

/// 4. Hourly trap volume around the cut, from the stored messages.
fn volume_around(
    r: &Runner,
    cut: Option<depeer_core::Timestamp>,
    cut_time: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    writeln!(out, "\n4. Spam volume around the depeering (depeer sql)")?;
    let Some(cut) = cut else {
        writeln!(out, "   the simulator gave no event time; skipped")?;
        return Ok(());
    };
    let hours = VOLUME_HOURS;
    let lo = depeer_core::Timestamp(cut.0 - hours * HOUR_US).to_rfc3339();
    let hi = depeer_core::Timestamp(cut.0 + hours * HOUR_US).to_rfc3339();
    let rows = r.sql(&format!(
        "SELECT CAST(floor((CAST(arrival_time AS BIGINT) - {c}) / 3600000000.0) AS BIGINT) AS h, count(*) AS n \
         FROM messages WHERE arrival_time >= TIMESTAMP '{lo}' AND arrival_time < TIMESTAMP '{hi}' \
         GROUP BY 1 ORDER BY 1",
        c = cut.0
    ))?;
    let mut hourly = vec![0.0; usize::try_from(2 * hours).unwrap_or(0)];
    for row in &rows {
        let h = row.get("h").and_then(Value::as_i64).unwrap_or(i64::MIN);
        if let Some(slot) = usize::try_from(h + hours)
            .ok()
            .and_then(|i| hourly.get_mut(i))
        {
            *slot = num(row, "n");
        }
    }
    let (before, after) = hourly.split_at(usize::try_from(hours).unwrap_or(0));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (b, a) = (mean(before), mean(after));
    writeln!(
        out,
        "   trap messages per hour, 48 h before | 48 h after {cut_time}:"
    )?;
    writeln!(out, "   {}|{}", sparkline(before), sparkline(after))?;
    if b > 0.0 {
        writeln!(
            out,
            "   before {b:.1}/h, after {a:.1}/h: {:+.0} % (measured from the stored messages)",
            (a / b - 1.0) * 100.0
        )?;
    }
    Ok(())
}

/// Whether an event is one a reader of the story cares about.
fn matters(e: &Value) -> bool {
    e.get("kind").and_then(Value::as_str).is_some_and(|k| {
        k.starts_with("upstream") || k.starts_with("as-") || k == "prefix-withdrawn"
    })
}

/// Stage 5: routing events within an hour of the cut; `cut` is `None`
/// without a routing history or an event time.
fn events_at(
    r: &Runner,
    cut: Option<depeer_core::Timestamp>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n5. Routing events within an hour of the depeering (depeer route events)"
    )?;
    let Some(cut) = cut else {
        writeln!(out, "   skipped: no routing history")?;
        return Ok(());
    };
    let data = r.data.display().to_string();
    let since = depeer_core::Timestamp(cut.0 - HOUR_US).to_rfc3339();
    let until = depeer_core::Timestamp(cut.0 + HOUR_US).to_rfc3339();
    let events = match r.json(&[
        "route", "events", "--data", &data, "--json", "--since", &since, "--until", &until,
    ]) {
        Ok(Value::Array(events)) => events,
        Ok(other) => return Ok(writeln!(out, "   unexpected output: {other}")?),
        Err(e) => return Ok(writeln!(out, "   {e:#}")?),
    };
    let interesting: Vec<&Value> = events.iter().filter(|e| matters(e)).collect();
    writeln!(out, "   {} events; the ones that matter:", events.len())?;
    let text = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    for e in interesting.iter().take(EVENTS_SHOWN) {
        writeln!(
            out,
            "   {}  {:<17} AS{:<7} {} {}",
            text(e, "time"),
            text(e, "kind"),
            e.get("asn").map(|v| v.to_string()).unwrap_or_default(),
            text(e, "prefix"),
            text(e, "detail"),
        )?;
    }
    if interesting.len() > EVENTS_SHOWN {
        writeln!(out, "   ... {} more", interesting.len() - EVENTS_SHOWN)?;
    }
    Ok(())
}

/// Botnets listed at most in the demo's table.
const BOTNETS_SHOWN: usize = 8;

/// Stage 6: attribution with everything now stored (the mail came before
/// the feeds and routes), then the botnet table of the day before the cut
/// and of the day after it (the truth's windows: [t-24 h, t) and
/// [t+1 h, t+25 h)).
fn botnets_around(
    out: &mut dyn Write,
    r: &Runner,
    cut: Option<depeer_core::Timestamp>,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n6. Botnets before and after the depeering (depeer attribute, depeer botnets)"
    )?;
    let data = r.data.display().to_string();
    let Some(a) = r.ask(out, &["attribute"], &[])? else {
        return Ok(());
    };
    writeln!(
        out,
        "   {} of {} messages attributed ({:.1} %), by signal {}; {} relays unroutable at the message time",
        num(&a, "attributed"),
        num(&a, "messages"),
        num(&a, "attributed_share") * 100.0,
        a.get("signals").map(Value::to_string).unwrap_or_default(),
        num(&a, "unroutable_relays"),
    )?;
    let Some(cut) = cut else {
        return Ok(());
    };
    let window = |from: i64, until: i64| {
        let (from, until) = (
            depeer_core::Timestamp(from).to_rfc3339(),
            depeer_core::Timestamp(until).to_rfc3339(),
        );
        r.json(&[
            "botnets", "--json", "--data", &data, "--from", &from, "--until", &until,
        ])
    };
    let before = window(cut.0 - 24 * HOUR_US, cut.0 - 1)?;
    let after = window(cut.0 + HOUR_US, cut.0 + 25 * HOUR_US)?;
    let list = |v: &Value| {
        v.get("botnets")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let after_list = list(&after);
    writeln!(
        out,
        "   {:<12} {:>10} {:>9} {:>7} {:>6}  C&C hosted by (when first listed)",
        "botnet", "day before", "day after", "change", "bots"
    )?;
    for b in list(&before).iter().take(BOTNETS_SHOWN) {
        let name = b.get("botnet").and_then(Value::as_str).unwrap_or("?");
        let n_before = num(b, "messages");
        let n_after = after_list
            .iter()
            .find(|x| x.get("botnet").and_then(Value::as_str) == Some(name))
            .map_or(0.0, |x| num(x, "messages"));
        writeln!(
            out,
            "   {name:<12} {n_before:>10} {n_after:>9} {:>+6.0}% {:>6}  {}",
            (n_after / n_before.max(1.0) - 1.0) * 100.0,
            num(b, "bots_estimate"),
            cc_hosts(b)
        )?;
    }
    Ok(())
}

/// The distinct hosting networks of a botnet row's C&C servers.
fn cc_hosts(b: &Value) -> String {
    let mut hosts: Vec<String> = Vec::new();
    for c in b.get("cc").and_then(Value::as_array).into_iter().flatten() {
        let h = match c.get("asn").and_then(Value::as_u64) {
            Some(asn) => format!(
                "AS{asn} {}",
                c.get("org").and_then(Value::as_str).unwrap_or("")
            ),
            None => "unrouted".to_string(),
        };
        if !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    if hosts.is_empty() {
        "none listed".to_string()
    } else {
        hosts.join(", ")
    }
}

/// Stage 12: the evidence log (every stored message has its entry under a
/// signed checkpoint), then where more than one machine is described.
fn evidence(out: &mut dyn Write, r: &Runner) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n12. The evidence log, checked from the stored bytes (depeer log verify)"
    )?;
    if let Some(v) = r.ask(out, &["log", "verify"], &[])? {
        writeln!(
            out,
            "   {} entries for {} stored objects, {} signed checkpoints, tree size {}: verified",
            num(&v, "entries"),
            num(&v, "objects"),
            num(&v, "checkpoints"),
            num(&v, "tree_size"),
        )?;
        writeln!(
            out,
            "   verifier key {}",
            v.get("vkey").and_then(Value::as_str).unwrap_or("?")
        )?;
    }
    writeln!(
        out,
        "   more than one machine (not run here: they need nats-server and a Ballista cluster): `depeer nats setup`, `ingest ... --to nats://`, `depeer trap --to nats://`, `depeer worker`, `depeer sql --ballista` (docs/SCALING.md)"
    )?;
    Ok(())
}

/// Stage 13, the HTML report, of the hour before the depeering when there is one
/// (the dependency graph then shows the network about to be cut).
fn report(
    out: &mut dyn Write,
    r: &Runner,
    root: &Path,
    cut: Option<depeer_core::Timestamp>,
    kept: bool,
) -> anyhow::Result<()> {
    writeln!(out, "\n13. The report (depeer report)")?;
    let (data, html) = (r.data.display().to_string(), root.join("report.html"));
    let html_text = html.display().to_string();
    let at = cut.map(|c| depeer_core::Timestamp(c.0 - HOUR_US).to_rfc3339());
    let mut argv = vec!["report", "--json", "--data", &data, "--out", &html_text];
    if let Some(at) = &at {
        argv.extend(["--at", at.as_str()]);
    }
    match r.json(&argv) {
        Ok(v) => {
            writeln!(
                out,
                "   wrote {html_text} ({:.0} KB, opens offline in any browser)",
                num(&v, "bytes") / 1024.0
            )?;
            if !kept {
                writeln!(
                    out,
                    "   (removed with the demo's temporary directory: use --out DIR to keep it)"
                )?;
            }
        }
        Err(e) => writeln!(out, "   {e:#}")?,
    }
    writeln!(out, "\n14. The dashboard and the API (depeer serve)")?;
    if kept {
        writeln!(
            out,
            "   depeer serve http --data {data}    then open http://127.0.0.1:8080/"
        )?;
    } else {
        writeln!(
            out,
            "   rerun with --out DIR to keep the data, then: depeer serve http --data DIR/data   (http://127.0.0.1:8080/)"
        )?;
    }
    Ok(())
}

fn summarize_mrt(v: &Value) -> String {
    let keys = [
        "files",
        "records_read",
        "records_used",
        "quarantined",
        "routes",
        "as_links",
        "routing_events",
        "seconds",
    ];
    let parts: Vec<String> = keys
        .iter()
        .filter_map(|k| v.get(*k).map(|x| format!("{k} {x}")))
        .collect();
    if parts.is_empty() {
        v.to_string()
    } else {
        parts.join(", ")
    }
}
