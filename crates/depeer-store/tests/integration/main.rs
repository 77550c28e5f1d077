//! Integration tests of depeer-store: round trips of every table, dedup,
//! crash recovery at every step of the commit protocol (injected and by a
//! real SIGKILL), SQL over empty and filled stores, raw message round trip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod attribution;
mod read_only;
mod schema_evolution;

use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use depeer_core::{
    ArrivalSource, AsLinkObs, AsNameObs, Asn, MessageObs, Quarantine, Relationship, RouteObs,
    RoutingEventKind, RoutingEventObs, SourceRef, Timestamp, UrlObs,
};
use depeer_store::{
    AddOutcome, BatchLimits, Dataset, OutputFormat, Store, StoreError, TableRows, compress_raw,
    render, sql,
};
use sha2::{Digest, Sha256};

const CUT: i64 = 1_226_439_000; // 2008-11-11T21:30:00Z

/// A realistic message: raw text, its row and two URLs.
fn message(i: u64, day_offset: i64) -> (Vec<u8>, MessageObs, Vec<UrlObs>) {
    let raw = format!(
        "Return-Path: <bounce{i}@spam.example>\r\nReceived: from relay{i} (relay{i}.example [192.0.2.{}])\r\n\
         From: Pharmacy <sales{i}@pills.example>\r\nTo: trap@example.org\r\nSubject: offer {i}\r\n\
         Message-ID: <{i}@spam.example>\r\n\r\nBuy now at http://pills{}.example/x?id={i}\r\n",
        i % 250,
        i % 7
    )
    .into_bytes();
    let sha: [u8; 32] = Sha256::digest(&raw).into();
    let t = Timestamp::from_secs(CUT + day_offset * 86_400 + i as i64);
    let msg = MessageObs {
        sha256: sha,
        arrival_time: t,
        arrival_source: ArrivalSource::Received,
        relay_ip: if i.is_multiple_of(5) {
            None
        } else {
            Some(format!("192.0.2.{}", i % 250).parse().unwrap())
        },
        relay_helo: Some(format!("relay{i}")),
        relay_rdns: Some(format!("relay{i}.example")),
        envelope_from: Some(format!("bounce{i}@spam.example")),
        from_addr: Some(format!("sales{i}@pills.example")),
        to_addr: Some("trap@example.org".into()),
        subject: Some(format!("offer {i}")),
        message_id: Some(format!("{i}@spam.example")),
        date_header: if i.is_multiple_of(3) { None } else { Some(t) },
        size: raw.len() as u64,
        fingerprint: format!("{:016x}", i * 7919),
        url_count: 2,
        source: SourceRef::new("spam/2008-11.mbox", i * 1000, i),
    };
    let urls = vec![
        UrlObs {
            sha256: sha,
            url: format!("http://pills{}.example/x?id={i}", i % 7),
            host: format!("pills{}.example", i % 7),
            registrable_domain: Some(format!("pills{}.example", i % 7)),
        },
        UrlObs {
            sha256: sha,
            url: "http://192.0.2.1/".into(),
            host: "192.0.2.1".into(),
            registrable_domain: None,
        },
    ];
    (raw, msg, urls)
}

fn add_all(store: &Store, range: std::ops::Range<u64>, limits: BatchLimits) -> (usize, usize) {
    let mut w = store.message_writer().with_limits(limits);
    let (mut stored, mut dup) = (0, 0);
    for i in range {
        let (raw, msg, urls) = message(i, (i % 3) as i64);
        match w.add(msg, urls, compress_raw(&raw)).unwrap() {
            AddOutcome::Stored => stored += 1,
            AddOutcome::Duplicate => dup += 1,
        }
    }
    w.finish().unwrap();
    (stored, dup)
}

fn scalar_i64(dir: &Path, q: &str) -> i64 {
    let b = sql(dir, q).unwrap();
    b[0].column(0).as_primitive::<Int64Type>().value(0)
}

