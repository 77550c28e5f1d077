//! Same seed, same bytes; another seed, another world.

use crate::common::{file_hashes, run};

#[test]
fn same_seed_gives_identical_files_and_another_seed_different_ones() {
    let a = run("mccolo-2008", 11, 0.5);
    let b = run("mccolo-2008", 11, 0.5);
    let c = run("mccolo-2008", 12, 0.5);
    let ha = file_hashes(a.path());
    let hb = file_hashes(b.path());
    let hc = file_hashes(c.path());
    assert!(ha.len() > 20, "expected many files, got {}", ha.len());
    assert_eq!(ha, hb, "same seed must give the same bytes");
    for name in [
        "truth.json",
        "truth-messages.jsonl",
        "as2org.jsonl",
        "feeds/cc.csv",
        "bgp/rib.20081108.0000.mrt",
    ] {
        let p = std::path::Path::new(name);
        assert!(ha.contains_key(p), "{name} missing");
        assert_ne!(ha.get(p), hc.get(p), "{name} must differ with another seed");
    }
    // Another seed tells the same story: different ASNs, same kind of drop.
    let (ta, tc) = (a.truth(), c.truth());
    assert_ne!(
        ta["summary"]["main_event_asn"],
        tc["summary"]["main_event_asn"]
    );
    assert_ne!(
        ta["summary"]["main_event_time"],
        tc["summary"]["main_event_time"]
    );
    for t in [&ta, &tc] {
        let d = t["summary"]["world_drop"].as_f64().unwrap();
        assert!((0.5..0.8).contains(&d), "world drop {d}");
    }
}

#[test]
fn gzip_output_is_deterministic_too() {
    let sc = depeer_sim::Scenario::load("intercage-2008").unwrap();
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let o = depeer_sim::Options {
        seed: 5,
        scale: 0.2,
        gzip: true,
        zstd: false,
    };
    depeer_sim::generate(&sc, &o, d1.path()).unwrap();
    depeer_sim::generate(&sc, &o, d2.path()).unwrap();
    let h1 = file_hashes(d1.path());
    assert!(h1.keys().any(|p| p.to_string_lossy().ends_with(".mbox.gz")));
    assert_eq!(h1, file_hashes(d2.path()));
}

#[test]
fn zstd_output_is_deterministic_and_holds_the_plain_bytes() {
    let sc = depeer_sim::Scenario::load("3fn-2009").unwrap();
    let opts = |zstd| depeer_sim::Options {
        seed: 8,
        scale: 0.5,
        gzip: false,
        zstd,
    };
    let plain = tempfile::tempdir().unwrap();
    let z1 = tempfile::tempdir().unwrap();
    let z2 = tempfile::tempdir().unwrap();
    depeer_sim::generate(&sc, &opts(false), plain.path()).unwrap();
    depeer_sim::generate(&sc, &opts(true), z1.path()).unwrap();
    depeer_sim::generate(&sc, &opts(true), z2.path()).unwrap();
    let hp = file_hashes(plain.path());
    let hz = file_hashes(z1.path());
    assert_eq!(hz, file_hashes(z2.path()), "same seed, same zstd bytes");
    let mut mboxes = 0;
    for (p, h) in &hz {
        let name = p.to_string_lossy();
        if let Some(plain_name) = name.strip_suffix(".zst") {
            // Every compressed file decodes (all its frames) to the plain file.
            let mut bytes = Vec::new();
            let file = std::fs::File::open(z1.path().join(p)).unwrap();
            std::io::Read::read_to_end(
                &mut depeer_io::open_decoded(file, depeer_io::Limits::default())
                    .unwrap()
                    .reader,
                &mut bytes,
            )
            .unwrap();
            let want = std::fs::read(plain.path().join(plain_name)).unwrap();
            if plain_name == "truth-messages.jsonl" {
                let got = String::from_utf8(bytes)
                    .unwrap()
                    .replace(".mbox.zst\"", ".mbox\"");
                assert_eq!(got.as_bytes(), &want[..], "truth-messages differs");
            } else {
                assert!(bytes == want, "{plain_name} differs after decoding");
                mboxes += 1;
            }
        } else if name != "truth.json" {
            assert_eq!(hp.get(p), Some(h), "{name} must be as without --zstd");
        }
    }
    assert!(mboxes > 10, "only {mboxes} mbox files compressed");
}
