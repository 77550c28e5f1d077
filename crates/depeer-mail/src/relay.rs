//! The `Received:` chain and its trust boundary.
//!
//! Hops are read from the top (the trap's own MX) down. Lines that are not
//! handovers (see [`ReceivedHop::handover`]) are skipped; the first handover
//! hop that [`TrustConfig`] does not trust is the *first untrusted* hop, the
//! relay that handed the message to the trap. Everything below it is
//! untrusted: a forged line further down can never move the boundary,
//! because the walk stops there. As in SpamAssassin, IPs from the
//! `originating_ip_headers` (`X-Originating-IP` and friends) are appended
//! below the last `Received:` line.

use std::net::IpAddr;

use depeer_core::Timestamp;

use crate::headers::{HeaderFields, RawField};
use crate::received::{ReceivedHop, parse_received_bytes};
use crate::trust::TrustConfig;

/// At most this many `Received:` fields are parsed per message.
pub const MAX_RECEIVED_FIELDS: usize = 256;

/// First bytes of the field names [`relay_chain`] reads (`Received` and
/// the `X-` originating-IP fields), for walks that can skip the others.
pub(crate) const RELAY_INITIALS: &[u8] = b"RrXx";

/// SpamAssassin's default `originating_ip_headers`, in its order.
const ORIGINATING_IP_HEADERS: [&[u8]; 6] = [
    b"X-Yahoo-Post-IP",
    b"X-Originating-IP",
    b"X-Apparently-From",
    b"X-SenderIP",
    b"X-AOL-IP",
    b"X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp",
];

/// What the `Received:` chain says about a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayInfo {
    /// The first untrusted hop: the relay that handed the message over.
    pub first_untrusted: Option<ReceivedHop>,
    /// Its position among the `Received:` fields (0 = topmost); `None` when
    /// it came from an originating-IP header.
    pub first_untrusted_index: Option<usize>,
    /// The date of the trap's own hop: the topmost `Received:` line with a
    /// date, at or above the trust boundary.
    pub trap_hop_time: Option<Timestamp>,
    /// Number of `Received:` fields in the header.
    pub received_count: usize,
    /// Number of trusted handover hops above the boundary.
    pub trusted_count: usize,
}

/// First IP address in a header value (as SpamAssassin's `IP_ADDRESS`
/// search does).
fn first_ip(value: &[u8]) -> Option<IpAddr> {
    value
        .split(|b| !(b.is_ascii_hexdigit() || *b == b'.' || *b == b':'))
        .filter(|t| t.len() >= 3)
        .find_map(|t| {
            let s = std::str::from_utf8(t)
                .ok()?
                .trim_matches(|c| c == '.' || c == ':');
            let ip: IpAddr = s.parse().ok()?;
            Some(match ip {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
                v4 => v4,
            })
        })
}

/// Walks the `Received:` chain of a header block (or a whole message: the
/// walk stops at the end of the header) and finds the trust boundary.
///
/// ```
/// let raw = b"Received: from mx.trap.example (mx [10.0.0.5]) by store.trap.example with LMTP; Tue, 11 Nov 2008 21:30:05 +0000\n\
/// Received: from bot.example (dsl.example [198.51.100.23]) by mx.trap.example (Postfix) with SMTP id 1; Tue, 11 Nov 2008 21:30:00 +0000\n\
/// Received: from forged.example ([192.0.2.1]) by bot.example with SMTP; Mon, 1 Jan 2001 00:00:00 +0000\n\
/// Subject: hi\n\nbody\n";
/// let info = depeer_mail::relay_chain(raw, &depeer_mail::TrustConfig::default());
/// let relay = info.first_untrusted.unwrap();
/// assert_eq!(relay.from_ip, Some("198.51.100.23".parse().unwrap()));
/// assert_eq!(info.trap_hop_time.unwrap().to_rfc3339(), "2008-11-11T21:30:05Z");
/// ```
pub fn relay_chain(raw_headers: &[u8], trust: &TrustConfig) -> RelayInfo {
    relay_chain_fields(HeaderFields::new(raw_headers), trust)
}

