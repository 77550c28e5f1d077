//! Framing: one input stream (already decompressed) into raw messages.
//!
//! Two framings: [`Framing::Mbox`] (mboxo and mboxrd; a message starts at a
//! line beginning `From ` that is the first line of the stream or follows
//! an empty line, or at a complete envelope line `From sender Www Mmm dd
//! hh:mm:ss [zone] yyyy` anywhere, as mutt's `is_from` reads them: so
//! `cat a.mbox b.mbox` and concatenated gzip/bzip2/xz members split even
//! when `a` does not end with an empty line) and [`Framing::Single`] (the whole stream is one message,
//! as in Maildir and `.eml` files). [`sniff_framing`] picks one from the
//! first bytes.
//!
//! Invariants: the reader holds at most one message (capped at
//! [`DEFAULT_MAX_MESSAGE_SIZE`] unless configured) plus one line of
//! look-ahead; an oversize message yields [`MailError::Oversize`] with its
//! first `cap` bytes and reading continues with the next message; lines
//! matching `^>+From ` lose one `>` (mboxrd unquoting, also applied to mboxo
//! files, where it undoes the usual `>From ` quoting); CRLF files work; the
//! empty line that separates two mbox messages is not part of either.
//!
//! This module owns the reader; the lines that frame an mbox (the
//! envelope `From ` line, sniffing) are in `envelope`.

use std::io::BufRead;

use depeer_core::Timestamp;

use crate::MailError;

mod envelope;

use envelope::{is_blank_line, is_envelope_line};
pub use envelope::{parse_from_line, sniff_framing};

/// The default per-message cap: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 64 << 20;

/// How a stream is cut into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// An mbox file: messages separated by `From ` lines.
    Mbox,
    /// The whole stream is one message.
    Single,
}

/// One framed message, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The message bytes (without the mbox `From ` line, unquoted).
    pub bytes: Vec<u8>,
    /// Byte offset in the stream of the record's first byte (its `From `
    /// line for mbox).
    pub offset: u64,
    /// 0-based index of the message in the stream.
    pub index: u64,
    /// The date on the mbox `From ` line, when it parses.
    pub mbox_from_time: Option<Timestamp>,
    /// The envelope sender on the mbox `From ` line.
    pub envelope_sender: Option<String>,
}

/// How many spent buffers [`MessageReader::recycle`] keeps.
pub const SPARE_BUFFERS: usize = 4096;
/// The largest spent buffer [`MessageReader::recycle`] keeps, in bytes.
pub const SPARE_CAPACITY: usize = 1 << 20;
/// The most bytes of capacity [`MessageReader::recycle`] keeps in all.
pub const SPARE_BYTES: usize = 2 << 20;

/// Reads messages from a stream: an iterator of `Result<RawMessage,
/// MailError>`. After an error (oversize message) it goes on with the next
/// message; after an I/O error it stops.
///
/// ```
/// use depeer_mail::{Framing, MessageReader};
/// let mbox = b"From a@b Tue Nov 11 21:30:00 2008\nSubject: one\n\nbody\n\n\
///              From c@d Tue Nov 11 21:31:00 2008\nSubject: two\n\n>From here\n";
/// let msgs: Vec<_> = MessageReader::new(&mbox[..], Framing::Mbox)
///     .collect::<Result<_, _>>()
///     .unwrap();
/// assert_eq!(msgs.len(), 2);
/// assert_eq!(msgs[0].bytes, b"Subject: one\n\nbody\n");
/// assert_eq!(msgs[1].bytes, b"Subject: two\n\nFrom here\n");
/// assert_eq!(msgs[1].envelope_sender.as_deref(), Some("c@d"));
/// ```
#[derive(Debug)]
pub struct MessageReader<R> {
    reader: R,
    framing: Framing,
    cap: u64,
    /// Bytes consumed from `reader` so far.
    pos: u64,
    index: u64,
    /// The `From ` line that starts the next message, and its offset.
    pending_from: Option<(Vec<u8>, u64)>,
    started: bool,
    done: bool,
    buf: Vec<u8>,
    /// Message buffers handed back by the caller ([`MessageReader::recycle`]),
    /// reused for the next messages.
    spare: Vec<Vec<u8>>,
    /// Total capacity of `spare`.
    spare_bytes: usize,
    /// Copy runs of ordinary lines at once ([`MessageReader::bulk_lines`]);
    /// off only in the test that compares with the line-by-line path.
    bulk: bool,
}

impl<R: BufRead> MessageReader<R> {
    /// A reader with the given framing and the default cap.
    pub fn new(reader: R, framing: Framing) -> Self {
        Self {
            reader,
            framing,
            cap: DEFAULT_MAX_MESSAGE_SIZE,
            pos: 0,
            index: 0,
            pending_from: None,
            started: false,
            done: false,
            buf: Vec::new(),
            spare: Vec::new(),
            spare_bytes: 0,
            bulk: true,
        }
    }

