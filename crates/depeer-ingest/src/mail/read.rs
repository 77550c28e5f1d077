//! The reader side of the mail pipeline: inputs are opened, decoded behind
//! the capped reader, framed into messages and sent to the workers in
//! chunks. What cannot be read becomes a quarantine entry, never an error.

use std::io::BufRead;
use std::sync::Arc;

use depeer_core::{Quarantine, SourceRef};
use depeer_io::Input;
use depeer_mail::{Framing, MailError, MessageReader};

use super::MailOptions;
use super::work::{FileCtx, Work};

/// Messages per chunk of work.
pub(super) const CHUNK_MESSAGES: usize = 256;
/// Bytes per chunk of work (whichever limit comes first).
const CHUNK_BYTES: usize = 4 << 20;

/// Sends chunks of work to the workers, in vectors that come back from them
/// (`spent`) with the message buffers still in them.
pub(super) struct Chunker<'a> {
    pub(super) tx: &'a crossbeam_channel::Sender<Vec<Work>>,
    pub(super) spent: &'a crossbeam_channel::Receiver<Vec<Work>>,
    /// Message buffers of spent chunks, for the framer to read into.
    pub(super) spare: Vec<Vec<u8>>,
    pub(super) buf: Vec<Work>,
    pub(super) bytes: usize,
}

impl Chunker<'_> {
    fn push(&mut self, w: Work) {
        self.bytes += w.len();
        self.buf.push(w);
        if self.buf.len() >= CHUNK_MESSAGES || self.bytes >= CHUNK_BYTES {
            self.flush();
        }
    }

    pub(super) fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        // Free the spent chunks here, on the thread that allocated their
        // message buffers; keep one vector for the next chunk.
        let mut next = None;
        while let Ok(mut spent) = self.spent.try_recv() {
            for w in spent.drain(..) {
                if let Work::Message(m, _) = w
                    && self.spare.len() < depeer_mail::SPARE_BUFFERS
                {
                    self.spare.push(m.bytes);
                }
            }
            next = Some(spent);
        }
        let next = next.unwrap_or_else(|| Vec::with_capacity(CHUNK_MESSAGES));
        let chunk = std::mem::replace(&mut self.buf, next);
        self.bytes = 0;
        // The receivers only go away when the run is failing anyway.
        let _ = self.tx.send(chunk);
    }
}

impl Drop for Chunker<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

fn stream_error(display: &str, offset: u64, index: u64, e: &std::io::Error) -> Quarantine {
    let reason = match depeer_io::limit_error(e) {
        Some(l) => l.reason(),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => "truncated-input",
        None => "unreadable",
    };
    Quarantine {
        source: SourceRef::new(display, offset, index),
        reason: reason.to_string(),
        detail: format!("{display}: stopped reading at byte {offset}: {e}"),
        bytes: Vec::new(),
        truncated: true,
    }
}

/// A whole input that could not be used, with nothing of it kept.
fn broken_input(display: &str, reason: &str, detail: String) -> Work {
    Work::Broken(Quarantine {
        source: SourceRef::new(display, 0, 0),
        reason: reason.to_string(),
        detail,
        bytes: Vec::new(),
        truncated: true,
    })
}

/// Opens and decodes an input and picks its framing; `Err` is the
/// quarantine entry of an input that could not be started.
fn open_framed(
    input: &Input,
    opts: &MailOptions,
) -> Result<(Box<dyn BufRead + Send>, Framing), Work> {
    let raw = input
        .open()
        .map_err(|e| broken_input(&input.display, e.reason(), e.to_string()))?;
    let stream_broken = |e: std::io::Error| Work::Broken(stream_error(&input.display, 0, 0, &e));
    let mut decoded = depeer_io::open_decoded(raw, opts.limits).map_err(stream_broken)?;
    let framing = if input.in_maildir {
        Framing::Single
    } else {
        depeer_mail::sniff_framing(decoded.reader.fill_buf().map_err(stream_broken)?)
    };
    Ok((decoded.reader, framing))
}

/// What to send on for one framing error, and whether the stream stopped
/// there (nothing after a read error can be framed).
fn framing_error(input: &Input, e: MailError) -> (Work, bool) {
    match e {
        MailError::Oversize {
            offset,
            index,
            size,
            cap,
            prefix,
        } => (
            Work::Broken(Quarantine {
                source: SourceRef::new(&input.display, offset, index),
                reason: "oversize".into(),
                detail: format!(
                    "{}: message #{index} at byte {offset} has {size} bytes, more than {cap} \
                     (raise --max-message if it is genuine)",
                    input.display
                ),
                bytes: prefix,
                truncated: true,
            }),
            false,
        ),
        MailError::Io { offset, source } => (
            Work::Broken(stream_error(&input.display, offset, 0, &source)),
            true,
        ),
        e => (
            broken_input(
                &input.display,
                e.reason(),
                format!("{}: {e}", input.display),
            ),
            false,
        ),
    }
}

/// Reads one input and sends its messages (and what could not be read) on.
pub(super) fn read_input(input: &Input, opts: &MailOptions, chunker: &mut Chunker<'_>) {
    let file = Arc::new(FileCtx {
        display: input.display.clone(),
        mtime: input.mtime,
    });
    let (stream, framing) = match open_framed(input, opts) {
        Ok(x) => x,
        Err(broken) => {
            chunker.push(broken);
            return;
        }
    };
    let mut reader = MessageReader::new(stream, framing).max_message_size(opts.max_message as u64);
    for buf in chunker.spare.drain(..) {
        reader.recycle(buf);
    }
    while let Some(item) = reader.next() {
        for buf in chunker.spare.drain(..) {
            reader.recycle(buf);
        }
        match item {
            Ok(m) => chunker.push(Work::Message(m, file.clone())),
            Err(e) => {
                let (work, stopped) = framing_error(input, e);
                chunker.push(work);
                if stopped {
                    break;
                }
            }
        }
    }
    chunker.spare.extend(reader.into_spare());
}
