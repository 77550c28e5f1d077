//! Zone files: located warnings, `$` lines, loading from disk.

use depeer_dnsbl::{DnsblError, LoadOptions, ZoneSpec, ZoneType, Zones};

#[test]
fn malformed_lines_are_located_counted_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.zone");
    std::fs::write(
        &path,
        b"# comment\n; comment\n192.0.2.1\n300.1.2.3\n10.0.0.1/8\n1.2.3.4 :0:bad\n$BOGUS x\n\xff\xfe\n192.0.2.2 :3:ok\n$TTL 1h\n",
    )
    .unwrap();
    let spec = ZoneSpec::parse(&format!("bl=ip4set:{}", path.display()), "depeer.test").unwrap();
    assert_eq!(spec.name, "bl.depeer.test");
    let z = Zones::load(&[spec], &LoadOptions::default()).unwrap();
    let ds = &z.zones()[0].datasets()[0];
    assert_eq!(ds.entries(), 2);
    assert_eq!(ds.warning_count(), 5);
    let lines: Vec<u64> = ds
        .warnings()
        .iter()
        .map(|w| match w {
            DnsblError::Line { line, path: p, .. } => {
                assert_eq!(p, &path);
                *line
            }
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(lines, [4, 5, 6, 7, 8]);
    assert!(
        ds.warnings()[1]
            .to_string()
            .ends_with(":5: invalid range (non-zero host part)")
    );
}

#[test]
fn zone_specs() {
    let s = ZoneSpec::parse("bots=ip4set:/a,/b", "bl.depeer.test").unwrap();
    assert_eq!(
        (s.name.as_str(), s.kind, s.files.len()),
        ("bots.bl.depeer.test", ZoneType::Ip4Set, 2)
    );
    assert_eq!(
        ZoneSpec::parse("x.example.=dnset:/a", "bl.depeer.test")
            .unwrap()
            .name,
        "x.example"
    );
    assert_eq!(
        ZoneSpec::parse("@=ip6trie:/a", "bl.depeer.test")
            .unwrap()
            .name,
        "bl.depeer.test"
    );
    assert_eq!(
        ZoneSpec::parse("cc.bl.depeer.test=ip4trie:/a", "bl.depeer.test")
            .unwrap()
            .name,
        "cc.bl.depeer.test"
    );
    for bad in ["bots", "bots=ip5set:/a", "bots=ip4set:", "a..b=ip4set:/a"] {
        assert!(ZoneSpec::parse(bad, "bl.depeer.test").is_err(), "{bad}");
    }
    let missing = ZoneSpec::parse("bots=ip4set:/nonexistent/zone", "t").unwrap();
    assert!(matches!(
        Zones::load(&[missing], &LoadOptions::default()),
        Err(DnsblError::Io { .. })
    ));
}

#[test]
fn rebuild_of_a_million_entries_is_fast() {
    let mut text = String::with_capacity(16_000_000);
    let mut x = 0x9e37_79b9u32;
    for _ in 0..1_000_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        text.push_str(&std::net::Ipv4Addr::from(x).to_string());
        text.push('\n');
    }
    let t = std::time::Instant::now();
    let z = Zones::from_texts(
        &[("bl.t", ZoneType::Ip4Set, text.as_bytes())],
        &LoadOptions::default(),
    );
    let took = t.elapsed();
    let ds = &z.zones()[0].datasets()[0];
    assert_eq!(ds.entries(), 1_000_000);
    eprintln!(
        "1 M entries: {took:?}, {} intervals, {} MB",
        ds.size(),
        ds.heap_bytes() / 1_000_000
    );
    assert!(took.as_secs_f64() < 5.0, "{took:?}");
}
