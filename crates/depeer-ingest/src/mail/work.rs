//! The worker side of the mail pipeline: extraction of every message of a
//! chunk, and packing of their raw bytes into shared zstd frames.

use std::sync::Arc;

use depeer_core::{Quarantine, SourceRef, Timestamp};
use depeer_mail::{ExtractContext, Extracted, RawMessage, TrustConfig};
use depeer_store::{FRAME_TARGET_BYTES, FrameCompressor, FrameMember};

/// Per-file context shared by the messages of one input.
#[derive(Debug)]
pub(super) struct FileCtx {
    pub(super) display: String,
    pub(super) mtime: Option<Timestamp>,
}

/// One item the reader thread hands to the workers.
pub(super) enum Work {
    Message(RawMessage, Arc<FileCtx>),
    Broken(Quarantine),
}

impl Work {
    /// Bytes held, for sizing chunks.
    pub(super) fn len(&self) -> usize {
        match self {
            Work::Message(m, _) => m.bytes.len(),
            Work::Broken(q) => q.bytes.len(),
        }
    }
}

/// What a worker made of one chunk of work.
#[derive(Default)]
pub(super) struct Done {
    pub(super) quarantined: Vec<Quarantine>,
    /// Messages in shared raw frames (only when storing).
    pub(super) frames: Vec<DoneFrame>,
    /// What the summary needs of each message when nothing is stored: the
    /// extracted fields are dropped on the worker that allocated them.
    pub(super) counted: Vec<Counted>,
}

/// A message extracted without storing.
pub(super) struct Counted {
    pub(super) sha256: [u8; 32],
    pub(super) size: u64,
    pub(super) urls: u64,
}

/// Consecutive messages whose raw bytes share one zstd frame.
pub(super) struct DoneFrame {
    pub(super) compressed: Vec<u8>,
    pub(super) members: Vec<FrameMember>,
}

/// A worker's reusable state: when storing, the frame compressor and the
/// buffer the raw bytes of the next frame collect in.
pub(super) struct Packer {
    zstd: FrameCompressor,
    buf: Vec<u8>,
    members: Vec<FrameMember>,
}

impl Packer {
    pub(super) fn new() -> Self {
        Packer {
            zstd: FrameCompressor::new(),
            buf: Vec::new(),
            members: Vec::new(),
        }
    }

    /// Adds a message; starts a new frame first when this one would grow
    /// past [`FRAME_TARGET_BYTES`].
    fn add(&mut self, raw: &[u8], ex: Extracted, done: &mut Done) {
        if !self.buf.is_empty() && self.buf.len() + raw.len() > FRAME_TARGET_BYTES {
            self.flush(done);
        }
        let inner_offset = self.buf.len() as u64;
        self.buf.extend_from_slice(raw);
        self.members
            .push(FrameMember::new(ex.message, ex.urls, inner_offset));
    }

    fn flush(&mut self, done: &mut Done) {
        if self.members.is_empty() {
            return;
        }
        let compressed = self.zstd.compress(&self.buf);
        self.buf.clear();
        done.frames.push(DoneFrame {
            compressed,
            members: std::mem::take(&mut self.members),
        });
    }
}

/// Extracts every message of a chunk; with a `packer` (storing), packs the
/// raw bytes of consecutive messages into shared zstd frames of about
/// [`FRAME_TARGET_BYTES`] (see `MessageWriter::add_frame` for why). The
/// message buffers stay in the chunk, which goes back to the reader thread:
/// freed where they were allocated, their memory is reused for the next
/// messages instead of the allocator taking fresh pages.
pub(super) fn process_chunk(
    chunk: &mut [Work],
    trust: &TrustConfig,
    ingest_time: Timestamp,
    mut packer: Option<&mut Packer>,
) -> Done {
    let mut done = Done::default();
    for w in chunk {
        match w {
            Work::Broken(q) => done.quarantined.push(take_quarantine(q)),
            Work::Message(raw, file) => {
                let source = SourceRef::new(file.display.clone(), raw.offset, raw.index);
                let mut ctx = ExtractContext::new(trust, source, ingest_time);
                ctx.mbox_from_time = raw.mbox_from_time;
                ctx.envelope_sender = raw.envelope_sender.take();
                ctx.file_time = file.mtime;
                match (
                    depeer_mail::extract(&raw.bytes, &ctx),
                    packer.as_deref_mut(),
                ) {
                    (Ok(ex), Some(p)) => p.add(&raw.bytes, ex, &mut done),
                    (Ok(ex), None) => done.counted.push(Counted {
                        sha256: ex.message.sha256,
                        size: ex.message.size,
                        urls: ex.urls.len() as u64,
                    }),
                    (Err(e), _) => done.quarantined.push(Quarantine {
                        source: ctx.source,
                        reason: e.reason().to_string(),
                        detail: e.to_string(),
                        bytes: std::mem::take(&mut raw.bytes),
                        truncated: false,
                    }),
                }
            }
        }
    }
    if let Some(p) = packer {
        p.flush(&mut done);
    }
    done
}

/// Moves a quarantine entry out of the chunk (which goes back to the reader).
fn take_quarantine(q: &mut Quarantine) -> Quarantine {
    std::mem::replace(
        q,
        Quarantine {
            source: SourceRef::default(),
            reason: String::new(),
            detail: String::new(),
            bytes: Vec::new(),
            truncated: false,
        },
    )
}