/// [`relay_chain`] over fields already split (the extractor's indexed walk).
pub(crate) fn relay_chain_fields<'a>(
    fields: impl Iterator<Item = RawField<'a>>,
    trust: &TrustConfig,
) -> RelayInfo {
    let mut info = RelayInfo::default();
    let mut scratch = String::new();
    let mut in_trusted = true;
    let mut originating: [Option<IpAddr>; ORIGINATING_IP_HEADERS.len()] = Default::default();
    for field in fields {
        if field.name.eq_ignore_ascii_case(b"Received") {
            let index = info.received_count;
            info.received_count += 1;
            if !in_trusted || index >= MAX_RECEIVED_FIELDS {
                continue;
            }
            let Some(hop) = parse_received_bytes(field.value, &mut scratch) else {
                continue;
            };
            if info.trap_hop_time.is_none() {
                info.trap_hop_time = hop.date;
            }
            if !hop.handover {
                continue;
            }
            if trust.trusts(hop.from_ip, hop.from_rdns, hop.auth) {
                info.trusted_count += 1;
            } else {
                in_trusted = false;
                info.first_untrusted = Some(hop.to_hop());
                info.first_untrusted_index = Some(index);
            }
        } else if in_trusted
            && field.name.len() >= 8
            && field
                .name
                .get(..2)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"X-"))
            && let Some(k) = ORIGINATING_IP_HEADERS
                .iter()
                .position(|h| h.eq_ignore_ascii_case(field.name))
            && let Some(slot) = originating.get_mut(k)
            && slot.is_none()
        {
            *slot = first_ip(field.value);
        }
    }
    if in_trusted {
        for ip in originating.into_iter().flatten() {
            if trust.trusts(Some(ip), None, false) {
                info.trusted_count += 1;
                continue;
            }
            info.first_untrusted = Some(ReceivedHop {
                from_ip: Some(ip),
                handover: true,
                ..ReceivedHop::default()
            });
            break;
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The extractor's walk (indexed, only `R`/`X` fields) gives the same
    /// relay information as the plain walk, on every real message.
    #[test]
    fn indexed_walk_equals_the_plain_walk_on_real_mail() {
        use crate::headers::{IndexedFields, header_block, index_header};
        let Some(data) =
            crate::test_support::shared_data("indexed_walk_equals_the_plain_walk_on_real_mail")
        else {
            return;
        };
        let (mut nl, mut n) = (Vec::new(), 0usize);
        for (p, m) in crate::test_support::real_messages(&data) {
            let block = header_block(&m.bytes);
            let len = index_header(&m.bytes, &mut nl, usize::MAX).unwrap();
            assert_eq!(len, block.len());
            let trust = TrustConfig::default();
            let want = relay_chain(block, &trust);
            let got = relay_chain_fields(
                IndexedFields::new(block, &nl).only_initials(RELAY_INITIALS),
                &trust,
            );
            assert_eq!(got, want, "{}", p.display());
            n += 1;
        }
        assert!(n > 4000, "{n} messages");
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forged_lines_below_the_boundary_never_move_it() {
        let raw = b"Received: from relay.example (relay.example [203.0.113.9]) by mx.trap.example (Postfix) with ESMTP id 1; Tue, 11 Nov 2008 21:30:00 +0000\n\
Received: from x (y [10.0.0.1]) by relay.example with ESMTPA id 2; Tue, 11 Nov 2008 21:29:00 +0000\n\
Received: from a (b [127.0.0.1]) by c with SMTP; Tue, 11 Nov 2008 21:28:00 +0000\n\n";
        let info = relay_chain(raw, &TrustConfig::default());
        assert_eq!(
            info.first_untrusted.as_ref().unwrap().from_ip,
            ip("203.0.113.9")
        );
        assert_eq!(info.first_untrusted_index, Some(0));
        assert_eq!(info.received_count, 3);
        assert_eq!(info.trusted_count, 0);
    }

    #[test]
    fn configured_trust_moves_past_our_own_relays() {
        let raw = b"Received: from relay.example (relay.example [203.0.113.9]) by mx.trap.example (Postfix) with ESMTP id 1; Tue, 11 Nov 2008 21:30:00 +0000\n\
Received: from bot (dsl.example [198.51.100.77]) by relay.example with SMTP id 2; Tue, 11 Nov 2008 21:29:00 +0000\n\n";
        let trust = TrustConfig::parse("trusted_networks 203.0.113.0/24\n", "t").unwrap();
        let info = relay_chain(raw, &trust);
        assert_eq!(
            info.first_untrusted.as_ref().unwrap().from_ip,
            ip("198.51.100.77")
        );
        assert_eq!(info.first_untrusted_index, Some(1));
        assert_eq!(info.trusted_count, 1);
        assert_eq!(
            info.trap_hop_time.unwrap().to_rfc3339(),
            "2008-11-11T21:30:00Z"
        );
    }

    #[test]
    fn local_lines_are_skipped_and_originating_ip_is_the_last_resort() {
        let raw = b"Received: by mx.trap.example (Postfix, from userid 0) id 1; Tue, 11 Nov 2008 21:31:00 +0000\n\
Received: from localhost (localhost [127.0.0.1]) by mx.trap.example with SMTP; Tue, 11 Nov 2008 21:30:00 +0000\n\
X-Originating-IP: [198.51.100.200]\n\n";
        let info = relay_chain(raw, &TrustConfig::default());
        assert_eq!(
            info.first_untrusted.as_ref().unwrap().from_ip,
            ip("198.51.100.200")
        );
        assert_eq!(info.first_untrusted_index, None);
        assert_eq!(
            info.trap_hop_time.unwrap().to_rfc3339(),
            "2008-11-11T21:31:00Z"
        );
    }

    #[test]
    fn no_received_means_no_relay() {
        let info = relay_chain(
            b"Subject: x\n\nReceived: from a (b [198.51.100.1]) by c\n",
            &TrustConfig::default(),
        );
        assert_eq!(info, RelayInfo::default());
    }
}