/// Checks that the raw bytes of messages `0..n` (of day 0) are stored.
fn raw_messages_come_back(ds: &Dataset, n: u64, context: &str) {
    for i in 0..n {
        let (raw, msg, _) = message(i, 0);
        let got = ds.raw_message(&msg.sha256).unwrap();
        assert_eq!(got, Some(raw), "{context} message {i}");
    }
}

/// `batches` rendered in `format`, as text.
fn rendered(batches: &[RecordBatch], format: OutputFormat) -> String {
    let mut out = Vec::new();
    render(batches, format, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// `batches` rendered as JSON, parsed back.
fn json(batches: &[RecordBatch]) -> serde_json::Value {
    serde_json::from_str(&rendered(batches, OutputFormat::Json)).unwrap()
}

fn counts(dir: &Path) -> (i64, i64) {
    let b = sql(dir, "SELECT count(*), count(DISTINCT sha256) FROM messages").unwrap();
    (
        b[0].column(0).as_primitive::<Int64Type>().value(0),
        b[0].column(1).as_primitive::<Int64Type>().value(0),
    )
}

#[test]
fn empty_store_answers_every_table() {
    let tmp = tempfile::tempdir().unwrap();
    drop(Store::open(tmp.path()).unwrap());
    for t in depeer_store::tables() {
        assert_eq!(
            scalar_i64(tmp.path(), &format!("SELECT count(*) FROM {}", t.name)),
            0
        );
    }
    let b = sql(tmp.path(), "SELECT sha256, day FROM messages").unwrap();
    assert_eq!(b[0].num_rows(), 0);
    assert_eq!(b[0].schema().field(1).name(), "day");
    assert_eq!(rendered(&b, OutputFormat::Json), "[]\n");
}

#[test]
fn sql_without_dataset_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let e = sql(&tmp.path().join("nope"), "SELECT 1").unwrap_err();
    assert!(matches!(e, StoreError::NoDataset { .. }));
    assert!(e.to_string().contains("depeer ingest mail"), "{e}");
}

#[test]
fn messages_round_trip_through_sql_and_raw() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let limits = BatchLimits {
        messages: 40,
        raw_bytes: 1 << 30,
    };
    assert_eq!(add_all(&store, 0..100, limits), (100, 0));
    let dir = tmp.path();
    assert_eq!(counts(dir), (100, 100));
    assert_eq!(scalar_i64(dir, "SELECT count(*) FROM message_urls"), 200);
    // three days, each a partition directory
    let b = sql(
        dir,
        "SELECT day, count(*) AS n FROM messages GROUP BY day ORDER BY day",
    )
    .unwrap();
    let days: Vec<String> = (0..b[0].num_rows())
        .map(|i| b[0].column(0).as_string::<i32>().value(i).to_string())
        .collect();
    assert_eq!(days, ["2008-11-11", "2008-11-12", "2008-11-13"]);
    assert!(dir.join("tables/messages/day=2008-11-12").is_dir());

    // one row, every column
    let (raw, msg, _) = message(7, 7 % 3);
    let hex = hex::encode(msg.sha256);
    let b = sql(
        dir,
        &format!("SELECT * FROM messages WHERE sha256 = '{hex}'"),
    )
    .unwrap();
    let v = json(&b);
    let row = &v[0];
    assert_eq!(row["sha256"], hex.as_str());
    assert_eq!(row["arrival_time"], "2008-11-12T21:30:07Z");
    assert_eq!(row["arrival_source"], "received");
    assert_eq!(row["relay_ip"], "192.0.2.7");
    assert_eq!(row["relay_helo"], "relay7");
    assert_eq!(row["relay_rdns"], "relay7.example");
    assert_eq!(row["envelope_from"], "bounce7@spam.example");
    assert_eq!(row["from_addr"], "sales7@pills.example");
    assert_eq!(row["to_addr"], "trap@example.org");
    assert_eq!(row["subject"], "offer 7");
    assert_eq!(row["message_id"], "7@spam.example");
    assert_eq!(row["date_header"], "2008-11-12T21:30:07Z");
    assert_eq!(row["size"], raw.len());
    assert_eq!(row["fingerprint"], format!("{:016x}", 7 * 7919));
    assert_eq!(row["url_count"], 2);
    assert_eq!(row["source_file"], "spam/2008-11.mbox");
    assert_eq!(row["source_offset"], 7000);
    assert_eq!(row["source_index"], 7);
    assert_eq!(row["day"], "2008-11-12");
    // nulls
    let b = sql(dir, "SELECT count(*) FROM messages WHERE relay_ip IS NULL").unwrap();
    assert_eq!(b[0].column(0).as_primitive::<Int64Type>().value(0), 20);

    // urls
    let b = sql(
        dir,
        &format!("SELECT url, host, registrable_domain FROM message_urls WHERE sha256 = '{hex}' ORDER BY url"),
    )
    .unwrap();
    assert_eq!(
        rendered(&b, OutputFormat::Csv),
        "url,host,registrable_domain\nhttp://192.0.2.1/,192.0.2.1,\n\
         http://pills0.example/x?id=7,pills0.example,pills0.example\n"
    );

    // raw bytes, by hash and by prefix, through the store and a reader
    assert_eq!(store.raw_message(&msg.sha256).unwrap().unwrap(), raw);
    assert_eq!(store.raw_message(&[0u8; 32]).unwrap(), None);
    let ds = Dataset::open(dir).unwrap();
    let loc = ds.find_raw(&hex[..10]).unwrap().unwrap();
    assert!(!loc.quarantined);
    assert_eq!(ds.read_raw(&loc).unwrap(), raw);
    assert!(matches!(
        ds.find_raw("abc"),
        Err(StoreError::BadHash { .. })
    ));
    assert!(matches!(
        ds.find_raw("zzzzzzzzzz"),
        Err(StoreError::BadHash { .. })
    ));
    assert_eq!(ds.find_raw("00000000000000").unwrap(), None);
    // every raw message comes back
    raw_messages_come_back(&ds, 100, "");
}

