//! The hand-written samples (formats without a real public sample) and the
//! malformed-line corpus.

use depeer_core::Timestamp;
use depeer_intel::{FeedKind, Format, IntelError, Mapping};

use crate::{corpus_dir, opts, read_all};

fn ts(s: &str) -> Option<Timestamp> {
    Some(Timestamp::parse(s).unwrap())
}

#[test]
fn every_hand_written_sample_is_detected_and_read_without_error() {
    let want: &[(&str, Format, FeedKind, usize)] = &[
        ("feodo-ipblocklist.csv", Format::FeodoCsv, FeedKind::Cnc, 4),
        (
            "feodo-ipblocklist-commented-header.csv",
            Format::FeodoCsv,
            FeedKind::Cnc,
            2,
        ),
        (
            "feodo-ipblocklist.json",
            Format::FeodoJson,
            FeedKind::Cnc,
            2,
        ),
        ("urlhaus-csv.txt", Format::UrlhausCsv, FeedKind::Url, 3),
        ("cof.jsonl", Format::Cof, FeedKind::Pdns, 4),
        ("drop.txt", Format::DropText, FeedKind::Net, 3),
        ("drop_v4.json", Format::DropJson, FeedKind::Net, 2),
        ("depeer-cc.csv", Format::Depeer, FeedKind::Cnc, 3),
        ("depeer-bots.csv", Format::Depeer, FeedKind::Bots, 2),
        ("depeer-urls.csv", Format::Depeer, FeedKind::Url, 2),
        ("depeer-pdns.csv", Format::Depeer, FeedKind::Pdns, 2),
    ];
    for (name, format, kind, n) in want {
        let path = corpus_dir().join(name);
        let head = std::fs::read(&path).unwrap();
        assert_eq!(depeer_intel::detect_format(&head), Some(*format), "{name}");
        let (ok, bad, stats) = read_all(&path, opts());
        assert!(bad.is_empty(), "{name}: {bad:?}");
        assert_eq!(ok.len(), *n, "{name}");
        assert_eq!(stats.entries as usize, *n);
        for e in &ok {
            assert_eq!(e.kind, *kind, "{name}");
            assert_eq!(&*e.source, format.default_source());
            assert!(e.source_file.ends_with(name));
        }
        // Explicit format and kind give the same entries.
        let mut o = opts();
        o.format = Some(*format);
        o.kind = Some(*kind);
        let (again, bad, _) = read_all(&path, o);
        assert!(bad.is_empty());
        assert_eq!(again, ok, "{name}");
    }
}

#[test]
fn feodo_csv_fields() {
    let (ok, _, stats) = read_all(&corpus_dir().join("feodo-ipblocklist.csv"), opts());
    let e = &ok[0];
    assert_eq!(
        (e.indicator.as_str(), e.port, e.family.as_deref()),
        ("192.0.2.10", Some(443), Some("srizbi"))
    );
    assert_eq!(e.first_seen, ts("2008-10-01T07:30:05Z"));
    assert_eq!(e.last_seen, ts("2008-11-11"));
    assert_eq!(e.source_line, 10);
    assert_eq!(ok[3].indicator, "2001:db8::7");
    assert_eq!(ok[3].family.as_deref(), Some("emotet"), "Heodo is Emotet");
    assert_eq!((stats.comments, stats.headers, stats.lines), (9, 1, 14));
}

#[test]
fn feodo_json_and_urlhaus_and_cof_fields() {
    let (ok, _, _) = read_all(&corpus_dir().join("feodo-ipblocklist.json"), opts());
    assert_eq!((ok[0].source_line, ok[1].source_line), (2, 14));
    assert_eq!(ok[1].last_seen, None);
    assert_eq!(ok[1].family.as_deref(), Some("emotet"));

    let (ok, _, _) = read_all(&corpus_dir().join("urlhaus-csv.txt"), opts());
    assert_eq!(
        ok[0].indicator,
        "http://shop.example.com/pills/index.php?id=7"
    );
    assert_eq!(ok[1].last_seen, None, "empty last_online");
    assert_eq!(ok[2].indicator, r#"https://login.example.org/a,b?x="y""#);
    assert_eq!(ok[2].first_seen, ts("2008-11-11T01:02:03Z"));

    let (ok, _, stats) = read_all(&corpus_dir().join("cof.jsonl"), opts());
    let pairs: Vec<_> = ok
        .iter()
        .map(|e| {
            (
                e.indicator.as_str(),
                e.address.as_deref().unwrap(),
                e.source_line,
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("pharma.example.com", "192.0.2.80", 1),
            ("www.pharma.example.com", "192.0.2.80", 2),
            ("www.pharma.example.com", "192.0.2.81", 2),
            ("v6.example.net", "2001:db8::80", 3),
        ]
    );
    assert_eq!(stats.skipped, 1, "the NS record");
    assert_eq!(ok[0].first_seen, Some(Timestamp::from_secs(1_225_843_200)));

    let (ok, _, stats) = read_all(&corpus_dir().join("drop_v4.json"), opts());
    assert_eq!(ok[1].indicator, "198.51.100.0/22");
    assert_eq!(stats.metadata, 1);
}

#[derive(serde::Deserialize)]
struct Expect {
    format: Option<String>,
    mapping: Option<String>,
    max_record: Option<usize>,
    entry_lines: Vec<u64>,
    errors: Vec<(u64, String)>,
}

#[test]
fn malformed_lines_give_located_errors_and_lose_nothing_valid() {
    let dir = corpus_dir().join("malformed");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".expect.json"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 6, "the malformed corpus is missing");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let num = &name[..3];
        let x: Expect = serde_json::from_slice(&std::fs::read(&case).unwrap()).unwrap();
        let data = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let f = p.file_name().unwrap().to_string_lossy();
                f.starts_with(&format!("{num}-")) && !f.ends_with(".toml")
            })
            .unwrap();
        let mut o = opts();
        o.format = x.format.as_deref().map(|f| f.parse().unwrap());
        o.mapping = x
            .mapping
            .as_deref()
            .map(|m| Mapping::load(&dir.join(m)).unwrap());
        if let Some(m) = x.max_record {
            o.max_record = m;
        }
        let (ok, bad, stats) = read_all(&data, o);
        let lines: Vec<u64> = ok.iter().map(|e| e.source_line).collect();
        assert_eq!(
            lines, x.entry_lines,
            "{name}: entries; errors were {bad:#?}"
        );
        let raw = std::fs::read(&data).unwrap();
        let got: Vec<(u64, String)> = bad
            .iter()
            .map(|e| match e {
                IntelError::Line {
                    file,
                    line,
                    offset,
                    reason,
                    bytes,
                    ..
                } => {
                    assert_eq!(file, &data.display().to_string());
                    // The quarantined bytes are the file's bytes at that offset.
                    let at = *offset as usize;
                    assert_eq!(&raw[at..at + bytes.len()], &bytes[..], "{name}:{line}");
                    assert!(e.to_quarantine().is_some());
                    assert!(e.to_string().contains(&format!(":{line}: ")), "{e}");
                    (*line, reason.to_string())
                }
                other => panic!("{name}: fatal error {other}"),
            })
            .collect();
        assert_eq!(got, x.errors, "{name}");
        assert_eq!(stats.errors as usize, x.errors.len());
        assert_eq!(stats.entries as usize, x.entry_lines.len());
    }
}
