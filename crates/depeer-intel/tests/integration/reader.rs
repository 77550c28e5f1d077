//! Reader behaviour across formats: re-ingest adds nothing, fatal errors,
//! kinds, minified JSON, stdin-like readers.

use std::collections::HashSet;

use depeer_intel::{FeedKind, FeedOptions, Format, IntelError, Mapping, read_feed};

use crate::{corpus_dir, opts, read_all};

#[test]
fn re_ingesting_a_file_adds_nothing() {
    for name in [
        "feodo-ipblocklist.csv",
        "cof.jsonl",
        "depeer-cc.csv",
        "drop.txt",
    ] {
        let path = corpus_dir().join(name);
        let mut seen = HashSet::new();
        let (first, _, _) = read_all(&path, opts());
        let added = first.iter().filter(|e| seen.insert(e.dedup_key())).count();
        assert_eq!(
            added,
            first.len(),
            "{name}: keys of distinct listings collide"
        );
        let mut later = opts();
        later.ingest_time = depeer_core::Timestamp::parse("2027-01-01").unwrap();
        let (second, _, _) = read_all(&path, later);
        assert_eq!(
            second.iter().filter(|e| seen.insert(e.dedup_key())).count(),
            0,
            "{name}"
        );
    }
}

#[test]
fn the_source_name_is_kept_and_overridable() {
    let mut o = opts();
    o.source = Some("my-feodo-mirror".into());
    let (ok, _, _) = read_all(&corpus_dir().join("feodo-ipblocklist.csv"), o);
    assert!(ok.iter().all(|e| &*e.source == "my-feodo-mirror"));
}

#[test]
fn unreadable_files_stop_with_one_located_error() {
    let mut r = read_feed(&b"# hello\nfoo,bar\n1,2\n"[..], opts());
    match r.next().unwrap().unwrap_err() {
        IntelError::UnknownFormat { line, sample, .. } => {
            assert_eq!((line, sample.as_str()), (2, "foo,bar"))
        }
        e => panic!("{e}"),
    }
    assert!(r.next().is_none());

    let mut o = opts();
    o.format = Some(Format::Depeer);
    let mut r = read_feed(&b"192.0.2.1,80\n"[..], o);
    let e = r.next().unwrap().unwrap_err();
    assert!(
        matches!(e, IntelError::Header { line: 1, .. }) && e.is_fatal(),
        "{e}"
    );

    let mut o = opts();
    o.kind = Some(FeedKind::Url);
    let mut r = read_feed(
        &b"ip,port,family,first_seen,last_seen\n192.0.2.1,80,x,,\n"[..],
        o,
    );
    assert!(matches!(
        r.next().unwrap().unwrap_err(),
        IntelError::KindMismatch { .. }
    ));

    let mut r = read_feed(&b""[..], opts());
    assert!(matches!(
        r.next().unwrap().unwrap_err(),
        IntelError::UnknownFormat { line: 0, .. }
    ));
}

#[test]
fn an_ip_list_read_as_net_gives_host_networks() {
    let mut o = opts();
    o.kind = Some(FeedKind::Net);
    let (ok, bad, _) = read_all(&corpus_dir().join("depeer-bots.csv"), o);
    assert!(bad.is_empty());
    assert_eq!(ok[0].indicator, "203.0.113.5/32");
    assert_eq!(ok[0].kind, FeedKind::Net);
}

#[test]
fn minified_feodo_json_on_one_long_line_is_read_object_by_object() {
    let obj = |i: u32| {
        format!(
            r#"{{"ip_address":"10.0.{}.{}","port":443,"first_seen":"2008-10-01 07:30:05","last_online":null,"malware":"Srizbi"}}"#,
            i / 256,
            i % 256
        )
    };
    let text = format!("[{}]", (0..5000).map(obj).collect::<Vec<_>>().join(","));
    assert!(text.len() > 64 * 1024, "one line over the record cap");
    let mut o = opts();
    o.format = Some(Format::FeodoJson);
    let mut r = read_feed(text.as_bytes(), o);
    let ok: Vec<_> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(ok.len(), 5000);
    assert_eq!(ok[4999].indicator, "10.0.19.135");
    assert!(ok.iter().all(|e| e.source_line == 1));
    // Detection too, from the first bytes.
    let mut r = read_feed(text.as_bytes(), opts());
    assert_eq!(r.by_ref().filter(Result::is_ok).count(), 5000);
    assert_eq!(r.format(), Some(Format::FeodoJson));
}

#[test]
fn an_oversize_line_is_reported_once_and_reading_goes_on() {
    let long = "x".repeat(300_000);
    let text = format!("https://a.example/\nhttps://b.example/{long}\nhttps://c.example/\n");
    let mut r = read_feed(text.as_bytes(), opts());
    let all: Vec<_> = r.by_ref().collect();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].as_ref().unwrap().source_line, 3);
    match &all[1] {
        Err(IntelError::Line {
            line: 2,
            reason: "oversize",
            bytes,
            truncated: true,
            ..
        }) => assert_eq!(bytes.len(), 64 * 1024),
        e => panic!("{e:?}"),
    }
}

/// The test options with the mapping file `name` whose text is `toml`.
fn mapped(name: &str, toml: &str) -> FeedOptions {
    let mut o = opts();
    o.mapping = Some(Mapping::from_toml(name, toml).unwrap());
    o
}

#[test]
fn mapping_with_column_numbers_and_constant_family() {
    let o = mapped(
        "cbl.toml",
        "source = \"cbl-like\"\nkind = \"bots\"\ndelimiter = \"whitespace\"\n[columns]\nip = 1\nfirst_seen = { column = 2, format = \"unix\" }\n[constants]\nfamily = \"Trojan.Rustock\"\n",
    );
    let text = "# ip seen\n192.0.2.1 1226440000\n192.0.2.2\t 1226440001 extra\n";
    let mut r = read_feed(text.as_bytes(), o);
    let ok: Vec<_> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(ok.len(), 2);
    assert_eq!(&*ok[1].source, "cbl-like");
    assert_eq!(ok[1].family.as_deref(), Some("rustock"));
    assert_eq!(
        ok[1].first_seen,
        Some(depeer_core::Timestamp::from_secs(1_226_440_001))
    );
    assert_eq!(r.kind(), Some(FeedKind::Bots));
    assert_eq!(r.format(), None);
}

#[test]
fn a_mapping_whose_columns_are_not_in_the_header_names_both_files() {
    let mut o = mapped(
        "m.toml",
        "kind = \"cnc\"\nheader = true\n[columns]\nip = \"address\"\n",
    );
    o.path = "feed.csv".into();
    let mut r = read_feed(&b"# c\nip,port\n1.2.3.4,80\n"[..], o);
    let e = r.next().unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        "feed.csv:2: column \"address\" (mapping m.toml:4) is not in the header; it has: ip, port"
    );
    assert!(r.next().is_none());
}

#[test]
fn crlf_and_bom_free_windows_files_read() {
    let text = "ip,family,first_seen,last_seen\r\n203.0.113.5,srizbi,2008-11-01T10:00:00Z,\r\n";
    let ok: Vec<_> = read_feed(text.as_bytes(), opts())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ok[0].last_seen, None);
    assert_eq!(ok[0].family.as_deref(), Some("srizbi"));
}
