//! GoBGP: one `gobgp` command line per route, without the program name:
//! `global rib add -a ipv4 PREFIX community 65535:666` (RFC 7999
//! BLACKHOLE). Run as `while read -r l; do gobgp $l; done < FILE`. The
//! lines have no place for evidence (a comment would be an argument):
//! `depeer export rpz` or `drop` of the same data carries it.

use std::fmt::Write as _;

use super::{Export, List, Rendered, is_v4, net};

/// `depeer export gobgp`.
pub(super) fn gobgp_lines(export: &Export, lists: &[List]) -> Rendered {
    let mut r = Rendered::default();
    let mut seen = std::collections::HashSet::new();
    for v4 in [true, false] {
        for l in export.of(lists) {
            let Some(p) = net(l) else {
                if v4 {
                    r.skip(l.list);
                }
                continue;
            };
            if is_v4(&p) != v4 || !seen.insert(p) {
                continue;
            }
            let fam = if v4 { "ipv4" } else { "ipv6" };
            let _ = writeln!(r.text, "global rib add -a {fam} {p} community 65535:666");
            r.wrote(l.list);
        }
    }
    r
}
