//! An nftables ruleset fragment for `nft -f`: table `inet depeer` with one
//! interval set per list and family (`drop_v4`, `drop_v6`, ...), replaced
//! whole on every load (the `table` / `delete table` / `table {...}` idiom
//! is one atomic transaction). Only sets: which chain drops what is the
//! operator's choice (the header shows a rule). Each element carries its
//! evidence as an element comment (at most 128 bytes, no `"`). Networks
//! covered by another network of the same set are left out: nft refuses
//! overlapping intervals.

use std::fmt::Write as _;

use super::{Export, List, Rendered, clean, evidence, is_v4, net, outermost};

/// nftables' limit on an element comment (NFTNL_UDATA_COMMENT_MAXLEN).
const COMMENT_MAX: usize = 127;

/// `depeer export nft`.
pub(super) fn nft_sets(export: &Export, lists: &[List]) -> Rendered {
    let mut r = Rendered::default();
    let mut body = String::new();
    for &list in lists {
        for v4 in [true, false] {
            let mut nets = Vec::new();
            let mut ls = Vec::new();
            let one = [list];
            for l in export.of(&one) {
                match net(l) {
                    Some(p) if is_v4(&p) == v4 => {
                        nets.push(p);
                        ls.push(l);
                    }
                    Some(_) => {}
                    None if v4 => r.skip(list),
                    None => {}
                }
            }
            let keep = outermost(&nets);
            let fam = if v4 { "4" } else { "6" };
            let _ = writeln!(body, "\tset {}_v{fam} {{", list.as_str());
            let _ = writeln!(
                body,
                "\t\ttype ipv{fam}_addr\n\t\tflags interval\n\t\tcomment \"depeer {} list, IPv{fam}\"",
                list.as_str()
            );
            if !keep.is_empty() {
                let _ = writeln!(body, "\t\telements = {{");
                for i in keep {
                    let (Some(p), Some(l)) = (nets.get(i), ls.get(i)) else {
                        continue;
                    };
                    let c = clean(&evidence(l, &['"', '\\'], 400), &[], COMMENT_MAX);
                    let _ = writeln!(body, "\t\t\t{p} comment \"{c}\",");
                    r.wrote(list);
                }
                let _ = writeln!(body, "\t\t}}");
            }
            let _ = writeln!(body, "\t}}");
        }
    }
    let names: Vec<&str> = lists.iter().map(|l| l.as_str()).collect();
    let t = &mut r.text;
    let _ = writeln!(
        t,
        "#!/usr/sbin/nft -f\n# depeer blocklist sets: lists {} as of {}",
        names.join(","),
        export.at.to_rfc3339()
    );
    let first = lists.first().map_or("drop", |l| l.as_str());
    let _ = writeln!(
        t,
        "# use: nft add chain inet depeer input '{{ type filter hook input priority -10; }}'\n\
         #      nft add rule inet depeer input ip saddr @{first}_v4 drop\n\
         # (sets are referenced from chains of this table; a reload deletes the table,\n\
         #  so load your chain from a second file after this one)"
    );
    let _ = writeln!(t, "table inet depeer\ndelete table inet depeer");
    let _ = writeln!(t, "table inet depeer {{");
    t.push_str(&body);
    let _ = writeln!(t, "}}");
    r
}
