//! The mail pipeline cut in two at the message, for ingest across machines
//! (depeer-cluster): [`read_mail`] is the reader half of [`ingest_mail`]
//! (walk, decode, frame: the same readers), handing each message over as a
//! [`MailObject`] instead of to the workers; [`prepare_mail`] and
//! [`commit_mail`] are the other half (extraction, shared zstd frames, the
//! store's deduplicating writer and its journal commit, which logs every
//! new message in the evidence log), run wherever the objects arrive.
//!
//! A [`MailObject`] carries everything the extraction reads besides the
//! bytes (where the message was found, the mbox `From ` line, the file's
//! time), so the rows a worker writes are the ones `ingest mail` writes
//! for the same input, but for `ingest_time`.
//!
//! [`ingest_mail`]: super::ingest_mail

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use depeer_core::{Quarantine, SourceRef, Timestamp};
use depeer_mail::{RawMessage, TrustConfig};
use depeer_store::Store;
use serde::{Deserialize, Serialize};

use super::read::{CHUNK_MESSAGES, Chunker, read_input};
use super::work::{Done, FileCtx, Packer, Work, process_chunk};
use super::{MailOptions, MailSummary, Sink};
use crate::IngestError;

/// One message as the reader found it, before extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailObject {
    /// The message bytes (without an mbox `From ` line).
    pub raw: Vec<u8>,
    /// Where it was found (file as named, byte offset, index in the file).
    pub source: SourceRef,
    /// Everything else the extraction reads.
    pub meta: MailMeta,
}

/// What the extraction of a [`MailObject`] reads besides its bytes and
/// source: serializable, so that it travels beside the bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailMeta {
    /// The date on the mbox `From ` line, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mbox_from_time: Option<i64>,
    /// The envelope sender on the mbox `From ` line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope_sender: Option<String>,
    /// The modification time of the file, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_time: Option<i64>,
}

/// What the reader hands over: a message, or input that could not be read
/// (kept in quarantine where it is stored, as `ingest mail` keeps it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailItem {
    /// A framed message.
    Message(MailObject),
    /// An input, or part of one, that could not be used.
    Broken(Quarantine),
}

/// The counts of one [`read_mail`] run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MailReadSummary {
    /// Inputs read.
    pub files: u64,
    /// Messages handed over.
    pub messages: u64,
    /// Broken inputs or parts handed over.
    pub broken: u64,
    /// Problems with whole paths (missing, unreadable directories).
    pub input_errors: Vec<String>,
}

/// Reads mail from `paths` as `ingest mail` does (same walk, decoders,
/// framing, caps) and calls `each` with every message and every broken
/// part, in input order, on the caller's thread. An error from `each` stops
/// the run and is returned.
pub fn read_mail(
    paths: &[PathBuf],
    opts: &MailOptions,
    each: &mut dyn FnMut(MailItem) -> Result<(), IngestError>,
) -> Result<MailReadSummary, IngestError> {
    let (inputs, errors) = depeer_io::walk(paths);
    let input_errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    if inputs.is_empty() {
        return Err(IngestError::NothingToRead {
            expected: "mbox files, Maildirs, .eml files, directories or `-`",
            problems: input_errors,
        });
    }
    let mut summary = MailReadSummary {
        input_errors,
        ..MailReadSummary::default()
    };
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Work>>(4);
    // Nothing comes back: the buffers are handed over with the messages.
    let (_spent_tx, spent_rx) = crossbeam_channel::bounded::<Vec<Work>>(1);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut chunker = Chunker {
                tx: &tx,
                spent: &spent_rx,
                spare: Vec::new(),
                buf: Vec::with_capacity(CHUNK_MESSAGES),
                bytes: 0,
            };
            for input in &inputs {
                read_input(input, opts, &mut chunker);
                chunker.flush();
            }
            drop(chunker);
            drop(tx);
            inputs.len() as u64
        });
        let mut result = Ok(());
        for chunk in &rx {
            if result.is_err() {
                continue;
            }
            for w in chunk {
                let item = match w {
                    Work::Message(m, file) => {
                        summary.messages += 1;
                        MailItem::Message(MailObject {
                            source: SourceRef::new(file.display.clone(), m.offset, m.index),
                            meta: MailMeta {
                                mbox_from_time: m.mbox_from_time.map(|t| t.0),
                                envelope_sender: m.envelope_sender,
                                file_time: file.mtime.map(|t| t.0),
                            },
                            raw: m.bytes,
                        })
                    }
                    Work::Broken(q) => {
                        summary.broken += 1;
                        MailItem::Broken(q)
                    }
                };
                if let Err(e) = each(item) {
                    result = Err(e);
                    break;
                }
            }
        }
        summary.files = reader
            .join()
            .map_err(|_| IngestError::Thread { thread: "reader" })?;
        result
    })?;
    Ok(summary)
}