    /// Hands a spent message buffer back for reuse: the next message is read
    /// into it instead of a fresh allocation. Up to [`SPARE_BUFFERS`]
    /// buffers of at most [`SPARE_CAPACITY`] bytes, [`SPARE_BYTES`] in all,
    /// are kept; others are freed.
    ///
    /// Why: growing a fresh `Vec` per message line by line was the largest
    /// single cost of the framing thread (the allocator kept faulting in
    /// fresh, zeroed pages), and the buffers of the previous messages are
    /// right there once the caller has processed them.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        let cap = buf.capacity();
        if cap > 0
            && cap <= SPARE_CAPACITY
            && self.spare.len() < SPARE_BUFFERS
            && self.spare_bytes + cap <= SPARE_BYTES
        {
            buf.clear();
            self.spare_bytes += cap;
            self.spare.push(buf);
        }
    }

    /// The spare buffers (for the reader of the next file).
    pub fn into_spare(self) -> Vec<Vec<u8>> {
        self.spare
    }

    /// A reader whose framing is sniffed from the first bytes of `reader`.
    pub fn sniffed(mut reader: R) -> Result<Self, MailError> {
        let framing = match reader.fill_buf() {
            Ok(head) => sniff_framing(head),
            Err(source) => return Err(MailError::Io { offset: 0, source }),
        };
        Ok(Self::new(reader, framing))
    }

    /// Sets the per-message size cap in bytes.
    pub fn max_message_size(mut self, cap: u64) -> Self {
        self.cap = cap;
        self
    }

    /// The framing in use.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Reads one line (or the rest of a line longer than the buffer) into
    /// `out`, keeping at most `room` bytes; returns (bytes consumed, first
    /// up-to-5 bytes of the line, whether the line ended with LF). The line
    /// head is returned separately so separators are found even in lines
    /// that are being discarded.
    fn read_line(&mut self, out: &mut Vec<u8>, room: u64) -> Result<(u64, usize), MailError> {
        let mut consumed = 0u64;
        let mut kept = 0usize;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(MailError::Io {
                        offset: self.pos + consumed,
                        source,
                    });
                }
            };
            if chunk.is_empty() {
                break;
            }
            let (take, end) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room_left = room.saturating_sub(consumed) as usize;
            let keep = take.min(room_left);
            if let Some(part) = chunk.get(..keep) {
                out.extend_from_slice(part);
                kept += keep;
            }
            self.reader.consume(take);
            consumed += take as u64;
            if end {
                break;
            }
        }
        Ok((consumed, kept))
    }

    fn next_message(&mut self) -> Result<Option<RawMessage>, MailError> {
        let start_offset;
        let mut from_line: Option<Vec<u8>> = None;
        if !self.started {
            self.started = true;
            // Skip the BOM and leading empty lines, then a first `From ` line.
            loop {
                let head = match self.reader.fill_buf() {
                    Ok(h) => h,
                    Err(source) => {
                        return Err(MailError::Io {
                            offset: self.pos,
                            source,
                        });
                    }
                };
                if head.is_empty() {
                    return Ok(None);
                }
                let skip = if self.pos == 0 && head.starts_with(b"\xEF\xBB\xBF") {
                    3
                } else if head.starts_with(b"\r\n") {
                    2
                } else if head.starts_with(b"\n") {
                    1
                } else {
                    0
                };
                if skip == 0 {
                    break;
                }
                self.reader.consume(skip);
                self.pos += skip as u64;
            }
            start_offset = self.pos;
            if self.framing == Framing::Mbox {
                let mut line = Vec::new();
                let (n, _) = self.read_line(&mut line, 4096)?;
                self.pos += n;
                if line.starts_with(b"From ") {
                    from_line = Some(line);
                } else {
                    // Not an mbox after all: the line belongs to the message.
                    self.buf = line;
                }
            }
        } else if let Some((line, off)) = self.pending_from.take() {
            start_offset = off;
            from_line = Some(line);
        } else {
            return Ok(None);
        }

        let mut msg = std::mem::take(&mut self.buf);
        if msg.capacity() == 0
            && let Some(spare) = self.spare.pop()
        {
            self.spare_bytes -= spare.capacity();
            msg = spare;
        }
        let mut size = msg.len() as u64;
        let mut prev_blank = false;
        let mut last_line_start = 0usize;
        loop {
            if self.bulk
                && self.bulk_lines(&mut msg, &mut size, &mut prev_blank, &mut last_line_start)
            {
                continue;
            }
            let line_start = msg.len();
            let room = self.cap.saturating_sub(size).saturating_add(5);
            let (n, kept) = self.read_line(&mut msg, room)?;
            if n == 0 {
                if self.framing == Framing::Mbox && prev_blank {
                    // mbox ends every message with an empty line, the
                    // last one too (Postfix `local`, procmail, Python's
                    // `mailbox` all write and strip it): not content.
                    msg.truncate(last_line_start);
                    size = size.saturating_sub(1);
                }
                break;
            }
            let line_offset = self.pos;
            self.pos += n;
            let line = msg.get(line_start..line_start + kept).unwrap_or_default();
            if self.framing == Framing::Mbox
                && line.starts_with(b"From ")
                && (prev_blank || is_envelope_line(line))
            {
                // A separator: keep up to 4 KiB of it for the next message.
                let mut next = line.to_vec();
                if kept as u64 != n {
                    next.truncate(kept);
                    // The rest of the separator line was consumed by read_line.
                }
                next.truncate(4096);
                msg.truncate(line_start);
                if prev_blank {
                    // The empty line before the separator is not message content.
                    msg.truncate(last_line_start);
                    size = size.saturating_sub(1);
                }
                self.pending_from = Some((next, line_offset));
                break;
            }
            prev_blank = n <= 2 && is_blank_line(line);
            if line.first() == Some(&b'>') {
                let body = line.get(1..).unwrap_or_default();
                let arrows = body.iter().take_while(|&&b| b == b'>').count();
                if body.get(arrows..).is_some_and(|r| r.starts_with(b"From ")) {
                    msg.remove(line_start);
                    size += n - 1;
                    last_line_start = line_start;
                    self.trim_to_cap(&mut msg);
                    continue;
                }
            }
            size += n;
            last_line_start = line_start;
            self.trim_to_cap(&mut msg);
        }
        if self.pending_from.is_none() {
            self.done = true;
        }
        if from_line.is_none() && size == 0 {
            return Ok(None);
        }
        // `size` counted the separator's empty line if there was one; the
        // kept bytes are exact.
        let (envelope_sender, mbox_from_time) = match &from_line {
            Some(l) => parse_from_line(l),
            None => (None, None),
        };
        let index = self.index;
        self.index += 1;
        if size > self.cap || msg.len() as u64 > self.cap {
            msg.truncate(self.cap as usize);
            return Err(MailError::Oversize {
                offset: start_offset,
                index,
                size: size.max(msg.len() as u64),
                cap: self.cap,
                prefix: msg,
            });
        }
        Ok(Some(RawMessage {
            bytes: msg,
            offset: start_offset,
            index,
            mbox_from_time,
            envelope_sender,
        }))
    }

    /// Copies the complete lines at the front of the reader's buffer that
    /// come before the first `From ` in it, all at once, with the state the
    /// line-by-line loop in [`MessageReader::next_message`] would leave
    /// (size, whether the last line was blank, where it starts). None of
    /// those lines contains `From `, so none is a separator or a quoted
    /// `>From ` line: the line loop would only have appended them. Returns
    /// false (nothing done) when there is no such line, or when the copy
    /// could reach the size cap (the line loop then trims).
    ///
    /// Why it exists: the line loop pays a `fill_buf`, a `memchr` and a
    /// copy per line of about 70 bytes on every line of every mbox; a test
    /// compares both paths on real and mutated mboxes through buffers of
    /// several sizes.
    fn bulk_lines(
        &mut self,
        msg: &mut Vec<u8>,
        size: &mut u64,
        prev_blank: &mut bool,
        last_line_start: &mut usize,
    ) -> bool {
        // An error is left to `read_line`, which reports it.
        let Ok(chunk) = self.reader.fill_buf() else {
            return false;
        };
        // A prebuilt finder: `memmem::find` builds one per call, and this
        // runs once per buffer of small messages.
        static FROM: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"From "));
        let search_end = FROM.find(chunk).unwrap_or(chunk.len());
        let Some(nl) = chunk
            .get(..search_end)
            .and_then(|c| memchr::memrchr(b'\n', c))
        else {
            return false;
        };
        let len = nl + 1;
        if size.saturating_add(len as u64) > self.cap
            || msg.len().saturating_add(len) as u64 > self.cap
        {
            return false;
        }
        let Some(bulk) = chunk.get(..len) else {
            return false;
        };
        let last_start =
            memchr::memrchr(b'\n', bulk.get(..nl).unwrap_or_default()).map_or(0, |i| i + 1);
        let last = bulk.get(last_start..).unwrap_or_default();
        *prev_blank = last.len() <= 2 && is_blank_line(last);
        *last_line_start = msg.len() + last_start;
        msg.extend_from_slice(bulk);
        *size += len as u64;
        self.reader.consume(len);
        self.pos += len as u64;
        true
    }

    fn trim_to_cap(&self, msg: &mut Vec<u8>) {
        // Keep one byte over the cap so `len > cap` marks the overflow.
        let limit = (self.cap as usize).saturating_add(1);
        if msg.len() > limit {
            msg.truncate(limit);
        }
    }
}

impl<R: BufRead> Iterator for MessageReader<R> {
    type Item = Result<RawMessage, MailError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_message() {
            Ok(Some(m)) => Some(Ok(m)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e @ MailError::Io { .. }) => {
                self.done = true;
                Some(Err(e))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests;
