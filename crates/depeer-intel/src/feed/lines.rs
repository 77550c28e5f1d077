//! Line framing and field splitting for text feeds.
//!
//! [`LineReader`] streams bounded lines (a per-record cap, not a per-file
//! one) with their 1-based number and byte offset, reusing one buffer, so a
//! feed of any size is read in constant memory. [`split_fields`] cuts one
//! line into field ranges without copying; a quoted field is unescaped
//! (`""` -> `"`) only when it must be.

use std::borrow::Cow;
use std::io::{self, BufRead};

/// Where a piece of a line was in its input. A line longer than the cap
/// comes in several pieces with the same number: the first has `first`,
/// the last has `last`; a line within the cap is one piece with both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineInfo {
    /// 1-based line number.
    pub(crate) number: u64,
    /// Byte offset of the piece's first byte.
    pub(crate) offset: u64,
    /// The piece starts the line.
    pub(crate) first: bool,
    /// The piece ends the line.
    pub(crate) last: bool,
}

impl LineInfo {
    /// The line was longer than the cap.
    pub(crate) fn truncated(&self) -> bool {
        !(self.first && self.last)
    }
}

/// Streams the lines of a `BufRead` in pieces of at most `max` bytes.
pub(crate) struct LineReader<R> {
    inner: R,
    max: usize,
    number: u64,
    offset: u64,
    /// The previous piece did not end its line.
    mid_line: bool,
    eof: bool,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R, max: usize) -> Self {
        Self {
            inner,
            max: max.max(1),
            number: 0,
            offset: 0,
            mid_line: false,
            eof: false,
        }
    }

    /// The number of the last line begun (0 before the first).
    pub(crate) fn last_number(&self) -> u64 {
        self.number
    }

    /// Reads the next piece into `buf`, without the `\n` (and a `\r`
    /// before it) that ends a line; `None` at the end of the input.
    pub(crate) fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<LineInfo>> {
        buf.clear();
        if self.eof {
            return Ok(None);
        }
        let first = !self.mid_line;
        if first {
            self.number += 1;
        }
        let offset = self.offset;
        let mut consumed: u64 = 0;
        let mut last = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                self.eof = true;
                if consumed == 0 && first {
                    self.number -= 1;
                    return Ok(None);
                }
                last = true;
                break;
            }
            let room = self.max - buf.len();
            let (take, used, ends) = match memchr::memchr(b'\n', avail) {
                Some(i) if i <= room => (i, i + 1, true),
                _ => {
                    let n = avail.len().min(room);
                    (n, n, false)
                }
            };
            buf.extend_from_slice(avail.get(..take).unwrap_or(&[]));
            self.inner.consume(used);
            consumed += used as u64;
            if ends {
                last = true;
                break;
            }
            if buf.len() >= self.max {
                break;
            }
        }
        if last && buf.last() == Some(&b'\r') {
            buf.pop();
        }
        self.mid_line = !last;
        self.offset += consumed;
        Ok(Some(LineInfo {
            number: self.number,
            offset,
            first,
            last,
        }))
    }
}

/// How fields are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delim {
    /// One byte (`,`, `\t`, `;`, `|`).
    Byte(u8),
    /// Runs of spaces and tabs.
    Whitespace,
}

/// One field of a line: a byte range, and whether it holds doubled quotes
/// to unescape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    start: usize,
    end: usize,
    escaped: bool,
}

impl Field {
    /// The field's text, borrowed unless it must be unescaped; trimmed of
    /// surrounding ASCII whitespace.
    pub(crate) fn text<'a>(&self, line: &'a str, quote: Option<u8>) -> Cow<'a, str> {
        let s = line.get(self.start..self.end).unwrap_or("").trim();
        match (self.escaped, quote) {
            (true, Some(q)) => {
                let q = char::from(q);
                let mut two = String::with_capacity(2);
                two.push(q);
                two.push(q);
                Cow::Owned(s.replace(&two, &q.to_string()))
            }
            _ => Cow::Borrowed(s),
        }
    }
}

