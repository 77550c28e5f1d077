//! rbldnsd zone files (rbldnsd(8)): an ip4set of the address lists, each
//! entry with its list's own answer and a TXT of its evidence
//! (`ADDR :127.0.0.x:text`); the dbl as a dnset (`.name` lists the name
//! and every name below it); the IPv6 part of a list as an ip6trie (only
//! in [`data_zones`], which `depeer serve dnsbl --data` loads through the
//! same zone reader as any `--zone` file).
//!
//! In a TXT template `$` stands for the queried subject, so a `$` from a
//! feed is written `$$`; the text never starts with `=` (it starts with
//! the list name) and holds printable ASCII only.

use std::fmt::Write as _;

use super::{Export, List, Listing, Rendered, Subject, dns_name, evidence, is_v4, net};
use crate::ZoneType;

/// One zone of depeer's own data: `NAME.ORIGIN`, a dataset type, the file
/// text. A list with IPv4 and IPv6 entries gives two datasets of one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataZone {
    /// The list (the zone's first label).
    pub list: List,
    /// Dataset type of `text`.
    pub kind: ZoneType,
    /// The zone file.
    pub text: String,
    /// Entries written.
    pub entries: u64,
}

/// TTL of the generated zones: rbldnsd's default, 35 minutes.
const TTL: u32 = 2100;

fn header(out: &mut String, export: &Export, kind: ZoneType, lists: &[List]) {
    let origin = export
        .origin
        .as_deref()
        .unwrap_or("bl.depeer.test")
        .trim_end_matches('.');
    let names: Vec<&str> = lists.iter().map(|l| l.as_str()).collect();
    let _ = writeln!(
        out,
        "# depeer rbldnsd zone ({}), lists {} as of {}",
        kind.as_str(),
        names.join(","),
        export.at.to_rfc3339()
    );
    let _ = writeln!(
        out,
        "$SOA {TTL} ns.{origin}. hostmaster.{origin}. {} 3600 600 86400 300",
        export.serial()
    );
    let _ = writeln!(out, "$NS {TTL} ns.{origin}.");
    let _ = writeln!(out, "$TTL {TTL}");
}

/// `:127.0.0.x:evidence` of a listing.
fn value(l: &Listing) -> String {
    let [a, b, c, d] = l.list.code();
    let text = evidence(l, &[], 200).replace('$', "$$");
    format!(":{a}.{b}.{c}.{d}:{text}")
}

fn ip_entries(out: &mut String, r: &mut Rendered, export: &Export, lists: &[List], v4: bool) {
    for l in export.of(lists) {
        match net(l) {
            Some(p) if is_v4(&p) == v4 => {
                let _ = writeln!(out, "{p} {}", value(l));
                r.wrote(l.list);
            }
            // The other family is the other dataset's.
            Some(_) => {}
            None => r.skip(l.list),
        }
    }
}

fn dn_entries(out: &mut String, r: &mut Rendered, export: &Export, lists: &[List]) {
    for l in export.of(lists) {
        match &l.subject {
            Subject::Domain(d) => match dns_name(d, 0) {
                Some(d) => {
                    let _ = writeln!(out, ".{d} {}", value(l));
                    r.wrote(l.list);
                }
                None => r.skip(l.list),
            },
            _ => r.skip(l.list),
        }
    }
}

/// `depeer export rbldnsd`: an ip4set of the address lists, or a dnset
/// when the only list is the dbl. IPv6 networks cannot be in an ip4set:
/// they are counted as skipped.
pub(super) fn zone_file(export: &Export, lists: &[List]) -> Rendered {
    let mut r = Rendered::default();
    let mut text = String::new();
    if lists == [List::Dbl] {
        header(&mut text, export, ZoneType::Dnset, lists);
        let _ = writeln!(text, "test :127.0.0.2:RFC 5782 test entry");
        dn_entries(&mut text, &mut r, export, lists);
    } else {
        header(&mut text, export, ZoneType::Ip4Set, lists);
        let _ = writeln!(text, "127.0.0.2 :127.0.0.2:RFC 5782 test entry");
        ip_entries(&mut text, &mut r, export, lists, true);
        for l in export.of(lists) {
            if net(l).is_some_and(|p| !is_v4(&p)) {
                r.skip(l.list);
            }
        }
    }
    r.text = text;
    r
}

/// The zones `depeer serve dnsbl --data` serves: `bots`, `cc`, `drop`
/// (an ip4set and an ip6trie each) and `dbl` (a dnset), named relative to
/// the export's origin.
pub fn data_zones(export: &Export) -> Vec<DataZone> {
    let mut out = Vec::new();
    for list in List::ALL {
        let lists = [list];
        let kinds: &[ZoneType] = if list == List::Dbl {
            &[ZoneType::Dnset]
        } else {
            &[ZoneType::Ip4Set, ZoneType::Ip6Trie]
        };
        for &kind in kinds {
            let mut r = Rendered::default();
            let mut text = String::new();
            header(&mut text, export, kind, &lists);
            match kind {
                ZoneType::Dnset => dn_entries(&mut text, &mut r, export, &lists),
                ZoneType::Ip6Trie => ip_entries(&mut text, &mut r, export, &lists, false),
                _ => ip_entries(&mut text, &mut r, export, &lists, true),
            }
            out.push(DataZone {
                list,
                kind,
                text,
                entries: r.total(),
            });
        }
    }
    out
}
