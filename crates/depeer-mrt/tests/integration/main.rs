//! Integration tests of depeer-mrt: real files from ../shared/data (checked
//! against bgpdump's own expected output where the bgpdump repository has
//! one) and hand-made nasty inputs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::io::Read;

use depeer_core::test_support::{have_shared_data, shared_data_dir};
use depeer_mrt::{Elem, MrtError, MrtReader, dump_lines};

/// Decompresses a shared file (gzip or bzip2 by magic), tolerating a cut
/// stream: the bytes before the cut and the error are both returned.
fn decompressed(rel: &str) -> (Vec<u8>, Option<std::io::Error>) {
    let raw = std::fs::read(shared_data_dir().join(rel)).unwrap();
    let mut r = depeer_io::open_decoded(std::io::Cursor::new(raw), depeer_io::Limits::default())
        .unwrap()
        .reader;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn dump(rel: &str) -> Vec<String> {
    let (bytes, err) = decompressed(rel);
    assert!(err.is_none(), "{rel}: {err:?}");
    let mut lines = Vec::new();
    for rec in MrtReader::new(&bytes[..], rel) {
        dump_lines(&rec.unwrap(), &mut lines);
    }
    lines
}

/// bgpdump's expected output, cut to the fields depeer keeps.
fn expected(name: &str) -> Vec<String> {
    let (bytes, _) = decompressed(&format!("mrt/bgpdump/test_expect/{name}.bgp.gz"));
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            let keep = match f[2] {
                "W" => 6,
                _ => 7,
            };
            f[..keep.min(f.len())].join("|")
        })
        .collect()
}

/// The dump of bgpdump's test file `name`, checked line for line against
/// bgpdump's expected output of it; `None` (skipped) without the shared data.
fn matches_bgpdump(test: &str, name: &str) -> Option<Vec<String>> {
    if !have_shared_data(test) {
        return None;
    }
    let got = dump(&format!("mrt/bgpdump/test_data/{name}"));
    assert_eq!(got, expected(name), "{name}");
    Some(got)
}

#[test]
fn table_dump_v1_rib_matches_bgpdump_expectation() {
    let test = "table_dump_v1_rib_matches_bgpdump_expectation";
    // 115,521 TABLE_DUMP records of RIPE RIS, 2002-07-22.
    if let Some(got) = matches_bgpdump(test, "bview.20020722.2337.gz") {
        assert_eq!(got.len(), 115_521);
    }
}

#[test]
fn updates_with_state_changes_match_bgpdump_expectation_in_order() {
    let test = "updates_with_state_changes_match_bgpdump_expectation_in_order";
    if let Some(got) = matches_bgpdump(test, "updates.20020722.2238.gz") {
        assert_eq!(got.len(), 3337);
        assert!(got.iter().any(|l| l.contains("|STATE|")));
    }
}

#[test]
fn extended_timestamps_keep_microseconds() {
    let test = "extended_timestamps_keep_microseconds";
    if let Some(got) = matches_bgpdump(test, "updates.et-header.2015.gz") {
        assert_eq!(
            got.first().map(String::as_str),
            Some("BGP4MP_ET|1445565678.509481|STATE|206.220.231.55|3856|1|2")
        );
    }
}

#[test]
fn table_dump_v2_ipv6_peer_index() {
    let test = "table_dump_v2_ipv6_peer_index";
    if let Some(got) = matches_bgpdump(test, "bview.64k_stream_overflow.gz") {
        assert!(got.iter().all(|l| l.starts_with("TABLE_DUMP2|")));
    }
}

#[test]
fn cut_bzip2_rib_uses_every_record_before_the_cut() {
    if !have_shared_data("cut_bzip2_rib_uses_every_record_before_the_cut") {
        return;
    }
    // The first MiB of a RouteViews TABLE_DUMP RIB, cut on purpose.
    let (bytes, err) = decompressed("ipasn/rib.20080501.0644_firstMB.bz2");
    assert!(err.is_some(), "the file is cut, the decoder must say so");
    let mut reader = MrtReader::new(&bytes[..], "rib.20080501.0644_firstMB.bz2");
    let mut ribs = 0u64;
    let mut errors = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(r) => ribs += r.elems.len() as u64,
            Err(e) => errors.push(e),
        }
    }
    let s = reader.summary();
    assert!(s.records_used > 100_000, "{s:?}");
    assert_eq!(ribs, s.records_used);
    // At most the one record the cut went through.
    assert!(errors.len() <= 1, "{errors:?}");
    if let Some(MrtError::Truncated { at, .. }) = errors.first() {
        assert_eq!(at.index, s.records_used);
        let q = errors[0].to_quarantine();
        assert_eq!(q.reason, "truncated-record");
        assert!(!q.bytes.is_empty());
    }
}

