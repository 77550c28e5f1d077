//! pyasn IPASN tables: `prefix<TAB>asn` lines, `;` comments, IPv4 and IPv6
//! in one file (pyasn's `IP-ASN32-DAT` and the older `IP-ASN-DAT` v1.2 files
//! have the same body). The stream is already decompressed by the caller.

use std::io::BufRead;

use depeer_core::{Asn, Prefix, RouteObs, SourceRef, Timestamp};

use crate::RoutingError;

/// What a table read gave.
#[derive(Debug, Default)]
pub struct IpasnTable {
    /// `(prefix, origin)` rows (host bits cleared).
    pub rows: Vec<(Prefix, Asn)>,
    /// Lines that did not parse, with where they were (line number in
    /// `index`, byte offset in `offset`).
    pub bad_lines: Vec<(SourceRef, String)>,
}

impl IpasnTable {
    /// The rows as `routes` rows of the moment `at`, each seen by one peer
    /// of `collector`: what a [`crate::RouteTable`] needs, without a history.
    pub fn routes_at(&self, at: Timestamp, collector: &str) -> Vec<RouteObs> {
        self.rows
            .iter()
            .map(|&(prefix, origin_asn)| RouteObs {
                prefix,
                origin_asn,
                first_seen: at,
                last_seen: at,
                peer_count: 1,
                collector: collector.to_string(),
            })
            .collect()
    }
}

/// Reads a pyasn table. Unreadable lines are collected, not fatal; an I/O
/// error is.
pub fn read_ipasn(mut r: impl BufRead, path: &str) -> Result<IpasnTable, RoutingError> {
    let mut out = IpasnTable::default();
    let mut line = Vec::new();
    let mut offset = 0u64;
    let mut n = 0u64;
    loop {
        line.clear();
        let k = r
            .read_until(b'\n', &mut line)
            .map_err(|e| RoutingError::Io {
                path: path.to_string(),
                source: e,
            })?;
        if k == 0 {
            break;
        }
        n += 1;
        let at = offset;
        offset += k as u64;
        let text = String::from_utf8_lossy(&line);
        let t = text.trim();
        if t.is_empty() || t.starts_with(';') {
            continue;
        }
        let mut f = t.split(['\t', ' ']).filter(|x| !x.is_empty());
        let parsed = match (f.next(), f.next(), f.next()) {
            (Some(p), Some(a), None) => p
                .parse::<Prefix>()
                .ok()
                .zip(a.parse::<Asn>().ok())
                .map(|(p, a)| (p.trunc(), a)),
            _ => None,
        };
        match parsed {
            Some(row) => out.rows.push(row),
            None => out
                .bad_lines
                .push((SourceRef::new(path, at, n), t.chars().take(200).collect())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fake_table_and_reports_bad_lines() {
        let text = "; IP-ASN32-DAT file\n;\n1.0.0.0/30\t1\n3.0.0.0/9\t5\n2001:db8::/32\t6939\nnonsense\n1.2.3.0/24\tASx\n";
        let t = read_ipasn(text.as_bytes(), "fake").unwrap();
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[2], ("2001:db8::/32".parse().unwrap(), Asn(6939)));
        assert_eq!(t.bad_lines.len(), 2);
        assert_eq!(t.bad_lines[0].0.index, 6);
    }
}
