//! The DATA phase (RFC 5321 §4.1.1.4, §4.5.2): bytes in, the message out,
//! dot-unstuffed, up to the line holding a single `.`.
//!
//! Tolerated as spam sends them, and recorded: a bare LF ends a line like
//! CRLF (`bare-lf`, also for the final `.` line), NUL bytes are kept
//! (`nul`), and a message whose last line does not end in CRLF is kept as
//! it is (`no-final-crlf`). The stored bytes are what the client sent
//! minus the stuffed dots and the terminator: line ends are not rewritten.
//! Past `max_size` bytes the rest is read and dropped, so the client gets
//! its 552 after its final dot; memory stays at `max_size`.

/// Where the reader is within the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pos {
    /// At the start of a line (also at the start of the data).
    LineStart,
    /// The line began with a dot, nothing else seen yet.
    Dot,
    /// The line is `.` then CR.
    DotCr,
    /// Inside a line.
    Mid,
}

/// A streaming DATA reader; feed it with [`DataReader::feed`].
#[derive(Debug)]
pub struct DataReader {
    pos: Pos,
    /// The last byte added to the message (for bare-LF detection).
    prev: u8,
    max_size: u64,
    /// Bytes of the message (kept or not).
    size: u64,
    body: Vec<u8>,
    bare_lf: bool,
    nul: bool,
    done: bool,
}

/// The message read by a finished [`DataReader`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataEnd {
    /// The message bytes (empty when oversize).
    pub body: Vec<u8>,
    /// Whether it went past the size cap (then nothing is kept).
    pub oversize: bool,
    /// What it got wrong, in a fixed order.
    pub anomalies: Vec<&'static str>,
}

impl DataReader {
    /// A reader for one message of at most `max_size` bytes.
    pub fn new(max_size: u64) -> Self {
        DataReader {
            pos: Pos::LineStart,
            prev: b'\n',
            max_size,
            size: 0,
            body: Vec::new(),
            bare_lf: false,
            nul: false,
            done: false,
        }
    }

    /// Bytes of the message so far (counting those dropped past the cap).
    pub fn size(&self) -> u64 {
        self.size
    }

    fn push(&mut self, b: u8) {
        self.size += 1;
        if self.size <= self.max_size {
            self.body.push(b);
        }
        if b == 0 {
            self.nul = true;
        }
        if b == b'\n' && self.prev != b'\r' {
            self.bare_lf = true;
        }
        self.prev = b;
    }

