//! The `attribution` table round trip: append, read back, rewrite whole
//! days atomically; and the reads attribution needs (every message with its
//! raw bytes, URL hosts, feed listings).

use depeer_core::{FeedEntryObs, Timestamp};
use depeer_store::{AttributionRow, BatchLimits, Dataset, Store, attribution_day, sql};

use super::{add_all, message, scalar_i64};

fn row(i: u64) -> AttributionRow {
    let (_, msg, _) = message(i, (i % 3) as i64);
    AttributionRow {
        sha256: hex::encode(msg.sha256),
        time: msg.arrival_time,
        botnet: (!i.is_multiple_of(4)).then(|| "srizbi".to_string()),
        campaign: i.is_multiple_of(2).then(|| format!("c-{i:012x}")),
        confidence: if i.is_multiple_of(4) { 0.0 } else { 0.95 },
        signal: if i.is_multiple_of(4) { "none" } else { "rule" }.into(),
        relay_ip: msg.relay_ip.map(|ip| ip.to_string()),
        relay_prefix: msg.relay_ip.map(|_| "192.0.2.0/24".to_string()),
        relay_asn: msg.relay_ip.map(|_| 64496),
        relay_org: None,
    }
}

fn sorted(mut v: Vec<AttributionRow>) -> Vec<AttributionRow> {
    v.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    v
}

#[test]
fn attribution_round_trips_and_days_are_rewritten_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let store = Store::open(dir).unwrap();
    let limits = BatchLimits {
        messages: 7,
        raw_bytes: 1 << 30,
    };
    add_all(&store, 0..30, limits);
    let ds = Dataset::open(dir).unwrap();

    // Every message comes back with its raw bytes.
    let scanned = ds
        .scan_messages(|m| (m.sha256, m.raw.to_vec(), m.relay_ip.map(str::to_string)))
        .unwrap();
    assert_eq!(scanned.len(), 30);
    for i in 0..30 {
        let (raw, msg, _) = message(i, (i % 3) as i64);
        let got = scanned.iter().find(|s| s.0 == msg.sha256).unwrap();
        assert_eq!(got.1, raw, "message {i}");
        assert_eq!(got.2, msg.relay_ip.map(|ip| ip.to_string()));
    }
    assert_eq!(ds.read_url_hosts().unwrap().len(), 60);

    // Append, read back, query.
    let rows: Vec<AttributionRow> = (0..30).map(row).collect();
    store.write_attribution(&rows, &[]).unwrap();
    assert_eq!(sorted(ds.read_attribution().unwrap()), sorted(rows.clone()));
    assert_eq!(scalar_i64(dir, "SELECT count(*) FROM attribution"), 30);
    assert_eq!(
        scalar_i64(
            dir,
            "SELECT count(*) FROM attribution WHERE botnet = 'srizbi' AND relay_asn = 64496"
        ),
        (0..30).filter(|i| i % 4 != 0 && i % 5 != 0).count() as i64
    );
    let days = sql(dir, "SELECT DISTINCT day FROM attribution").unwrap();
    assert_eq!(days.iter().map(|b| b.num_rows()).sum::<usize>(), 3);

    // Rewrite one day: its rows are replaced, the other days stay.
    let day = attribution_day(rows[1].time);
    let mut changed: Vec<AttributionRow> = rows
        .iter()
        .filter(|r| attribution_day(r.time) == day)
        .cloned()
        .collect();
    for r in &mut changed {
        r.botnet = Some("rustock".into());
        r.signal = "cluster".into();
    }
    store
        .write_attribution(&changed, std::slice::from_ref(&day))
        .unwrap();
    let mut want: Vec<AttributionRow> = rows
        .iter()
        .filter(|r| attribution_day(r.time) != day)
        .cloned()
        .collect();
    want.extend(changed.iter().cloned());
    assert_eq!(sorted(ds.read_attribution().unwrap()), sorted(want));
    assert_eq!(scalar_i64(dir, "SELECT count(*) FROM attribution"), 30);
    assert_eq!(
        scalar_i64(
            dir,
            &format!("SELECT count(*) FROM attribution WHERE day = '{day}' AND botnet = 'rustock'")
        ),
        changed.len() as i64
    );
    // Nothing to write: no commit.
    store.write_attribution(&[], &[]).unwrap();
    assert_eq!(scalar_i64(dir, "SELECT count(*) FROM attribution"), 30);
}

#[test]
fn feed_entries_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let rows: Vec<FeedEntryObs> = (0..3u16)
        .map(|i| FeedEntryObs {
            source: "depeer-sim".into(),
            kind: if i == 0 { "bots" } else { "cnc" }.into(),
            indicator: format!("192.0.2.{i}"),
            address: None,
            family: Some("srizbi".into()),
            port: (i > 0).then_some(8080 + i),
            first_seen: Some(Timestamp::from_secs(1_226_439_000)),
            last_seen: (i != 2).then(|| Timestamp::from_secs(1_226_440_000)),
            ingest_time: Timestamp::from_secs(1_800_000_000),
            source_file: "feeds/cc.csv".into(),
            source_line: u64::from(i) + 2,
            key: format!("{i:032x}"),
            sha256: (i == 1).then(|| "ab".repeat(32)),
        })
        .collect();
    store.append_feed_entries(&rows).unwrap();
    assert_eq!(store.dataset().read_feed_entries().unwrap(), rows);
}