#[test]
fn re_adding_is_idempotent_within_and_across_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let limits = BatchLimits {
        messages: 30,
        raw_bytes: 1 << 30,
    };
    {
        let store = Store::open(tmp.path()).unwrap();
        assert_eq!(add_all(&store, 0..50, limits), (50, 0));
        // the same run again, plus duplicates inside one writer
        let mut w = store.message_writer();
        let (raw, msg, urls) = message(1000, 0);
        assert_eq!(
            w.add(msg.clone(), urls.clone(), compress_raw(&raw))
                .unwrap(),
            AddOutcome::Stored
        );
        assert_eq!(
            w.add(msg, urls, compress_raw(&raw)).unwrap(),
            AddOutcome::Duplicate
        );
        w.finish().unwrap();
        assert_eq!(store.message_count(), 51);
    }
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.message_count(), 51);
    assert_eq!(add_all(&store, 0..80, limits), (30, 50));
    assert_eq!(counts(tmp.path()), (81, 81));
    // a writer dropped without finish forgets its rows, in memory and on disk
    {
        let mut w = store.message_writer();
        let (raw, msg, urls) = message(5000, 0);
        w.add(msg, urls, compress_raw(&raw)).unwrap();
    }
    assert_eq!(store.message_count(), 81);
    drop(store);
    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.recovery().discarded, 1);
    assert_eq!(counts(tmp.path()), (81, 81));
}

fn quarantined(i: u64) -> Quarantine {
    Quarantine {
        source: SourceRef::new("bad.mbox", i * 10, i),
        reason: "no-header".into(),
        detail: format!("record {i} has no header"),
        bytes: format!("garbage {i}\0\u{1}").into_bytes(),
        truncated: i.is_multiple_of(2),
    }
}

