//! A DNS query as received: header, the one question (RFC 1035 4.1.2) and
//! the EDNS(0) OPT pseudo-record (RFC 6891 6.1.2), parsed by hand without
//! allocation.
//!
//! Why not hickory-proto here: decoding a whole `Message` allocates a
//! `Name` per label set and a `Vec` per section; for a blocklist server
//! that answers one question per packet this parse is most of the work,
//! and the server must beat rbldnsd's hand-written C. hickory-proto checks
//! this parser in the tests (every answer is decoded by it).
//!
//! Invariants: `qname` is lowercase wire format without the root byte, at
//! most 254 bytes; `labels` holds the offset of each label in it.

/// The EDNS(0) OPT record of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edns {
    /// Requestor's UDP payload size (values under 512 are read as 512,
    /// RFC 6891 6.2.3).
    pub payload: u16,
    /// EDNS version.
    pub version: u8,
    /// DNSSEC OK bit.
    pub dnssec_ok: bool,
}

/// Why a packet gets no ordinary answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Shorter than a header, or a response: dropped silently (answering
    /// responses invites loops).
    Drop,
    /// Malformed: answered with FORMERR (header only).
    FormErr,
}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query {
    /// Transaction ID.
    pub id: u16,
    /// OPCODE (0 = QUERY).
    pub opcode: u8,
    /// RD flag, echoed back.
    pub rd: bool,
    qname: [u8; 255],
    qname_len: u8,
    labels: [u8; 128],
    nlabels: u8,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS.
    pub qclass: u16,
    /// End of the question section in the packet (the question is echoed
    /// from the packet as sent, case preserved).
    pub question_end: usize,
    /// The OPT record, if any.
    pub edns: Option<Edns>,
}

fn be16(p: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*p.get(at)?, *p.get(at + 1)?]))
}

/// Skips a possibly compressed name; returns the offset after it.
fn skip_name(p: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *p.get(at)?;
        match len {
            0 => return Some(at + 1),
            1..=63 => at += 1 + usize::from(len),
            0xc0..=0xff => {
                p.get(at + 1)?;
                return Some(at + 2);
            }
            _ => return None,
        }
    }
}

impl Query {
    /// Parses a query packet.
    pub fn parse(p: &[u8]) -> Result<Self, ParseError> {
        let Some(header) = p.get(..12) else {
            return Err(ParseError::Drop);
        };
        let (f1, qd) = (
            header.get(2).copied().unwrap_or(0),
            be16(header, 4).unwrap_or(0),
        );
        if f1 & 0x80 != 0 {
            return Err(ParseError::Drop);
        }
        if qd != 1 {
            return Err(ParseError::FormErr);
        }
        let mut q = Self {
            id: be16(header, 0).unwrap_or(0),
            opcode: (f1 >> 3) & 0x0f,
            rd: f1 & 1 != 0,
            qname: [0; 255],
            qname_len: 0,
            labels: [0; 128],
            nlabels: 0,
            qtype: 0,
            qclass: 0,
            question_end: 0,
            edns: None,
        };
        let mut at = 12usize;
        let mut n = 0usize;
        loop {
            let len = usize::from(*p.get(at).ok_or(ParseError::FormErr)?);
            if len == 0 {
                at += 1;
                break;
            }
            // Compression pointers have nothing to point back to in a
            // question; other label types are obsolete (RFC 6891 5).
            if len > 63 || n + 1 + len > 254 {
                return Err(ParseError::FormErr);
            }
            let label = p.get(at + 1..at + 1 + len).ok_or(ParseError::FormErr)?;
            *q.labels
                .get_mut(usize::from(q.nlabels))
                .ok_or(ParseError::FormErr)? = n as u8;
            q.nlabels += 1;
            let dst = q.qname.get_mut(n..n + 1 + len).ok_or(ParseError::FormErr)?;
            if let Some((first, rest)) = dst.split_first_mut() {
                *first = len as u8;
                for (d, s) in rest.iter_mut().zip(label) {
                    *d = s.to_ascii_lowercase();
                }
            }
            n += 1 + len;
            at += 1 + len;
        }
        q.qname_len = n as u8;
        q.qtype = be16(p, at).ok_or(ParseError::FormErr)?;
        q.qclass = be16(p, at + 2).ok_or(ParseError::FormErr)?;
        at += 4;
        q.question_end = at;
        q.edns = Self::parse_opt(p, at)?;
        Ok(q)
    }

