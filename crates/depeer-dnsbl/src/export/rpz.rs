//! A DNS Response Policy Zone (draft-vixie-dnsop-dns-rpz): a master file
//! with `$ORIGIN` (`rpz.depeer.test` unless `--origin`), SOA and NS at the
//! apex, and `CNAME .` (answer NXDOMAIN) policies:
//!
//! * networks: `rpz-ip` triggers, which match addresses in answers:
//!   `LEN.B4.B3.B2.B1.rpz-ip` for IPv4, `LEN.G8...G1.rpz-ip` for IPv6 with
//!   the groups in hex without leading zeros and the longest run of zero
//!   groups written `zz` (the draft's `::`);
//! * domains: `NAME` and `*.NAME` (QNAME triggers).
//!
//! The evidence of each policy is a `;` comment after it (printable ASCII,
//! one line: a feed's text cannot start a record).

use std::fmt::Write as _;
use std::net::IpAddr;

use depeer_core::Prefix;

use super::{Export, List, Rendered, Subject, dns_name, evidence, net};

/// The owner name of an `rpz-ip` trigger for a network, relative to the
/// origin.
pub(crate) fn rpz_ip(p: &Prefix) -> String {
    let len = p.prefix_len();
    match p.network() {
        IpAddr::V4(a) => {
            let [a, b, c, d] = a.octets();
            format!("{len}.{d}.{c}.{b}.{a}.rpz-ip")
        }
        IpAddr::V6(a) => {
            let g = a.segments();
            // The longest run of two or more zero groups (the first of
            // equal runs), as RFC 5952 chooses the one `::`.
            let (mut best, mut run) = ((0usize, 0usize), (0usize, 0usize));
            for (i, &x) in g.iter().enumerate() {
                if x == 0 {
                    if run.1 == 0 {
                        run.0 = i;
                    }
                    run.1 += 1;
                    if run.1 > best.1 {
                        best = run;
                    }
                } else {
                    run.1 = 0;
                }
            }
            let mut labels: Vec<String> = Vec::with_capacity(9);
            let mut i = 0;
            while i < g.len() {
                if best.1 >= 2 && i == best.0 {
                    labels.push("zz".into());
                    i += best.1;
                    continue;
                }
                labels.push(format!("{:x}", g.get(i).copied().unwrap_or(0)));
                i += 1;
            }
            labels.reverse();
            format!("{len}.{}.rpz-ip", labels.join("."))
        }
    }
}

/// `depeer export rpz`.
pub(super) fn rpz_zone(export: &Export, lists: &[List]) -> Rendered {
    let mut r = Rendered::default();
    let origin = export
        .origin
        .as_deref()
        .unwrap_or("rpz.depeer.test")
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let t = &mut r.text;
    let names: Vec<&str> = lists.iter().map(|l| l.as_str()).collect();
    let _ = writeln!(
        t,
        "; depeer response policy zone: lists {} as of {}",
        names.join(","),
        export.at.to_rfc3339()
    );
    let _ = writeln!(t, "$ORIGIN {origin}.");
    let _ = writeln!(t, "$TTL 300");
    let _ = writeln!(
        t,
        "@ IN SOA ns.{origin}. hostmaster.{origin}. {} 3600 600 86400 300",
        export.serial()
    );
    // An RPZ is never resolved itself: the customary NS is localhost.
    let _ = writeln!(t, "@ IN NS localhost.");
    let mut lines: Vec<(String, List, String)> = Vec::new();
    for l in export.of(lists) {
        let ev = evidence(l, &[], 300);
        match (&l.subject, net(l)) {
            (_, Some(p)) => lines.push((rpz_ip(&p), l.list, ev)),
            (Subject::Domain(d), None) => match dns_name(d, origin.len() + 3) {
                Some(d) => {
                    lines.push((d.clone(), l.list, ev.clone()));
                    lines.push((format!("*.{d}"), l.list, ev));
                }
                None => r.skip(l.list),
            },
            _ => r.skip(l.list),
        }
    }
    // One policy per owner: a name on two lists keeps its first listing.
    let mut seen = std::collections::HashSet::new();
    for (owner, list, ev) in lines {
        if !seen.insert(owner.clone()) {
            continue;
        }
        let _ = writeln!(r.text, "{owner} CNAME . ; {ev}");
        if !owner.starts_with("*.") {
            r.wrote(list);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    #[test]
    fn rpz_ip_owners() {
        // The draft's examples.
        assert_eq!(rpz_ip(&p("192.0.2.0/24")), "24.0.2.0.192.rpz-ip");
        assert_eq!(rpz_ip(&p("192.0.2.1/32")), "32.1.2.0.192.rpz-ip");
        assert_eq!(rpz_ip(&p("2001:db8::/32")), "32.zz.db8.2001.rpz-ip");
        assert_eq!(
            rpz_ip(&p("2001:db8:0:0:1:0:0:1/128")),
            "128.1.0.0.1.zz.db8.2001.rpz-ip"
        );
        assert_eq!(
            rpz_ip(&p("2001:db8:1:2:3:4:5:6/128")),
            "128.6.5.4.3.2.1.db8.2001.rpz-ip"
        );
        assert_eq!(rpz_ip(&p("::/0")), "0.zz.rpz-ip");
    }
}
