//! Who sends a message and what it links: a bot's address at a time (its
//! home network's DHCP lease), the reverse name and HELO it presents, and
//! the campaign URLs of a body.

use crate::botnet::Cast;
use crate::rng::Rng;
use crate::text::FIRST_NAMES;
use crate::textbuf::{push_all, push_ipv4, push_u64};
use crate::world::World;

/// What the mail loop reads of an access network, packed so that placing
/// a bot touches few cache lines (the AS records are large).
pub(super) struct AccessNet<'a> {
    pub(super) lease_secs: i64,
    pub(super) tz_min: i32,
    pub(super) asn: u32,
    pub(super) rdns_style: u8,
    pub(super) domain: &'a str,
    /// Its prefixes in [`AccessNets::v4`].
    pub(super) v4: std::ops::Range<usize>,
}

/// [`AccessNet`] per access network (indexed as `world.access`).
pub(super) struct AccessNets<'a> {
    pub(super) nets: Vec<AccessNet<'a>>,
    /// Time zone per access network, apart: the on-line test reads it most.
    pub(super) tz: Vec<i32>,
    pub(super) v4: Vec<(u32, u8)>,
}

impl<'a> AccessNets<'a> {
    pub(super) fn new(w: &'a World) -> Self {
        let mut v4 = Vec::new();
        let nets = w
            .access
            .iter()
            .filter_map(|&a| w.ases.get(a))
            .map(|n| {
                let from = v4.len();
                v4.extend_from_slice(&n.v4);
                AccessNet {
                    lease_secs: n.lease_secs,
                    tz_min: n.tz_min,
                    asn: n.asn,
                    rdns_style: n.rdns_style,
                    domain: &n.domain,
                    v4: from..v4.len(),
                }
            })
            .collect::<Vec<_>>();
        AccessNets {
            tz: nets.iter().map(|n| n.tz_min).collect(),
            nets,
            v4,
        }
    }
}

/// Appends the reverse name of an address in an access network; false
/// when the network publishes none.
pub(super) fn push_rdns(out: &mut Vec<u8>, net: &AccessNet<'_>, ip: u32) -> bool {
    let o = ip.to_be_bytes();
    let (pre, order, sep, mid): (&[u8], [usize; 4], u8, &[u8]) = match net.rdns_style {
        0 => (b"adsl-", [0, 1, 2, 3], b'-', b".dsl."),
        1 => (b"", [3, 2, 1, 0], b'.', b".dynamic."),
        2 => (b"dhcp-", [0, 1, 2, 3], b'-', b".cable."),
        3 => (b"ppp", [0, 1, 2, 3], b'-', b".pool."),
        _ => return false,
    };
    out.extend_from_slice(pre);
    for (k, &i) in order.iter().enumerate() {
        if k > 0 {
            out.push(sep);
        }
        push_u64(out, u64::from(o.get(i).copied().unwrap_or(0)));
    }
    push_all(out, &[mid, net.domain.as_bytes()]);
    true
}

/// Appends the HELO name a bot of a style uses.
pub(super) fn push_helo(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    family: &str,
    ip: u32,
    rdns: Option<&[u8]>,
) {
    let lit = |out: &mut Vec<u8>| {
        out.push(b'[');
        push_ipv4(out, ip);
        out.push(b']');
    };
    match family {
        "rustock" | "storm" => lit(out),
        "cutwail" | "pushdo" => match rdns {
            Some(r) => out.extend_from_slice(r),
            None => lit(out),
        },
        "megad" => push_all(
            out,
            &[
                rng.pick(&FIRST_NAMES).as_bytes(),
                b".",
                rng.pick(&["com", "net", "org"]).as_bytes(),
            ],
        ),
        _ => push_all(
            out,
            &[
                rng.pick(&FIRST_NAMES).as_bytes(),
                b"-",
                rng.pick(&["pc", "laptop", "home", "desktop"]).as_bytes(),
            ],
        ),
    }
}

/// Appends 1-2 URLs of a campaign's sites, each followed by `\n`;
/// Storm-style messages sometimes link the site's address at `t`.
pub(super) fn campaign_urls(
    rng: &mut Rng,
    cast: &Cast,
    camp: &crate::botnet::Campaign,
    links_ip: bool,
    t: Option<i64>,
    out: &mut Vec<u8>,
) {
    for _ in 0..1 + rng.index(2) {
        let Some(s) = cast.sites.get(*rng.pick(&camp.sites)) else {
            continue;
        };
        out.extend_from_slice(b"http://");
        match t {
            Some(t) if links_ip && rng.chance(0.5) => push_ipv4(out, s.ip_at(t)),
            _ if rng.chance(0.3) => push_all(out, &[b"www.", s.domain.as_bytes()]),
            _ => out.extend_from_slice(s.domain.as_bytes()),
        }
        out.extend_from_slice(camp.path.as_bytes());
        if camp.path.ends_with('=') {
            push_u64(out, rng.below(100_000));
        }
        out.push(b'\n');
    }
}