#[test]
fn quarantine_round_trips_and_dedups() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let mut w = store.message_writer();
    for i in 0..5 {
        assert_eq!(
            w.add_quarantine(&quarantined(i)).unwrap(),
            AddOutcome::Stored
        );
    }
    assert_eq!(
        w.add_quarantine(&quarantined(2)).unwrap(),
        AddOutcome::Duplicate
    );
    // same bytes elsewhere in the file: a new row
    let mut moved = quarantined(2);
    moved.source.offset = 999;
    assert_eq!(w.add_quarantine(&moved).unwrap(), AddOutcome::Stored);
    w.finish().unwrap();
    drop(store);
    let store = Store::open(tmp.path()).unwrap();
    let mut w = store.message_writer();
    assert_eq!(
        w.add_quarantine(&quarantined(3)).unwrap(),
        AddOutcome::Duplicate
    );
    w.finish().unwrap();
    let dir = tmp.path();
    assert_eq!(scalar_i64(dir, "SELECT count(*) FROM quarantine"), 6);
    let b = sql(
        dir,
        "SELECT source_file, source_offset, source_index, reason, detail, raw_sha256, size, truncated \
         FROM quarantine WHERE source_index = 3",
    )
    .unwrap();
    let v = json(&b);
    let q = quarantined(3);
    let sha = hex::encode(Sha256::digest(&q.bytes));
    assert_eq!(
        v,
        serde_json::json!([{"source_file": "bad.mbox", "source_offset": 30, "source_index": 3,
            "reason": "no-header", "detail": "record 3 has no header", "raw_sha256": sha,
            "size": q.bytes.len(), "truncated": false}])
    );
    let ds = Dataset::open(dir).unwrap();
    let loc = ds.find_raw(&sha).unwrap().unwrap();
    assert!(loc.quarantined);
    assert!(loc.pack.starts_with("qpack-"));
    assert_eq!(ds.read_raw(&loc).unwrap(), q.bytes);
}

fn routes(n: u32) -> Vec<RouteObs> {
    (0..n)
        .map(|i| RouteObs {
            prefix: if i % 10 == 0 {
                format!("2001:db8:{:x}::/48", i % 65536).parse().unwrap()
            } else {
                format!("{}.{}.{}.0/24", 1 + i / 65536 % 200, i / 256 % 256, i % 256)
                    .parse()
                    .unwrap()
            },
            origin_asn: Asn(i % 70_000 + 1),
            first_seen: Timestamp::from_secs(CUT - i64::from(i)),
            last_seen: Timestamp::from_secs(CUT + i64::from(i)),
            peer_count: i % 40,
            collector: if i % 2 == 0 { "route-views2" } else { "rrc00" }.into(),
        })
        .collect()
}

