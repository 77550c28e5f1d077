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

struct Runner {
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

    fn json(&self, args: &[&str]) -> anyhow::Result<Value> {
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

    fn sql(&self, query: &str) -> anyhow::Result<Vec<Value>> {
        let data = self.data.display().to_string();
        match self.json(&["sql", "--data", &data, "--json", query])? {
            Value::Array(rows) => Ok(rows),
            other => anyhow::bail!("unexpected SQL output {other}"),
        }
    }
}

fn num(v: &Value, k: &str) -> f64 {
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
            if max <= 0.0 {
                BARS[0]
            } else {
                let i = ((v / max) * 7.0).round() as usize;
                BARS[i.min(7)]
            }
        })
        .collect()
}

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
    let data = r.data.display().to_string();
    let mut out = std::io::stdout().lock();

    writeln!(
        out,
        "depeer demo: {} (seed {}, scale {})\n",
        args.scenario, args.seed, args.scale
    )?;

    // 1. The world.
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

    // 2. Mail.
    writeln!(out, "\n2. Ingesting the spamtraps (depeer ingest mail)")?;
    let mail_dir = world.join("mail");
    let mail = r.json(&[
        "ingest",
        "mail",
        "--quiet",
        "--json",
        "--data",
        &data,
        &mail_dir.display().to_string(),
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

    // 3. Routing.
    writeln!(
        out,
        "\n3. Ingesting BGP data and AS names (depeer ingest mrt, depeer ingest as2org)"
    )?;
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
    for f in files_with(&world, &|n| n.starts_with("as2org")) {
        if let Err(e) = r.run(&[
            "ingest",
            "as2org",
            "--quiet",
            "--data",
            &data,
            &f.display().to_string(),
        ]) {
            writeln!(out, "   as2org: {e:#}")?;
        }
    }

    // 4. Volume around the cut.
    writeln!(out, "\n4. Spam volume around the depeering (depeer sql)")?;
    let cut = depeer_core::Timestamp::parse(&cut_time).ok();
    if let Some(cut) = cut {
        let hours = 48;
        let lo = depeer_core::Timestamp(cut.0 - hours * 3_600_000_000).to_rfc3339();
        let hi = depeer_core::Timestamp(cut.0 + hours * 3_600_000_000).to_rfc3339();
        let rows = r.sql(&format!(
            "SELECT CAST(floor((CAST(arrival_time AS BIGINT) - {c}) / 3600000000.0) AS BIGINT) AS h, count(*) AS n \
             FROM messages WHERE arrival_time >= TIMESTAMP '{lo}' AND arrival_time < TIMESTAMP '{hi}' \
             GROUP BY 1 ORDER BY 1",
            c = cut.0
        ))?;
        let mut hourly = vec![0.0; (2 * hours) as usize];
        for row in &rows {
            let h = row.get("h").and_then(Value::as_i64).unwrap_or(i64::MIN);
            if let Some(slot) = usize::try_from(h + hours)
                .ok()
                .and_then(|i| hourly.get_mut(i))
            {
                *slot = num(row, "n");
            }
        }
        let (before, after) = hourly.split_at(hours as usize);
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
    } else {
        writeln!(out, "   the simulator gave no event time; skipped")?;
    }

    // 5. Routing events at the cut.
    writeln!(
        out,
        "\n5. Routing events within an hour of the depeering (depeer route events)"
    )?;
    if let (true, Some(cut)) = (routing_ok, cut) {
        let since = depeer_core::Timestamp(cut.0 - 3_600_000_000).to_rfc3339();
        let until = depeer_core::Timestamp(cut.0 + 3_600_000_000).to_rfc3339();
        match r.json(&[
            "route", "events", "--data", &data, "--json", "--since", &since, "--until", &until,
        ]) {
            Ok(Value::Array(events)) => {
                let interesting: Vec<&Value> = events
                    .iter()
                    .filter(|e| {
                        e.get("kind").and_then(Value::as_str).is_some_and(|k| {
                            k.starts_with("upstream")
                                || k.starts_with("as-")
                                || k == "prefix-withdrawn"
                        })
                    })
                    .collect();
                writeln!(out, "   {} events; the ones that matter:", events.len())?;
                for e in interesting.iter().take(12) {
                    writeln!(
                        out,
                        "   {}  {:<17} AS{:<7} {} {}",
                        e.get("time").and_then(Value::as_str).unwrap_or(""),
                        e.get("kind").and_then(Value::as_str).unwrap_or(""),
                        e.get("asn").map(|v| v.to_string()).unwrap_or_default(),
                        e.get("prefix").and_then(Value::as_str).unwrap_or(""),
                        e.get("detail").and_then(Value::as_str).unwrap_or(""),
                    )?;
                }
                if interesting.len() > 12 {
                    writeln!(out, "   ... {} more", interesting.len() - 12)?;
                }
            }
            Ok(other) => writeln!(out, "   unexpected output: {other}")?,
            Err(e) => writeln!(out, "   {e:#}")?,
        }
    } else {
        writeln!(out, "   skipped: no routing history")?;
    }

    // 6. What is not built yet.
    writeln!(out, "\n6. Stages not built yet (nothing is faked):")?;
    for stage in [
        "attribution of messages to botnets and of botnets to hosting networks",
        "change-point detection of the drop and its attribution to the routing events",
        "ranking of rogue networks before the event",
        "what-if prediction beside what happened",
        "DNS blocklist, exports, HTTP API, dashboard and HTML report",
    ] {
        writeln!(out, "   - {stage}: not built yet")?;
    }

    writeln!(out, "\nDone in {:.1} s.", started.elapsed().as_secs_f64())?;
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
