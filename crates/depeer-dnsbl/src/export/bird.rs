//! A BIRD 2 configuration fragment: `protocol static depeer_blackhole_v4`
//! (channel `ipv4`) and `..._v6` (channel `ipv6`), one `route PREFIX
//! blackhole;` per network with the RFC 7999 BLACKHOLE community
//! (65535, 666) set on it, so a BGP export filter can pass it to peers
//! that honour it. The evidence is a `#` comment above each route.
//! Include it from bird.conf (`include "depeer-blackhole.conf";`).

use std::fmt::Write as _;

use super::{Export, List, Rendered, evidence, is_v4, net};

/// `depeer export bird`.
pub(super) fn bird_static(export: &Export, lists: &[List]) -> Rendered {
    let mut r = Rendered::default();
    let names: Vec<&str> = lists.iter().map(|l| l.as_str()).collect();
    let mut nets = Vec::new();
    let mut ls = Vec::new();
    for l in export.of(lists) {
        match net(l) {
            Some(p) => {
                nets.push(p);
                ls.push(l);
            }
            None => r.skip(l.list),
        }
    }
    // A static protocol refuses the same prefix twice; a prefix on two
    // lists is routed once, with its first listing's evidence.
    let mut seen = std::collections::HashSet::new();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# depeer blackhole routes: lists {} as of {}",
        names.join(","),
        export.at.to_rfc3339()
    );
    for v4 in [true, false] {
        let fam = if v4 { "4" } else { "6" };
        let _ = writeln!(
            text,
            "\nprotocol static depeer_blackhole_v{fam} {{\n\tipv{fam};"
        );
        for (p, l) in nets.iter().zip(&ls) {
            if is_v4(p) != v4 || !seen.insert(*p) {
                continue;
            }
            let _ = writeln!(text, "\t# {}", evidence(l, &[], 400));
            let _ = writeln!(
                text,
                "\troute {p} blackhole {{ bgp_community.add((65535, 666)); }};"
            );
            r.wrote(l.list);
        }
        let _ = writeln!(text, "}}");
    }
    r.text = text;
    r
}
