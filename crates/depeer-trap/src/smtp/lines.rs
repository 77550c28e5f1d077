//! Command lines out of a byte stream: CRLF or a bare LF ends a line (bare
//! LF tolerated and reported), and a line longer than the cap is reported
//! once and its bytes dropped up to its end, so a 1 MB command line costs
//! at most the cap in memory.

/// One item out of [`Lines`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineItem {
    /// A line without its line end; `bare_lf` when it ended in LF alone.
    Line {
        /// The bytes.
        bytes: Vec<u8>,
        /// Whether the line ended in LF without CR.
        bare_lf: bool,
    },
    /// A line over the cap (its bytes are dropped).
    TooLong,
}

/// A buffer of received bytes cut into command lines.
#[derive(Debug)]
pub struct Lines {
    buf: Vec<u8>,
    /// Where the unread bytes start.
    start: usize,
    max_line: usize,
    /// Dropping the rest of a line that was too long.
    skipping: bool,
}

impl Lines {
    /// An empty buffer for lines of at most `max_line` bytes.
    pub fn new(max_line: usize) -> Self {
        Lines {
            buf: Vec::new(),
            start: 0,
            max_line,
            skipping: false,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Whether unread bytes are buffered (then a pipelining client sent
    /// more commands, and replies wait for them).
    pub fn has_pending(&self) -> bool {
        self.start < self.buf.len()
    }

    /// Takes the unread bytes (for the DATA reader).
    pub fn take_rest(&mut self) -> Vec<u8> {
        let rest = self.buf.get(self.start..).unwrap_or_default().to_vec();
        self.clear();
        rest
    }

    /// Drops everything buffered (RFC 3207 §4.2: nothing sent before the
    /// TLS handshake may be read after it).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.skipping = false;
    }

    /// The next complete line, if any.
    pub fn next_line(&mut self) -> Option<LineItem> {
        let unread = self.buf.get(self.start..).unwrap_or_default();
        match memchr::memchr(b'\n', unread) {
            Some(i) => {
                let line = unread.get(..i).unwrap_or_default();
                let (line, bare_lf) = match line.strip_suffix(b"\r") {
                    Some(l) => (l, false),
                    None => (line, true),
                };
                let item = if self.skipping {
                    None
                } else if line.len() > self.max_line {
                    Some(LineItem::TooLong)
                } else {
                    Some(LineItem::Line {
                        bytes: line.to_vec(),
                        bare_lf,
                    })
                };
                self.start += i + 1;
                self.compact();
                if self.skipping {
                    self.skipping = false;
                    return self.next_line();
                }
                item
            }
            None if unread.len() > self.max_line => {
                let was = self.skipping;
                self.skipping = true;
                self.buf.clear();
                self.start = 0;
                (!was).then_some(LineItem::TooLong)
            }
            None => {
                self.compact();
                None
            }
        }
    }

    fn compact(&mut self) {
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str, bare_lf: bool) -> Option<LineItem> {
        Some(LineItem::Line {
            bytes: s.as_bytes().to_vec(),
            bare_lf,
        })
    }

    #[test]
    fn pipelined_lines_come_out_in_order() {
        let mut l = Lines::new(100);
        l.push(b"EHLO x\r\nMAIL FROM:<a@b>\nRCPT");
        assert_eq!(l.next_line(), line("EHLO x", false));
        assert!(l.has_pending());
        assert_eq!(l.next_line(), line("MAIL FROM:<a@b>", true));
        assert_eq!(l.next_line(), None);
        l.push(b" TO:<c@d>\r\nDATA\r\nbody");
        assert_eq!(l.next_line(), line("RCPT TO:<c@d>", false));
        assert_eq!(l.next_line(), line("DATA", false));
        assert_eq!(l.take_rest(), b"body");
        assert!(!l.has_pending());
    }

    #[test]
    fn a_long_line_is_reported_once_and_dropped() {
        let mut l = Lines::new(10);
        l.push(&[b'A'; 50]);
        assert_eq!(l.next_line(), Some(LineItem::TooLong));
        l.push(&[b'A'; 50]);
        assert_eq!(l.next_line(), None);
        l.push(b"AAAA\r\nNOOP\r\n");
        assert_eq!(l.next_line(), line("NOOP", false));
        // Complete but too long.
        l.push(b"AAAAAAAAAAAAAAA\r\nQUIT\r\n");
        assert_eq!(l.next_line(), Some(LineItem::TooLong));
        assert_eq!(l.next_line(), line("QUIT", false));
    }
}
