//! `depeer nats setup` and the `--to nats://` of the producers: flags in,
//! `depeer_cluster::nats` does the work, summaries out.

use std::io::Write;
use std::path::PathBuf;

use depeer_cluster::nats::{
    As2orgJob, FeedJob, MrtJob, ProduceOptions, ProduceSummary, SetupOptions, parse_duration,
};

/// `depeer nats ...`
#[derive(Debug, clap::Subcommand)]
pub enum NatsCommand {
    /// Create (idempotently) the JetStream stream and the workers' durable consumer.
    Setup(SetupArgs),
}

const SETUP_AFTER: &str = "\
The stream (default DEPEER) takes every subject under depeer.>: objects on
depeer.obj.{mail,quarantine,mrt,feed,as2org}, parts of large objects on
depeer.part.*. It is a work queue on file storage that refuses new
messages when full. Running setup again changes only what differs.
Limits and sizing: docs/SCALING.md.

Examples:
  depeer nats setup --nats nats://127.0.0.1:4222
  depeer nats setup --nats nats://n1:4222 --replicas 3 --max-bytes 2T --max-age 3d";

/// Flags of `depeer nats setup`.
#[derive(Debug, clap::Args)]
#[command(after_help = SETUP_AFTER)]
pub struct SetupArgs {
    /// The NATS server.
    #[arg(long, value_name = "URL", default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
    /// The stream's name.
    #[arg(long, default_value = depeer_cluster::nats::STREAM)]
    pub stream: String,
    /// The workers' durable consumer's name.
    #[arg(long, default_value = depeer_cluster::nats::CONSUMER)]
    pub consumer: String,
    /// How long an object may wait in the stream (s, m, h, d).
    #[arg(long, default_value = "7d", value_parser = parse_duration)]
    pub max_age: std::time::Duration,
    /// The most bytes the stream holds (K, M, G, T: binary; within the server's JetStream storage); publishes fail beyond.
    #[arg(long, default_value = "10G", value_parser = parse_bytes)]
    pub max_bytes: i64,
    /// Copies of every message: 1 on one server, 3 on a 3-node cluster.
    #[arg(long, default_value_t = 1)]
    pub replicas: usize,
    /// How long a Nats-Msg-Id is remembered to drop re-sends.
    #[arg(long, default_value = "2m", value_parser = parse_duration)]
    pub duplicate_window: std::time::Duration,
    /// How long a delivered object may stay unacknowledged before another worker gets it.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub ack_wait: std::time::Duration,
    /// Deliveries before an object is quarantined as poison.
    #[arg(long, default_value_t = 20)]
    pub max_deliver: i64,
    /// Objects delivered and unacknowledged at once, over all workers.
    #[arg(long, default_value_t = 50_000)]
    pub max_ack_pending: i64,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `64G`, `512M`, `1T`, or bytes.
fn parse_bytes(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, shift) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (s.get(..i).unwrap_or(""), 10),
        Some((i, 'M' | 'm')) => (s.get(..i).unwrap_or(""), 20),
        Some((i, 'G' | 'g')) => (s.get(..i).unwrap_or(""), 30),
        Some((i, 'T' | 't')) => (s.get(..i).unwrap_or(""), 40),
        _ => (s, 0),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected bytes, or a number with K, M, G or T"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// Runs `depeer nats ...`.
pub fn run(c: &NatsCommand) -> anyhow::Result<()> {
    match c {
        NatsCommand::Setup(a) => setup(a),
    }
}

fn setup(a: &SetupArgs) -> anyhow::Result<()> {
    let mut o = SetupOptions::new(&a.nats);
    o.stream.clone_from(&a.stream);
    o.consumer.clone_from(&a.consumer);
    o.max_age = a.max_age;
    o.max_bytes = a.max_bytes;
    o.replicas = a.replicas;
    o.duplicate_window = a.duplicate_window;
    o.ack_wait = a.ack_wait;
    o.max_deliver = a.max_deliver;
    o.max_ack_pending = a.max_ack_pending;
    let s = depeer_cluster::nats::setup(&o)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if a.json {
        serde_json::to_writer(&mut out, &s)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "stream {} ({}), subjects {}, {} messages; consumer {} with {} pending; server {} (max payload {} bytes)",
            s.stream,
            if s.stream_created {
                "created"
            } else if s.stream_updated {
                "updated"
            } else {
                "unchanged"
            },
            s.subjects.join(","),
            s.messages,
            s.consumer,
            s.pending,
            s.server_version,
            s.max_payload
        )?;
    }
    Ok(())
}

/// The producer's options for `--to URL`.
fn produce(to: &str) -> ProduceOptions {
    ProduceOptions::new(to)
}

/// Prints a producer's summary (JSON with `json`, else one line unless `quiet`).
pub fn print_produced(s: &ProduceSummary, json: bool, quiet: bool) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        serde_json::to_writer(&mut out, s)?;
        writeln!(out)?;
    } else if !quiet {
        writeln!(
            out,
            "published {} objects to {}: {} accepted, {} duplicate (already sent), {} parts, {} broken inputs for quarantine, {} bytes in {:.2} s ({:.0} objects/s)",
            s.objects,
            s.to,
            s.accepted,
            s.duplicate,
            s.parts,
            s.broken,
            s.bytes,
            s.seconds,
            s.objects_per_second
        )?;
        for e in &s.input_errors {
            writeln!(out, "input error: {e}")?;
        }
    }
    Ok(())
}

/// `ingest mail --to`.
pub fn publish_mail(
    to: &str,
    paths: &[PathBuf],
    mail: &depeer_ingest::MailOptions,
) -> anyhow::Result<ProduceSummary> {
    Ok(depeer_cluster::nats::publish_mail(
        paths,
        mail,
        &produce(to),
    )?)
}

/// `ingest mrt --to`.
pub fn publish_mrt(
    to: &str,
    paths: &[PathBuf],
    as_rel: Option<&std::path::Path>,
    job: &MrtJob,
) -> anyhow::Result<ProduceSummary> {
    Ok(depeer_cluster::nats::publish_mrt(
        paths,
        as_rel,
        job,
        &produce(to),
    )?)
}

/// `ingest feed --to`.
pub fn publish_feed(
    to: &str,
    paths: &[PathBuf],
    mapping: Option<&std::path::Path>,
    job: &FeedJob,
) -> anyhow::Result<ProduceSummary> {
    Ok(depeer_cluster::nats::publish_feed(
        paths,
        mapping,
        job,
        &produce(to),
    )?)
}

/// `ingest as2org --to`.
pub fn publish_as2org(
    to: &str,
    path: &std::path::Path,
    job: &As2orgJob,
) -> anyhow::Result<ProduceSummary> {
    Ok(depeer_cluster::nats::publish_as2org(
        path,
        job,
        &produce(to),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("64G"), Ok(64 << 30));
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert!(parse_bytes("x").is_err());
    }
}