    /// Skips answer and authority records, reads the additional section
    /// for an OPT record. More than one OPT is FORMERR (RFC 6891 6.1.1).
    fn parse_opt(p: &[u8], mut at: usize) -> Result<Option<Edns>, ParseError> {
        let count = |o| be16(p, o).map_or(0, usize::from);
        let (an, ns, ar) = (count(6), count(8), count(10));
        let mut edns = None;
        for k in 0..an + ns + ar {
            let name_at = at;
            at = skip_name(p, at).ok_or(ParseError::FormErr)?;
            let rtype = be16(p, at).ok_or(ParseError::FormErr)?;
            let class = be16(p, at + 2).ok_or(ParseError::FormErr)?;
            let ttl_hi = be16(p, at + 4).ok_or(ParseError::FormErr)?;
            let ttl_lo = be16(p, at + 6).ok_or(ParseError::FormErr)?;
            let rdlen = usize::from(be16(p, at + 8).ok_or(ParseError::FormErr)?);
            at += 10 + rdlen;
            if at > p.len() {
                return Err(ParseError::FormErr);
            }
            if k >= an + ns && rtype == 41 {
                if edns.is_some() || p.get(name_at) != Some(&0) {
                    return Err(ParseError::FormErr);
                }
                edns = Some(Edns {
                    payload: class.max(512),
                    version: (ttl_hi & 0xff) as u8,
                    dnssec_ok: ttl_lo & 0x8000 != 0,
                });
            }
        }
        Ok(edns)
    }

    /// The question name: lowercase wire format without the root byte.
    pub fn qname(&self) -> &[u8] {
        self.qname
            .get(..usize::from(self.qname_len))
            .unwrap_or_default()
    }

    /// Offsets of the labels in [`Self::qname`].
    pub fn label_starts(&self) -> &[u8] {
        self.labels
            .get(..usize::from(self.nlabels))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(name: &[u8], extra: &[u8], ar: u8) -> Vec<u8> {
        let mut p = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, ar];
        p.extend_from_slice(name);
        p.extend_from_slice(&[0, 1, 0, 1]);
        p.extend_from_slice(extra);
        p
    }

    #[test]
    fn question_is_lowercased_and_labelled() {
        let q = Query::parse(&packet(b"\x012\x010\x010\x03127\x02BL\x00", &[], 0)).unwrap();
        assert_eq!(q.qname(), b"\x012\x010\x010\x03127\x02bl");
        assert_eq!(q.label_starts(), &[0, 2, 4, 6, 10]);
        assert_eq!((q.id, q.qtype, q.qclass, q.rd), (0x1234, 1, 1, true));
        assert_eq!(q.edns, None);
    }

    #[test]
    fn opt_is_read() {
        // RFC 6891 6.1.2: NAME "MUST be 0 (root domain)", TYPE OPT (41),
        // CLASS "requestor's UDP payload size", TTL "extended RCODE and flags".
        let opt = [0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0];
        let q = Query::parse(&packet(b"\x01x\x00", &opt, 1)).unwrap();
        assert_eq!(
            q.edns,
            Some(Edns {
                payload: 1232,
                version: 0,
                dnssec_ok: true
            })
        );
        // "Values lower than 512 MUST be treated as equal to 512" (6.2.3).
        let small = [0, 0, 41, 0, 100, 0, 1, 0, 0, 0, 0];
        let q = Query::parse(&packet(b"\x01x\x00", &small, 1)).unwrap();
        assert_eq!(q.edns.map(|e| (e.payload, e.version)), Some((512, 1)));
    }

    #[test]
    fn malformed_queries() {
        assert_eq!(Query::parse(&[0; 11]).unwrap_err(), ParseError::Drop);
        let mut resp = packet(b"\x01x\x00", &[], 0);
        resp[2] |= 0x80;
        assert_eq!(Query::parse(&resp).unwrap_err(), ParseError::Drop);
        // a pointer in the question, a truncated name, a missing QTYPE
        for p in [
            packet(b"\xc0\x0c", &[], 0),
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05ab".to_vec(),
        ] {
            assert_eq!(Query::parse(&p).unwrap_err(), ParseError::FormErr);
        }
        let mut two = packet(b"\x01x\x00", &[], 0);
        two[5] = 2;
        assert_eq!(Query::parse(&two).unwrap_err(), ParseError::FormErr);
        // "If a query message with more than one OPT RR is received, a
        // FORMERR (RCODE=1) MUST be returned" (RFC 6891 6.1.1).
        let opt = [0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0];
        let twice = packet(b"\x01x\x00", &[opt, opt].concat(), 2);
        assert_eq!(Query::parse(&twice).unwrap_err(), ParseError::FormErr);
        // additional count larger than what is there
        assert_eq!(
            Query::parse(&packet(b"\x01x\x00", &[], 1)).unwrap_err(),
            ParseError::FormErr
        );
        // a name over 255 bytes
        let long: Vec<u8> = std::iter::repeat_n(
            &b"\x3faaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"[..],
            5,
        )
        .flatten()
        .copied()
        .chain([0])
        .collect();
        assert_eq!(
            Query::parse(&packet(&long, &[], 0)).unwrap_err(),
            ParseError::FormErr
        );
    }
}
