//! Quoted-printable (RFC 2045 section 6.7) decoding of a whole single-part
//! body, byte for byte what mail-parser's
//! `MessageStream::decode_quoted_printable_mime` returns with no boundary,
//! but copying the runs between `=`, CR and LF with `memchr` instead of
//! pushing one byte at a time (most spam is quoted-printable text, so that
//! loop runs over most body bytes depeer reads).
//!
//! mail-parser's rules, kept exactly: white space before a line break is
//! dropped; a line break is written as LF, or as CRLF once any CR was seen;
//! CR itself is never copied; `=` followed by white space and a line break
//! is a soft break; `=XX` is a byte; `=` before a non-hex byte is kept
//! literally (with that byte, and with the byte before it when the second
//! hex digit is bad); only `=` inside such a sequence is an encoding error
//! (`None`: the caller then lets mail-parser handle the message).

/// Value of a hex digit, or `None`.
fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The white space mail-parser counts before a line break (`\n` and `\r`
/// never reach that count).
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | 0x0c)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    None,
    Eq,
    Hex1(u8),
}

/// Decodes `body`; `None` on an encoding error.
pub(crate) fn decode(body: &[u8]) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(body.len());
    let mut state = State::None;
    let mut ws_count = 0usize;
    let mut crlf = false;
    let mut i = 0usize;
    while i < body.len() {
        if state == State::None {
            let rest = body.get(i..).unwrap_or_default();
            let run_len = memchr::memchr3(b'=', b'\n', b'\r', rest).unwrap_or(rest.len());
            if run_len > 0 {
                let run = rest.get(..run_len).unwrap_or_default();
                let trailing = run.iter().rev().take_while(|&&c| is_ws(c)).count();
                ws_count = if trailing == run_len {
                    ws_count + run_len
                } else {
                    trailing
                };
                buf.extend_from_slice(run);
                i += run_len;
                continue;
            }
        }
        let Some(&c) = body.get(i) else { break };
        i += 1;
        match c {
            b'=' => {
                if state != State::None {
                    return None;
                }
                state = State::Eq;
            }
            b'\n' => {
                if state == State::Eq {
                    state = State::None;
                } else {
                    buf.truncate(buf.len().saturating_sub(ws_count));
                    if crlf {
                        buf.push(b'\r');
                    }
                    buf.push(b'\n');
                }
                ws_count = 0;
            }
            b'\r' => crlf = true,
            _ => match state {
                // Runs are copied above; only reached in the other states.
                State::None => buf.push(c),
                State::Eq => match hex(c) {
                    Some(h) => state = State::Hex1(h),
                    None if c.is_ascii_whitespace() => {}
                    None => {
                        buf.extend_from_slice(&[b'=', c]);
                        ws_count = 0;
                        state = State::None;
                    }
                },
                State::Hex1(h1) => {
                    match hex(c) {
                        Some(h2) => buf.push((h1 << 4) | h2),
                        None => {
                            // mail-parser writes the byte before this one,
                            // whatever it was (the first digit, or a CR/LF).
                            let before = i.checked_sub(2).and_then(|k| body.get(k));
                            buf.extend_from_slice(&[b'=', before.copied().unwrap_or(b'='), c]);
                        }
                    }
                    ws_count = 0;
                    state = State::None;
                }
            },
        }
    }
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::parsers::MessageStream;

    fn mail_parser_decode(b: &[u8]) -> Option<Vec<u8>> {
        let mut s = MessageStream::new(b);
        let (end, out) = s.decode_quoted_printable_mime(b"");
        (end != usize::MAX).then(|| out.into_owned())
    }

    #[test]
    fn rfc_examples() {
        // RFC 2045 6.7: "=" at the end of an encoded line is a soft break.
        assert_eq!(
            decode(b"Now's the time =\r\nfor all folk to come=\r\n to the aid=3D   \r\nx").unwrap(),
            b"Now's the time for all folk to come to the aid=\r\nx"
        );
        assert_eq!(decode(b"a=ZZ").unwrap(), b"a=ZZ");
        assert_eq!(decode(b"a=A="), None);
    }

    /// Same output as mail-parser on random inputs over a QP-ish alphabet.
    #[test]
    fn equals_mail_parser_on_random_input() {
        let alphabet = b"=\r\n \t\x0cAaF09zZ-x\xe9";
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            x = crate::test_support::xorshift(x);
            let len = (x % 24) as usize;
            let mut y = x;
            let input: Vec<u8> = (0..len)
                .map(|_| {
                    y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    alphabet[((y >> 33) % alphabet.len() as u64) as usize]
                })
                .collect();
            assert_eq!(decode(&input), mail_parser_decode(&input), "{input:?}");
        }
    }
}