/// Messages extracted and packed, ready for [`commit_mail`].
pub struct PreparedMail {
    done: Done,
}

impl std::fmt::Debug for PreparedMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedMail")
            .field("frames", &self.done.frames.len())
            .field("quarantined", &self.done.quarantined.len())
            .finish()
    }
}

/// Extracts every message as `ingest mail` does and packs the raw bytes of
/// consecutive ones into shared zstd frames: the CPU-heavy half, which
/// needs no store (so it runs outside the dataset's lock).
pub fn prepare_mail(
    items: Vec<MailItem>,
    trust: &TrustConfig,
    ingest_time: Timestamp,
) -> PreparedMail {
    let mut chunk: Vec<Work> = items
        .into_iter()
        .map(|item| match item {
            MailItem::Message(o) => {
                let file = Arc::new(FileCtx {
                    display: o.source.path,
                    mtime: o.meta.file_time.map(Timestamp),
                });
                Work::Message(
                    RawMessage {
                        bytes: o.raw,
                        offset: o.source.offset,
                        index: o.source.index,
                        mbox_from_time: o.meta.mbox_from_time.map(Timestamp),
                        envelope_sender: o.meta.envelope_sender,
                    },
                    file,
                )
            }
            MailItem::Broken(q) => Work::Broken(q),
        })
        .collect();
    let mut packer = Packer::new();
    PreparedMail {
        done: process_chunk(&mut chunk, trust, ingest_time, Some(&mut packer)),
    }
}

/// Writes prepared messages to `store` in one commit (deduplicated by
/// SHA-256 against everything committed; the unusable ones to quarantine)
/// and returns the counts as `ingest mail` counts them. Nothing of the
/// batch is visible unless this returns `Ok`.
pub fn commit_mail(store: &Store, prepared: PreparedMail) -> Result<MailSummary, IngestError> {
    let n = prepared.done.quarantined.len()
        + prepared
            .done
            .frames
            .iter()
            .map(|f| f.members.len())
            .sum::<usize>();
    let mut sink = Sink {
        summary: MailSummary {
            data_dir: Some(store.dir().display().to_string()),
            ..MailSummary::default()
        },
        writer: Some(
            store
                .message_writer()
                .with_limits(depeer_store::BatchLimits {
                    // One commit for the whole batch, sized by it.
                    messages: n.max(1),
                    raw_bytes: u64::MAX,
                }),
        ),
        seen: HashSet::new(),
    };
    sink.take(prepared.done)?;
    if let Some(w) = sink.writer.take() {
        w.finish()
            .map_err(IngestError::store("committing the batch"))?;
    }
    Ok(sink.summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_then_commit_stores_what_ingest_mail_stores() {
        let dir = tempfile::tempdir().unwrap();
        let mbox = dir.path().join("a.mbox");
        std::fs::write(
            &mbox,
            "From a@x.example Mon Nov 10 10:00:00 2008\nFrom: a@x.example\nSubject: one\n\nhttp://one.example/\n\
             From b@x.example Mon Nov 10 11:00:00 2008\nFrom: b@x.example\nSubject: two\n\nhttp://two.example/\n\
             From a@x.example Mon Nov 10 10:00:00 2008\nFrom: a@x.example\nSubject: one\n\nhttp://one.example/\n",
        )
        .unwrap();
        let opts = MailOptions::default();
        let mut items = Vec::new();
        let read = read_mail(std::slice::from_ref(&mbox), &opts, &mut |i| {
            items.push(i);
            Ok(())
        })
        .unwrap();
        assert_eq!((read.files, read.messages, read.broken), (1, 3, 0));
        let store = Store::open(dir.path().join("remote")).unwrap();
        let t = Timestamp(1_700_000_000_000_000);
        let s = commit_mail(&store, prepare_mail(items.clone(), &opts.trust, t)).unwrap();
        assert_eq!((s.read, s.stored, s.duplicate, s.urls), (3, 2, 1, 2));
        // Again: everything is already there.
        let s = commit_mail(&store, prepare_mail(items, &opts.trust, t)).unwrap();
        assert_eq!((s.read, s.stored, s.duplicate), (3, 0, 3));
        drop(store);
        // The same rows as `ingest mail` of the file, but for ingest_time.
        let local = dir.path().join("local");
        let o = MailOptions {
            data: Some(local.clone()),
            attribute: None,
            ..MailOptions::default()
        };
        crate::ingest_mail(std::slice::from_ref(&mbox), &o, &crate::NoProgress).unwrap();
        let q = "SELECT sha256, source_file, source_offset, arrival_time, subject FROM messages ORDER BY sha256";
        let a = depeer_store::sql(&dir.path().join("remote"), q).unwrap();
        let b = depeer_store::sql(&local, q).unwrap();
        assert_eq!(a, b);
    }
}