#[test]
fn early_ris_table_dump_with_short_lengths_is_recovered() {
    if !have_shared_data("early_ris_table_dump_with_short_lengths_is_recovered") {
        return;
    }
    // bview.20000111.0032: TABLE_DUMP records whose declared length is four
    // bytes short; bgpdump stops after the first record, depeer reads all.
    let (bytes, _) = decompressed("mrt/bgpkit/rrc00/2000.01/bview.20000111.0032.gz");
    let mut reader = MrtReader::new(&bytes[..], "bview");
    let n: usize = reader.by_ref().map(|r| r.unwrap().elems.len()).sum();
    assert!(n > 400_000, "{n}");
    assert_eq!(reader.summary().quarantined_total(), 0);
}

// ---- nasty cases ---------------------------------------------------------

fn header(ts: u32, t: u16, s: u16, len: usize) -> Vec<u8> {
    let mut v = ts.to_be_bytes().to_vec();
    v.extend(t.to_be_bytes());
    v.extend(s.to_be_bytes());
    v.extend((len as u32).to_be_bytes());
    v
}

/// A BGP4MP MESSAGE_AS4 record with one UPDATE announcing 10.1.2.0/24 over
/// `path`.
fn update_record(ts: u32, path: &[u32]) -> Vec<u8> {
    let mut as_path = Vec::new();
    for seg in path.chunks(255) {
        as_path.push(2u8); // AS_SEQUENCE
        as_path.push(seg.len() as u8);
        for a in seg {
            as_path.extend(a.to_be_bytes());
        }
    }
    let mut attrs = vec![0x40, 1, 1, 0]; // ORIGIN IGP
    attrs.extend([0x50, 2]); // AS_PATH, transitive + extended length
    attrs.extend((as_path.len() as u16).to_be_bytes());
    attrs.extend(&as_path);
    attrs.extend([0x40, 3, 4, 192, 0, 2, 1]); // NEXT_HOP
    let nlri = [24u8, 10, 1, 2];
    let mut bgp = vec![0xff; 16];
    let len = 19 + 2 + 2 + attrs.len() + nlri.len();
    bgp.extend((len as u16).to_be_bytes());
    bgp.push(2); // UPDATE
    bgp.extend(0u16.to_be_bytes()); // no withdrawn routes
    bgp.extend((attrs.len() as u16).to_be_bytes());
    bgp.extend(&attrs);
    bgp.extend(nlri);
    let mut body = Vec::new();
    body.extend(path[0].to_be_bytes()); // peer AS
    body.extend(65000u32.to_be_bytes()); // local AS
    body.extend(0u16.to_be_bytes()); // interface
    body.extend(1u16.to_be_bytes()); // AFI IPv4
    body.extend([192, 0, 2, 1, 192, 0, 2, 2]); // peer, local address
    body.extend(bgp);
    let mut rec = header(ts, 16, 4, body.len());
    rec.extend(body);
    rec
}

