//! `depeer events`: abrupt drops and rises of the trapped spam, with the
//! routing events that explain them. The events and their causes are
//! `depeer_ingest::read::events` (docs/events.md); this module parses the
//! flags and prints.

use std::io::Write;
use std::path::PathBuf;

use depeer_ingest::read::events::{EventOut, EventScope, EventsReport, events};

use crate::cmd::route::parse_time;

/// Which series events are looked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// All trapped spam (key null).
    Total,
    /// Each botnet of the `attribution` table.
    Botnet,
    /// Each sending AS (the relay's origin AS at the message time).
    SendingAs,
    /// Each AS hosting the C&C servers of the message's botnet.
    HostingAs,
}

/// Flags of `depeer events`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Each event: when (with an interval), the relative change of the rate
over the next 24 hours (-0.66: two thirds fewer messages) with its
interval, a confidence, and for drops and rises of the total the routing
events of the two hours before that explain it, best first, with the
share of the change each explains. Run `depeer attribute` first for
per-botnet placement and causes.

Examples:
  depeer events
  depeer events --from 2008-11-10T00:00Z --until 2008-11-13T00:00Z --json
  depeer events --scope botnet
  depeer events --scope hosting-as --json
  depeer events --build                      # the `events` table, every scope
  depeer events --follow                     # online, as ingest commits
  depeer events --follow --scope botnet      # online, each botnet"
)]
pub struct Args {
    /// Start (inclusive; default: the first message).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End (exclusive; default: after the last message).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Which series.
    #[arg(long, value_enum, default_value = "total")]
    pub scope: Scope,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Data directory.
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Detect the events of every scope and replace the `events` table
    /// with them (query it with `depeer sql`).
    #[arg(long, conflicts_with_all = ["follow", "scope"])]
    pub build: bool,
    /// Keep running: print each event of the scope as soon as it is
    /// confirmed by the data committed so far (one JSON object a line with
    /// --json), with how long after its time that was.
    #[arg(long, conflicts_with_all = ["from", "until"])]
    pub follow: bool,
    /// With --follow: how often to look for newly committed data.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "5s",
        requires = "follow"
    )]
    pub poll: String,
    /// With --follow: stop after this long without new data (default: never).
    #[arg(long, value_name = "DURATION", requires = "follow")]
    pub exit_when_idle: Option<String>,
    /// With --follow and a --scope other than total: follow at most this
    /// many keys (about 90 kB each); later keys' messages are counted as
    /// skipped.
    #[arg(long, value_name = "N", default_value_t = 2000, requires = "follow")]
    pub max_keys: usize,
}

/// Runs `depeer events`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.follow {
        return follow(args);
    }
    let from = args.from.as_deref().map(parse_time).transpose()?;
    let until = args.until.as_deref().map(parse_time).transpose()?;
    if args.build {
        let s = depeer_ingest::read::events::build(&args.data, from, until)?;
        return crate::output::print_summary(args.json, false, &s, |out| {
            for (scope, n) in &s.scopes {
                writeln!(out, "{scope:<11} {n} events")?;
            }
            writeln!(
                out,
                "events table: {} rows; try depeer sql \"SELECT scope, key, kind, time, magnitude, cause_asn FROM events ORDER BY time\"",
                s.rows
            )
        });
    }
    let report = EventsReport {
        events: events(&args.data, event_scope(args.scope), from, until)?,
    };
    crate::output::print_summary(args.json, false, &report, |out| print_table(&report, out))
}

fn print_table(r: &EventsReport, out: &mut dyn Write) -> std::io::Result<()> {
    if r.events.is_empty() {
        return writeln!(out, "no events");
    }
    for e in &r.events {
        print_event(e, out)?;
    }
    Ok(())
}

fn print_event(e: &EventOut, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(r) = &e.routing {
        return writeln!(
            out,
            "{} {} routing {} at {}: {}",
            e.scope,
            e.key.as_deref().unwrap_or("-"),
            r.kind,
            e.time,
            r.detail
        );
    }
    writeln!(
        out,
        "{} {} {} {:+.1} % [{:+.1} %, {:+.1} %] at {} (between {} and {}), confidence {:.2}",
        e.scope,
        e.key.as_deref().unwrap_or("spam"),
        e.kind,
        100.0 * e.magnitude,
        100.0 * e.low,
        100.0 * e.high,
        e.time,
        e.time_low,
        e.time_high,
        e.confidence
    )?;
    if e.scope == "total" && e.causes.is_empty() {
        writeln!(
            out,
            "  no routing event of the two hours before explains it"
        )?;
    }
    for c in &e.causes {
        writeln!(
            out,
            "  AS{} {}: {} at {} explains {:.0} %",
            c.asn,
            c.org.as_deref().unwrap_or("-"),
            c.kind,
            c.time,
            100.0 * c.explains
        )?;
    }
    Ok(())
}

/// A duration flag: `250ms`, or what `depeer series --step` takes.
fn seconds(flag: &str, text: &str) -> anyhow::Result<std::time::Duration> {
    if let Some(ms) = text.strip_suffix("ms")
        && let Ok(n) = ms.parse::<u64>()
    {
        return Ok(std::time::Duration::from_millis(n.max(1)));
    }
    let us = depeer_analysis::parse_duration(text).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
    Ok(std::time::Duration::from_micros(
        u64::try_from(us).unwrap_or(0).max(1),
    ))
}

/// `depeer events --follow`: polls the data directory until killed (or
/// idle for `--exit-when-idle`).
fn follow(args: &Args) -> anyhow::Result<()> {
    let poll = seconds("--poll", &args.poll)?;
    let idle = args
        .exit_when_idle
        .as_deref()
        .map(|t| seconds("--exit-when-idle", t))
        .transpose()?;
    let mut f = depeer_ingest::read::follow::Follower::scoped(
        &args.data,
        depeer_analysis::OnlineParams::default(),
        event_scope(args.scope),
        args.max_keys,
        true,
    );
    let mut last_new = std::time::Instant::now();
    loop {
        let before = f.messages();
        let found = f.poll()?;
        let mut out = std::io::stdout().lock();
        for e in &found {
            if args.json {
                serde_json::to_writer(&mut out, e)?;
                writeln!(out)?;
            } else {
                print_event(&e.event, &mut out)?;
                writeln!(
                    out,
                    "  confirmed at {}, {:.0} min after its time",
                    e.confirmed_at,
                    e.delay_seconds as f64 / 60.0
                )?;
            }
        }
        out.flush()?;
        drop(out);
        if f.messages() > before {
            last_new = std::time::Instant::now();
        } else if idle.is_some_and(|d| last_new.elapsed() >= d) {
            if f.skipped() > 0 {
                eprintln!(
                    "{} messages of keys past --max-keys {} were not followed",
                    f.skipped(),
                    args.max_keys
                );
            }
            return Ok(());
        }
        std::thread::sleep(poll);
    }
}

fn event_scope(scope: Scope) -> EventScope {
    match scope {
        Scope::Total => EventScope::Total,
        Scope::Botnet => EventScope::Botnet,
        Scope::SendingAs => EventScope::SendingAs,
        Scope::HostingAs => EventScope::HostingAs,
    }
}
