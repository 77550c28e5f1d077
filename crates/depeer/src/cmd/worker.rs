//! `depeer worker`: flags into `depeer_cluster::nats::WorkerOptions`, the
//! worker runs (`depeer_cluster::nats::run_worker`), its summary is printed
//! when it stops.

use std::io::Write;
use std::path::PathBuf;

use depeer_cluster::nats::{WorkerOptions, run_worker};

const AFTER: &str = "\
Pulls batches from the durable consumer that `depeer nats setup` made, runs
them through the same pipeline as `depeer ingest` (mail: extraction, raw
store, evidence log; MRT, feed and as2org jobs: the command itself),
commits, and only then acknowledges. Any number of workers, on one machine
or several, may share the consumer and the data directory (on a shared
filesystem): commits take the directory's lock in turn. The new messages
are attributed when nothing is pending. How it stays correct:
docs/SCALING.md.

Examples:
  depeer worker --nats nats://127.0.0.1:4222 --data /srv/depeer
  depeer worker --nats nats://n1:4222 --data /mnt/shared/depeer --batch 5000
  depeer worker --data d --exit-when-idle 5      # scripts and tests";

/// Flags of `depeer worker`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct Args {
    /// The NATS server.
    #[arg(long, value_name = "URL", default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
    /// Data directory (shared by every worker; created if missing).
    #[arg(long, default_value = "depeer-data")]
    pub data: PathBuf,
    /// Objects per batch (mail: one commit per batch; a commit costs about as much
    /// whatever its size, so larger batches cost less CPU per message).
    #[arg(long, value_name = "N", default_value_t = 10000)]
    pub batch: usize,
    /// Stop after this many seconds with nothing pending or unacknowledged.
    #[arg(long, value_name = "SECONDS")]
    pub exit_when_idle: Option<f64>,
    /// The stream's name.
    #[arg(long, default_value = depeer_cluster::nats::STREAM)]
    pub stream: String,
    /// The durable consumer's name.
    #[arg(long, default_value = depeer_cluster::nats::CONSUMER)]
    pub consumer: String,
    /// Trust file of the trap's own networks (as `ingest mail --trust`).
    #[arg(long, value_name = "FILE")]
    pub trust: Option<PathBuf>,
    /// Do not attribute when idle (run `depeer attribute` later).
    #[arg(long)]
    pub no_attribute: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Tells the allocator (mimalloc, the binary's global allocator) to keep
/// freed memory instead of returning it to the system a second after it
/// is freed (mimalloc 3's default purge delay). A worker allocates about
/// the same few hundred megabytes for every batch and often waits between
/// two (for the stream, for the dataset's lock): with the default, each
/// batch faulted its memory in again and the kernel zeroed it again. On
/// 110,000 messages a worker took 98,000 minor page faults with the
/// default and 51,000 without purging, and about 12 % more CPU
/// (docs/SCALING.md, "Measured"). The worker's peak stays what one batch
/// needs.
#[allow(unsafe_code)]
fn keep_freed_memory() {
    // SAFETY: mi_option_set only stores an integer in mimalloc's option
    // table (an atomic store); it is thread-safe, takes no pointers, and
    // -1 ("never") is a documented value of this option.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
}

/// Turns transparent huge pages off for this process (Linux
/// `PR_SET_THP_DISABLE`; mimalloc asks for them on its memory). A
/// worker's heap is written once per batch in small pieces; with 2 MiB
/// pages each first touch makes the kernel zero two megabytes, and a
/// second worker on the same machine spent most of its extra CPU there.
/// Measured on the idle machine, three rounds each (docs/SCALING.md):
/// two workers 0.043 CPU ms per message without huge pages against 0.051
/// with them, one worker 0.039 against 0.041.
#[allow(unsafe_code)]
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) sets a flag of this
    // process's memory map; it takes no pointers. Refused (old kernels)
    // it changes nothing, which is harmless.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// `mi_option_purge_delay` of the mimalloc (3) that libmimalloc-sys
/// builds: its place in `mi_option_e` (mimalloc.h), which the crate does
/// not name. The test below checks it still is that option.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Runs `depeer worker`.
pub fn run(a: &Args) -> anyhow::Result<()> {
    let mut o = WorkerOptions::new(&a.nats, a.data.clone());
    o.stream.clone_from(&a.stream);
    o.consumer.clone_from(&a.consumer);
    o.batch = a.batch;
    o.exit_when_idle = a
        .exit_when_idle
        .map(|s| std::time::Duration::from_secs_f64(s.max(0.0)));
    o.attribute = !a.no_attribute;
    if let Some(p) = &a.trust {
        o.trust = depeer_mail::TrustConfig::from_file(p)
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    }
    keep_freed_memory();
    no_huge_pages();
    let s = run_worker(&o)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if a.json {
        serde_json::to_writer(&mut out, &s)?;
    } else {
        write!(
            out,
            "worker: {} objects in {} batches: {} messages ({} stored, {} duplicate, {} quarantined), jobs {:?}, {} poison, {} attributions, {:.1} s",
            s.objects,
            s.batches,
            s.messages,
            s.stored,
            s.duplicate,
            s.quarantined,
            s.jobs,
            s.poison,
            s.attributions,
            s.seconds
        )?;
    }
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)]
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: reading and writing an integer option, as above.
        let get = || unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        // mimalloc 3's default (options.c), unless the environment sets it.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(), 1000);
        }
        keep_freed_memory();
        assert_eq!(get(), -1);
    }

    #[test]
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    fn huge_pages_are_off_after_the_call() {
        no_huge_pages();
        // SAFETY: a read of the same process flag.
        let off = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(off, 1);
    }
}