#[test]
fn routing_tables_round_trip_and_replace() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let r = routes(5000);
    store.append_routes(&r[..3000]).unwrap();
    store.append_routes(&r[3000..]).unwrap();
    store.append_routes(&[]).unwrap();
    assert_eq!(store.read_routes().unwrap(), r);
    let links = vec![
        AsLinkObs {
            asn: Asn(26780),
            neighbor_asn: Asn(3549),
            relationship: Relationship::Provider,
            first_seen: Timestamp::from_secs(CUT - 86_400),
            last_seen: Timestamp::from_secs(CUT),
        },
        AsLinkObs {
            asn: Asn(3549),
            neighbor_asn: Asn(26780),
            relationship: Relationship::Customer,
            first_seen: Timestamp::from_secs(CUT - 86_400),
            last_seen: Timestamp::from_secs(CUT),
        },
        AsLinkObs {
            asn: Asn(1),
            neighbor_asn: Asn(4_200_000_000),
            relationship: Relationship::Unknown,
            first_seen: Timestamp(1),
            last_seen: Timestamp(2),
        },
    ];
    store.append_as_links(&links).unwrap();
    assert_eq!(store.read_as_links().unwrap(), links);
    let events = vec![
        RoutingEventObs {
            time: Timestamp::from_secs(CUT),
            kind: RoutingEventKind::UpstreamLost,
            asn: Some(Asn(26780)),
            prefix: None,
            detail: "upstream AS3549".into(),
        },
        RoutingEventObs {
            time: Timestamp::from_secs(CUT + 60),
            kind: RoutingEventKind::PrefixWithdrawn,
            asn: None,
            prefix: Some("208.66.192.0/22".parse().unwrap()),
            detail: String::new(),
        },
    ];
    store.append_routing_events(&events).unwrap();
    assert_eq!(store.read_routing_events().unwrap(), events);
    let names = vec![
        AsNameObs {
            asn: Asn(26780),
            name: "MCCOLO".into(),
            org: Some("McColo Corporation".into()),
            country: Some("US".into()),
        },
        AsNameObs {
            asn: Asn(6939),
            name: "HURRICANE".into(),
            org: None,
            country: None,
        },
    ];
    store.append_as_names(&names).unwrap();
    assert_eq!(store.read_as_names().unwrap(), names);

    let dir = tmp.path();
    let b = sql(dir, "SELECT name FROM as_names a JOIN as_links l ON a.asn = l.asn WHERE l.relationship = 'provider'").unwrap();
    assert_eq!(b[0].column(0).as_string::<i32>().value(0), "MCCOLO");
    assert_eq!(
        scalar_i64(dir, "SELECT count(*) FROM routes WHERE origin_asn = 2"),
        1
    );
    let b = sql(
        dir,
        "SELECT prefix FROM routing_events WHERE kind = 'prefix-withdrawn'",
    )
    .unwrap();
    assert_eq!(
        b[0].column(0).as_string::<i32>().value(0),
        "208.66.192.0/22"
    );

    // replace: atomically, at every crash point, then recovery on reopen
    drop(store);
    let mut k = 1;
    loop {
        let store = Store::open(dir).unwrap();
        store.replace_table(TableRows::Routes(&r)).unwrap();
        store.inject_crash_after(Some(k));
        let crashed = match store.replace_table(TableRows::Routes(&r[..10])) {
            Ok(()) => false,
            Err(StoreError::InjectedCrash { .. }) => true,
            Err(e) => panic!("{e}"),
        };
        drop(store);
        let store = Store::open(dir).unwrap();
        let got = store.read_routes().unwrap();
        if k < 3 && crashed {
            assert_eq!(
                got, r,
                "k={k}: crash before the commit point keeps the old rows"
            );
        } else {
            assert_eq!(got, r[..10].to_vec(), "k={k}: committed replacement");
        }
        if !crashed {
            break;
        }
        k += 1;
    }
    let store = Store::open(dir).unwrap();
    store.replace_table(TableRows::Routes(&r[..10])).unwrap();
    assert_eq!(store.read_routes().unwrap(), r[..10].to_vec());
    store.replace_table(TableRows::Routes(&[])).unwrap();
    assert_eq!(store.read_routes().unwrap(), vec![]);
    assert_eq!(scalar_i64(dir, "SELECT count(*) FROM routes"), 0);
}

/// Background commits store exactly what synchronous ones do: every
/// message once, duplicates of messages in a batch still committing
/// detected, the batch count right, and a crash injected into a background
/// commit reported by a later call.
#[test]
fn background_commits_equal_synchronous_ones() {
    let limits = BatchLimits {
        messages: 100,
        raw_bytes: 1 << 30,
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let store = Store::open(dir).unwrap();
    let mut w = store
        .message_writer()
        .with_limits(limits)
        .with_background_commit(true);
    let (mut stored, mut dup) = (0, 0);
    // 1,050 distinct messages, each added twice: the second time while its
    // batch may still be committing.
    for i in (0..1050u64).chain(0..1050) {
        let (raw, msg, urls) = message(i, (i % 3) as i64);
        match w.add(msg, urls, compress_raw(&raw)).unwrap() {
            AddOutcome::Stored => stored += 1,
            AddOutcome::Duplicate => dup += 1,
        }
    }
    w.finish().unwrap();
    assert_eq!((stored, dup), (1050, 1050));
    drop(store);
    assert_eq!(counts(dir), (1050, 1050));
    assert_eq!(scalar_i64(dir, "SELECT count(*) FROM message_urls"), 2100);

    // A crash inside a background commit: a later call reports it, and a
    // rerun stores everything exactly once.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    {
        let store = Store::open(dir).unwrap();
        store.inject_crash_after(Some(1));
        let mut w = store
            .message_writer()
            .with_limits(limits)
            .with_background_commit(true);
        let mut failed = false;
        for i in 0..300u64 {
            let (raw, msg, urls) = message(i, 0);
            if w.add(msg, urls, compress_raw(&raw)).is_err() {
                failed = true;
                break;
            }
        }
        assert!(
            failed || w.finish().is_err(),
            "the injected crash was not reported"
        );
    }
    let store = Store::open(dir).unwrap();
    add_all(&store, 0..300, limits);
    drop(store);
    assert_eq!(counts(dir), (300, 300));
}