    /// Feeds bytes; returns how many were used when the terminator was
    /// among them (the rest belongs to the next command), `None` when more
    /// are needed.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        if self.done {
            return Some(0);
        }
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if matches!(self.pos, Pos::Mid) && b != b'\n' {
                // Inside a line: everything up to the next LF at once.
                let rest = bytes.get(i..).unwrap_or_default();
                let run = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                self.push_run(rest.get(..run).unwrap_or_default());
                i += run;
                continue;
            }
            match (self.pos, b) {
                (Pos::LineStart, b'.') => self.pos = Pos::Dot,
                (Pos::Dot, b'\r') => self.pos = Pos::DotCr,
                (Pos::Dot, b'\n') => {
                    // `.` LF: the terminator with a bare LF.
                    self.bare_lf = true;
                    self.done = true;
                }
                (Pos::DotCr, b'\n') => self.done = true,
                (Pos::DotCr, _) => {
                    // `.` CR and more: the stuffed dot is dropped, the CR kept.
                    self.push(b'\r');
                    self.pos = Pos::Mid;
                    self.byte(b);
                }
                (Pos::Dot, _) => {
                    // A stuffed dot: dropped (RFC 5321 §4.5.2).
                    self.pos = Pos::Mid;
                    self.byte(b);
                }
                (Pos::LineStart | Pos::Mid, _) => self.byte(b),
            }
            i += 1;
            if self.done {
                return Some(i);
            }
        }
        None
    }

    /// [`DataReader::push`] of every byte of `run`, which holds no LF.
    fn push_run(&mut self, run: &[u8]) {
        let Some(&last) = run.last() else {
            return;
        };
        let room = usize::try_from(self.max_size.saturating_sub(self.size)).unwrap_or(usize::MAX);
        self.body
            .extend_from_slice(run.get(..run.len().min(room)).unwrap_or_default());
        self.size += run.len() as u64;
        if memchr::memchr(0, run).is_some() {
            self.nul = true;
        }
        self.prev = last;
    }

    fn byte(&mut self, b: u8) {
        self.push(b);
        self.pos = if b == b'\n' { Pos::LineStart } else { Pos::Mid };
    }

    /// The message, once [`DataReader::feed`] found the terminator.
    pub fn finish(self) -> DataEnd {
        let oversize = self.size > self.max_size;
        let mut anomalies = Vec::new();
        if self.bare_lf {
            anomalies.push("bare-lf");
        }
        if self.nul {
            anomalies.push("nul");
        }
        if !self.body.ends_with(b"\r\n") {
            anomalies.push("no-final-crlf");
        }
        DataEnd {
            body: if oversize { Vec::new() } else { self.body },
            oversize,
            anomalies,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines are taken in runs up to their LF: any split of the input
    /// reads the same message, anomalies and end as one byte at a time.
    #[test]
    fn any_split_reads_the_same() {
        let input: &[u8] = b"Subject: x\r\n..dot\r\n.\rcr\r\nbare\nnul\0here\r\n\
            a long line of text that is cut somewhere\r\n.\r\nNEXT";
        for max in [8u64, 40, 1000] {
            let mut one = DataReader::new(max);
            let mut used_one = None;
            for (i, b) in input.iter().enumerate() {
                if one.feed(std::slice::from_ref(b)).is_some() {
                    used_one = Some(i + 1);
                    break;
                }
            }
            let size = one.size();
            let want = one.finish();
            assert!(used_one.is_some());
            for cut in 1..input.len() {
                let mut r = DataReader::new(max);
                let used = r
                    .feed(&input[..cut])
                    .or_else(|| r.feed(&input[cut..]).map(|u| u + cut));
                assert_eq!(used, used_one, "max {max} cut {cut}");
                assert_eq!(r.size(), size, "max {max} cut {cut}");
                assert_eq!(r.finish(), want, "max {max} cut {cut}");
            }
        }
    }

    fn read_all(input: &[u8], max: u64) -> (DataEnd, usize) {
        let mut r = DataReader::new(max);
        let used = r.feed(input).expect("terminator");
        (r.finish(), used)
    }

    /// RFC 5321 §4.5.2: "If the first character is a period and there are
    /// other characters on the line, the first character is deleted."
    #[test]
    fn dots_are_unstuffed_and_the_terminator_is_found() {
        let (d, used) = read_all(b"Subject: x\r\n\r\n..a\r\n.b\r\n.\r\nQUIT\r\n", 1000);
        assert_eq!(d.body, b"Subject: x\r\n\r\n.a\r\nb\r\n");
        assert_eq!(used, 26);
        assert!(d.anomalies.is_empty());
        assert!(!d.oversize);
    }

    #[test]
    fn bare_lf_nul_and_no_final_crlf_are_tolerated_and_recorded() {
        let (d, _) = read_all(b"Subject: x\n\nbody\0\n.\n", 1000);
        assert_eq!(d.body, b"Subject: x\n\nbody\0\n");
        assert_eq!(d.anomalies, vec!["bare-lf", "nul", "no-final-crlf"]);
        let (d, _) = read_all(b".\r\n", 1000);
        assert!(d.body.is_empty());
        assert_eq!(d.anomalies, vec!["no-final-crlf"]);
    }

    #[test]
    fn the_terminator_may_be_split_across_reads() {
        let input = b"a\r\n.\r\n";
        for cut in 0..input.len() {
            let mut r = DataReader::new(100);
            let (x, y) = input.split_at(cut);
            let first = r.feed(x);
            let used = match first {
                Some(n) => n,
                None => cut + r.feed(y).unwrap(),
            };
            assert_eq!(used, input.len(), "cut at {cut}");
            assert_eq!(r.finish().body, b"a\r\n");
        }
    }

    #[test]
    fn dot_cr_inside_a_line_is_data() {
        let (d, _) = read_all(b".\rx\r\n.\r\n", 100);
        assert_eq!(d.body, b"\rx\r\n");
    }

    #[test]
    fn oversize_messages_are_read_to_the_end_and_dropped() {
        let mut input = vec![b'x'; 5000];
        input.extend_from_slice(b"\r\n.\r\n");
        let (d, used) = read_all(&input, 1000);
        assert!(d.oversize);
        assert!(d.body.is_empty());
        assert_eq!(used, input.len());
    }

    #[test]
    fn data_without_its_final_dot_never_ends() {
        let mut r = DataReader::new(100);
        assert_eq!(r.feed(b"a\r\nb\r\n.x\r\n"), None);
        assert_eq!(r.size(), 9);
    }
}