#[test]
fn a_plain_update_record_parses() {
    let rec = update_record(1_226_439_000, &[3549, 3549, 26780]);
    let out: Vec<_> = MrtReader::new(&rec[..], "mem").collect();
    let r = out[0].as_ref().unwrap();
    match &r.elems[0] {
        Elem::Announce { prefix, path, peer } => {
            assert_eq!(prefix.to_string(), "10.1.2.0/24");
            assert_eq!(path.origins(), &[26780]);
            assert_eq!(peer.asn.0, 3549);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_as_path_of_10000_hops_is_read_or_quarantined_never_a_panic() {
    let path: Vec<u32> = (1..=10_000).collect();
    let mut data = update_record(100, &path);
    data.extend(update_record(101, &[64500, 64501]));
    let out: Vec<_> = MrtReader::new(&data[..], "long").collect();
    assert_eq!(out.len(), 2);
    match &out[0] {
        Ok(r) => match &r.elems[0] {
            Elem::Announce { path, .. } => {
                assert_eq!(path.len(), 10_000);
                assert_eq!(path.origins(), &[10_000]);
                assert_eq!(path.links().len(), 9_999);
            }
            other => panic!("{other:?}"),
        },
        Err(e) => assert_eq!(e.source().index, 0),
    }
    // The record after it is intact either way.
    assert_eq!(out[1].as_ref().unwrap().elems.len(), 1);
}

#[test]
fn truncated_file_reports_offset_and_keeps_earlier_records() {
    let mut data = update_record(100, &[1, 2]);
    let first_len = data.len();
    data.extend(update_record(101, &[3, 4]));
    data.truncate(data.len() - 3);
    let out: Vec<_> = MrtReader::new(&data[..], "cut.mrt").collect();
    assert_eq!(out.len(), 2);
    assert!(out[0].is_ok());
    let e = out[1].as_ref().unwrap_err();
    assert_eq!(e.reason(), "truncated-record");
    assert_eq!(e.source().offset, first_len as u64);
    assert_eq!(e.source().index, 1);
    assert!(e.to_string().contains("cut.mrt: byte"), "{e}");
    assert_eq!(e.to_quarantine().bytes.len(), data.len() - first_len);
}

#[test]
fn bad_lengths_are_skipped_and_reading_resumes() {
    let mut data = update_record(100, &[1, 2]);
    let mut bad = update_record(100, &[5, 6]);
    bad[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    data.extend(&bad);
    data.extend(update_record(102, &[3, 4]));
    data.extend(update_record(103, &[7, 8]));
    let mut reader = MrtReader::new(&data[..], "bad.mrt");
    let out: Vec<_> = reader.by_ref().collect();
    let ok: Vec<u32> = out
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.header.timestamp)
        .collect();
    assert_eq!(ok, vec![100, 102, 103]);
    assert_eq!(reader.summary().quarantined.get("bad-length"), Some(&1));
    // A body whose path attribute length lies is a parse error of that
    // record only.
    let mut lying = update_record(104, &[1, 2]);
    lying[12 + 20 + 21] = 0x7f; // high byte of "Total Path Attribute Length"
    lying.extend(update_record(105, &[3, 4]));
    let out: Vec<_> = MrtReader::new(&lying[..], "lie").collect();
    assert!(out[0].is_err());
    assert!(out[1].is_ok());
}

#[test]
fn unknown_types_are_quarantined_whole() {
    let mut data = header(100, 99, 1, 5);
    data.extend(b"hello");
    data.extend(update_record(101, &[1, 2]));
    let mut reader = MrtReader::new(&data[..], "odd.mrt");
    let out: Vec<_> = reader.by_ref().collect();
    let e = out[0].as_ref().unwrap_err();
    assert_eq!(e.reason(), "unsupported-type");
    assert_eq!(e.to_quarantine().bytes.len(), 17);
    assert!(out[1].is_ok());
    assert_eq!(reader.summary().records_used, 1);
}

#[test]
fn garbage_and_empty_inputs() {
    assert_eq!(MrtReader::new(&[][..], "empty").count(), 0);
    let junk: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut reader = MrtReader::new(&junk[..], "junk");
    let n = reader.by_ref().count();
    assert!(n >= 1);
    assert_eq!(reader.summary().records_used, 0);
}

#[test]
fn every_shared_mrt_file_reads_without_panic() {
    if !have_shared_data("every_shared_mrt_file_reads_without_panic") {
        return;
    }
    let mut seen = HashSet::new();
    for dir in [
        "bgpdump/test_data",
        "bgpkit/rrc00/1999.09",
        "bgpkit/rrc00/2000.03",
        "libbgpstream",
        "mrtparse-samples",
        "pyasn",
    ] {
        for entry in std::fs::read_dir(shared_data_dir().join("mrt").join(dir)).unwrap() {
            let p = entry.unwrap().path();
            let rel = p
                .strip_prefix(shared_data_dir())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let (bytes, _) = decompressed(&rel);
            let mut r = MrtReader::new(&bytes[..], rel.clone());
            let n = r.by_ref().count() as u64;
            assert_eq!(n, r.summary().records_read);
            seen.insert(rel);
        }
    }
    assert!(seen.len() > 20);
}

/// Every MRT file under ../shared/data (recursively).
fn all_mrt_files() -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("test_expect") {
                    walk(&p, out);
                }
            } else {
                let rel = p
                    .strip_prefix(shared_data_dir())
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(&shared_data_dir().join("mrt"), &mut out);
    for f in [
        "ipasn/rib.20080501.0644_firstMB.bz2",
        "ipasn/rib6.20151101.0600_firstMB.bz2",
    ] {
        out.push(f.to_string());
    }
    out.sort();
    out
}

/// The hand-written TABLE_DUMP_V2 RIB path gives exactly what bgpkit-parser
/// gives, record by record, on every real file (RIBs and everything else).
#[test]
fn fast_rib_equals_bgpkit_on_real_ribs() {
    if !have_shared_data("fast_rib_equals_bgpkit_on_real_ribs") {
        return;
    }
    let mut rib_records = 0usize; // RIB entries compared
    for rel in all_mrt_files() {
        let (bytes, _) = decompressed(&rel);
        let fast: Vec<_> = MrtReader::new(&bytes[..], rel.as_str()).collect();
        let slow: Vec<_> = MrtReader::new(&bytes[..], rel.as_str())
            .without_fast_path()
            .collect();
        assert_eq!(fast.len(), slow.len(), "{rel}");
        for (i, (a, b)) in fast.iter().zip(&slow).enumerate() {
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.elems, b.elems, "{rel} record {i}");
                    assert_eq!(a.time, b.time, "{rel} record {i}");
                    if a.header.entry_type == 13 && matches!(a.header.subtype, 2 | 4) {
                        rib_records += a.elems.len();
                    }
                }
                (Err(a), Err(b)) => assert_eq!(a.reason(), b.reason(), "{rel} record {i}"),
                _ => panic!("{rel} record {i}: {a:?} vs {b:?}"),
            }
        }
    }
    // The comparison means something only if RIB entries were met.
    assert!(rib_records > 100_000, "{rib_records}");
}
