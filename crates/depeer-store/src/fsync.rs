//! fsyncs of independent files in parallel, on a small pool of threads
//! that live as long as the process.
//!
//! A commit makes several files durable at once (a batch's pack and parts,
//! then the log's files with the manifest, then the directories its
//! renames touched); on the disks measured, concurrent fsyncs take about as
//! long as one. The live trap commits hundreds of small batches a second:
//! starting and joining a thread per file there was a thread creation,
//! stack mapping and exit per file, so the threads are kept and handed
//! jobs instead. The first file of a call is synced on the calling thread
//! (it would wait anyway); a call returns once every file is synced (and
//! closed), with the first error.

use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::error::{Result, StoreError};

/// Pool threads: enough for every file of a few commits running at once
/// (the trap's committers) plus a settle; more files wait for a thread.
const THREADS: usize = 16;

/// One file to fsync and where to say how it went.
struct Job {
    path: PathBuf,
    file: File,
    done: Sender<(PathBuf, std::io::Result<()>)>,
}

/// The pool's job queue, started on first use; `None` when no thread
/// could be started (then every file is synced on the calling thread).
fn pool() -> Option<&'static Sender<Job>> {
    static POOL: OnceLock<Option<Sender<Job>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let started = (0..THREADS)
            .filter(|i| {
                let rx = Arc::clone(&rx);
                std::thread::Builder::new()
                    .name(format!("fsync-{i}"))
                    .spawn(move || work(&rx))
                    .is_ok()
            })
            .count();
        (started > 0).then_some(tx)
    })
    .as_ref()
}

/// A pool thread: one job at a time until the queue is gone.
fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held while waiting: one thread waits in `recv`, the
        // others for the lock.
        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(Job { path, file, done }) = job else {
            return;
        };
        let r = file.sync_all();
        drop(file);
        let _ = done.send((path, r));
    }
}

/// fsyncs and closes every file, in parallel; the first error, if any.
pub(crate) fn sync_all(files: Vec<(PathBuf, File)>) -> Result<()> {
    let mut it = files.into_iter();
    let Some((first_path, first)) = it.next() else {
        return Ok(());
    };
    let (done_tx, done_rx) = channel();
    let mut r: Result<()> = Ok(());
    let mut queued = 0usize;
    for (path, file) in it {
        let job = Job {
            path,
            file,
            done: done_tx.clone(),
        };
        let unsent = match pool() {
            Some(tx) => tx.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        match unsent {
            None => queued += 1,
            Some(job) => {
                r = r.and(
                    job.file
                        .sync_all()
                        .map_err(StoreError::io("fsync", &job.path)),
                );
            }
        }
    }
    drop(done_tx);
    r = r.and(
        first
            .sync_all()
            .map_err(StoreError::io("fsync", &first_path)),
    );
    drop(first);
    for _ in 0..queued {
        match done_rx.recv() {
            Ok((path, res)) => r = r.and(res.map_err(StoreError::io("fsync", &path))),
            Err(_) => {
                return r.and(Err(StoreError::io("fsync", &first_path)(
                    std::io::Error::other("an fsync thread went away"),
                )));
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn syncs_every_file_of_a_call_larger_than_the_pool() {
        let tmp = tempfile::tempdir().unwrap();
        let files: Vec<(PathBuf, File)> = (0..40)
            .map(|i| {
                let p = tmp.path().join(format!("f{i}"));
                let mut f = File::create(&p).unwrap();
                f.write_all(b"x").unwrap();
                (p, f)
            })
            .collect();
        sync_all(files).unwrap();
        sync_all(Vec::new()).unwrap();
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 40);
    }
}