#[test]
fn crash_at_every_commit_step_then_rerun_stores_exactly_once() {
    let limits = BatchLimits {
        messages: 25,
        raw_bytes: 1 << 30,
    };
    let mut k = 1;
    loop {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        // a first batch that commits cleanly
        {
            let store = Store::open(dir).unwrap();
            assert_eq!(add_all(&store, 0..25, limits), (25, 0));
        }
        // the second batch crashes after step k
        let crashed = {
            let store = Store::open(dir).unwrap();
            store.inject_crash_after(Some(k));
            let mut w = store.message_writer().with_limits(BatchLimits {
                messages: 1000,
                raw_bytes: 1 << 30,
            });
            for i in 20..60 {
                let (raw, msg, urls) = message(i, (i % 3) as i64);
                w.add(msg, urls, compress_raw(&raw)).unwrap();
            }
            w.add_quarantine(&quarantined(1)).unwrap();
            match w.commit() {
                Ok(()) => false,
                Err(StoreError::InjectedCrash { step }) => {
                    assert_eq!(step, k);
                    true
                }
                Err(e) => panic!("{e}"),
            }
        };
        // a query in between never fails and never sees duplicates
        let (n, d) = counts(dir);
        assert_eq!(n, d, "k={k}");
        // the messages parts are renamed last, one per day: a crash between
        // them shows some days of the batch, never a partial file
        assert!((25..=60).contains(&n), "k={k}: {n} rows visible");
        if k <= 3 && crashed {
            assert_eq!(n, 25, "k={k}: nothing of an uncommitted batch is visible");
        }
        // restart and rerun the whole input
        {
            let store = Store::open(dir).unwrap();
            let (stored, dup) = add_all(&store, 0..60, limits);
            assert_eq!(stored + dup, 60);
            let mut w = store.message_writer();
            w.add_quarantine(&quarantined(1)).unwrap();
            w.finish().unwrap();
        }
        assert_eq!(counts(dir), (60, 60), "k={k}");
        assert_eq!(
            scalar_i64(dir, "SELECT count(*) FROM message_urls"),
            120,
            "k={k}"
        );
        assert_eq!(
            scalar_i64(dir, "SELECT count(*) FROM quarantine"),
            1,
            "k={k}"
        );
        assert_eq!(std::fs::read_dir(dir.join("staging")).unwrap().count(), 0);
        raw_messages_come_back(&Dataset::open(dir).unwrap(), 60, &format!("k={k}"));
        if !crashed {
            assert!(k > 5, "the protocol has more than 5 steps");
            break;
        }
        k += 1;
    }
}

/// The writer side of the SIGKILL test: runs only when asked by
/// `sigkill_mid_run_then_rerun_stores_exactly_once`.
#[test]
#[ignore = "run as a child process by sigkill_mid_run_then_rerun_stores_exactly_once"]
fn sigkill_child_writer() {
    let Ok(dir) = std::env::var("DEPEER_STORE_SIGKILL_DIR") else {
        return;
    };
    let store = Store::open(&dir).unwrap();
    let limits = BatchLimits {
        messages: 97,
        raw_bytes: 1 << 30,
    };
    add_all(&store, 0..SIGKILL_INPUT, limits);
}

const SIGKILL_INPUT: u64 = 20_000;