/// Splits `line` into `out` (cleared first). A field that starts with the
/// quote byte runs to the matching quote; a doubled quote inside it is a
/// literal quote (RFC 4180). Errors name the problem.
pub(crate) fn split_fields(
    line: &str,
    delim: Delim,
    quote: Option<u8>,
    out: &mut Vec<Field>,
) -> Result<(), &'static str> {
    out.clear();
    let b = line.as_bytes();
    if let Delim::Whitespace = delim {
        let mut i = 0;
        while i < b.len() {
            while b.get(i).is_some_and(|c| *c == b' ' || *c == b'\t') {
                i += 1;
            }
            if i >= b.len() {
                break;
            }
            let start = i;
            while b.get(i).is_some_and(|c| *c != b' ' && *c != b'\t') {
                i += 1;
            }
            out.push(Field {
                start,
                end: i,
                escaped: false,
            });
        }
        return Ok(());
    }
    let Delim::Byte(d) = delim else {
        return Ok(());
    };
    let mut i = 0;
    loop {
        // Leading blanks before an opening quote are tolerated.
        let mut j = i;
        while b.get(j).is_some_and(|c| *c == b' ') {
            j += 1;
        }
        if let Some(q) = quote
            && b.get(j) == Some(&q)
        {
            let start = j + 1;
            let mut k = start;
            let mut escaped = false;
            let end = loop {
                let rest = b.get(k..).unwrap_or(&[]);
                match memchr::memchr(q, rest) {
                    None => return Err("unterminated quoted field"),
                    Some(p) => {
                        let at = k + p;
                        if b.get(at + 1) == Some(&q) {
                            escaped = true;
                            k = at + 2;
                        } else {
                            break at;
                        }
                    }
                }
            };
            out.push(Field {
                start,
                end,
                escaped,
            });
            let mut after = end + 1;
            while b.get(after).is_some_and(|c| *c == b' ') {
                after += 1;
            }
            match b.get(after) {
                None => return Ok(()),
                Some(c) if *c == d => i = after + 1,
                Some(_) => return Err("text after a closing quote"),
            }
        } else {
            let rest = b.get(i..).unwrap_or(&[]);
            match memchr::memchr(d, rest) {
                Some(p) => {
                    out.push(Field {
                        start: i,
                        end: i + p,
                        escaped: false,
                    });
                    i += p + 1;
                }
                None => {
                    out.push(Field {
                        start: i,
                        end: b.len(),
                        escaped: false,
                    });
                    return Ok(());
                }
            }
        }
        if i >= b.len() {
            // A trailing delimiter: one more, empty field.
            out.push(Field {
                start: b.len(),
                end: b.len(),
                escaped: false,
            });
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str, d: u8) -> Result<Vec<String>, &'static str> {
        let mut f = Vec::new();
        split_fields(line, Delim::Byte(d), Some(b'"'), &mut f)?;
        Ok(f.iter()
            .map(|x| x.text(line, Some(b'"')).into_owned())
            .collect())
    }

    #[test]
    fn plain_and_quoted_fields() {
        assert_eq!(split("a,b,c", b',').unwrap(), ["a", "b", "c"]);
        assert_eq!(split("a,,c,", b',').unwrap(), ["a", "", "c", ""]);
        assert_eq!(
            split(r#""1","x,y","say ""hi""",z"#, b',').unwrap(),
            ["1", "x,y", r#"say "hi""#, "z"]
        );
        assert_eq!(split(r#""a" , "b""#, b',').unwrap(), ["a", "b"]);
        assert_eq!(split("", b',').unwrap(), [""]);
        assert!(split(r#""open,b"#, b',').is_err());
        assert!(split(r#""a"x,b"#, b',').is_err());
    }

    #[test]
    fn whitespace_delimiter() {
        let mut f = Vec::new();
        let line = "  1.2.3.0/24 ;  SBL123\t";
        split_fields(line, Delim::Whitespace, None, &mut f).unwrap();
        let v: Vec<_> = f.iter().map(|x| x.text(line, None)).collect();
        assert_eq!(v, ["1.2.3.0/24", ";", "SBL123"]);
    }

    #[test]
    fn lines_are_numbered_pieced_and_crlf_stripped() {
        let data = b"one\r\ntwo-is-long\n\nlast";
        let mut r = LineReader::new(&data[..], 5);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(i) = r.next_line(&mut buf).unwrap() {
            got.push((
                i.number,
                i.offset,
                i.first,
                i.last,
                String::from_utf8(buf.clone()).unwrap(),
            ));
        }
        let want = [
            (1, 0, true, true, "one"),
            (2, 5, true, false, "two-i"),
            (2, 10, false, false, "s-lon"),
            (2, 15, false, true, "g"),
            (3, 17, true, true, ""),
            (4, 18, true, true, "last"),
        ];
        let got: Vec<_> = got
            .iter()
            .map(|(a, b, c, d, e)| (*a, *b, *c, *d, e.as_str()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(r.last_number(), 4);
    }

    #[test]
    fn small_reader_buffers_do_not_split_lines() {
        let data = b"alpha\nbeta\n";
        let rd = std::io::BufReader::with_capacity(2, &data[..]);
        let mut r = LineReader::new(rd, 100);
        let mut buf = Vec::new();
        r.next_line(&mut buf).unwrap();
        assert_eq!(buf, b"alpha");
        r.next_line(&mut buf).unwrap();
        assert_eq!(buf, b"beta");
        assert!(r.next_line(&mut buf).unwrap().is_none());
    }
}