#[test]
fn sigkill_mid_run_then_rerun_stores_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let exe = std::env::current_exe().unwrap();
    for delay_ms in [30u64, 120, 250, 400] {
        let mut child = std::process::Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "sigkill_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("DEPEER_STORE_SIGKILL_DIR", dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let (n, d) = counts(dir);
        assert_eq!(n, d, "after kill at {delay_ms} ms");
    }
    let store = Store::open(dir).unwrap();
    add_all(&store, 0..SIGKILL_INPUT, BatchLimits::default());
    drop(store);
    assert_eq!(counts(dir), (SIGKILL_INPUT as i64, SIGKILL_INPUT as i64));
    assert_eq!(
        scalar_i64(dir, "SELECT count(*) FROM message_urls"),
        2 * SIGKILL_INPUT as i64
    );
}

#[test]
fn sql_errors_are_reported_with_the_query() {
    let tmp = tempfile::tempdir().unwrap();
    drop(Store::open(tmp.path()).unwrap());
    let e = sql(tmp.path(), "SELECT nope FROM messages").unwrap_err();
    assert!(matches!(e, StoreError::Sql { .. }), "{e}");
    let e = sql(tmp.path(), "SELECT * FROM no_such_table").unwrap_err();
    assert!(e.to_string().contains("no_such_table"), "{e}");
}

#[test]
fn table_output_is_aligned() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    store
        .append_as_names(&[AsNameObs {
            asn: Asn(26780),
            name: "MCCOLO".into(),
            org: None,
            country: Some("US".into()),
        }])
        .unwrap();
    let b: Vec<RecordBatch> = sql(tmp.path(), "SELECT asn, name, org FROM as_names").unwrap();
    let mut out = Vec::new();
    render(&b, OutputFormat::Table, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("| asn   | name   | org |"), "{text}");
    assert!(text.contains("| 26780 | MCCOLO |     |"), "{text}");
    let col = b[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert!(!col.is_null(0));
}

#[test]
fn a_warm_reopen_sees_what_others_committed_meanwhile() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Writer A stores 0..20 and releases the lock, keeping what it read.
    let a = Store::open(dir).unwrap();
    assert_eq!(add_all(&a, 0..20, BatchLimits::default()), (20, 0));
    let mut warm = a.release();
    assert!(warm.is_some(), "no other handle");
    // Writer B (cold) stores 10..40 meanwhile: 20 new.
    let b = Store::open(dir).unwrap();
    assert_eq!(add_all(&b, 10..40, BatchLimits::default()), (20, 10));
    drop(b);
    // A again, warm: B's messages are known, the log continues B's.
    let a = Store::open_warm(dir, &mut warm).unwrap();
    assert!(warm.is_none());
    assert_eq!(a.message_count(), 40);
    assert_eq!(add_all(&a, 30..50, BatchLimits::default()), (10, 10));
    let mut warm = a.release();
    // Locked by another writer: the warm state stays with the caller.
    let c = Store::open(dir).unwrap();
    assert!(matches!(
        Store::open_warm(dir, &mut warm),
        Err(StoreError::Locked { .. })
    ));
    assert!(warm.is_some());
    drop(c);
    assert_eq!(counts(dir), (50, 50));
    assert_eq!(scalar_i64(dir, "SELECT count(*) FROM evidence_log"), 50);
    // A part read before is gone (rewritten by someone): everything is
    // read again, and the message it held is not taken as stored.
    let part = std::fs::read_dir(dir.join("tables/messages"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    std::fs::remove_file(&part).unwrap();
    let a = Store::open_warm(dir, &mut warm).unwrap();
    assert!(a.message_count() < 50, "{}", a.message_count());
    // Another directory's warm state is not used.
    let other = tempfile::tempdir().unwrap();
    let mut warm = a.release();
    let o = Store::open_warm(other.path(), &mut warm).unwrap();
    assert_eq!(o.message_count(), 0);
    // A second handle alive: nothing to keep.
    let h = o.clone();
    assert!(o.release().is_none());
    drop(h);
}
