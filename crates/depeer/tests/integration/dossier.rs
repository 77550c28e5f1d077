//! Dossiers end to end (docs/dossier-format.md): a dataset from the
//! mccolo-2008 scenario, dossiers for the top-ranked AS, a bot address, a
//! prefix and an advertised domain; `depeer verify` and the independent
//! Python verifier (tests/integration/dossier/verify_dossier.py, written
//! from the format document alone, Ed25519 from PyPI `cryptography`) both
//! accept them, and both reject and name each tamper case.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{depeer, ok, sql};

fn python_verifier() -> Option<PathBuf> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/dossier/verify_dossier.py");
    let has = Command::new("python3")
        .args([
            "-c",
            "import cryptography.hazmat.primitives.asymmetric.ed25519",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"SKIPPED the independent Python dossier verifier: python3 with the `cryptography` package is absent (scripts/setup-test-deps installs it)\n",
        );
        return None;
    }
    Some(script)
}

/// (accepted, message) from `depeer verify` and from the Python verifier.
fn both(dir: &Path, vkey: &str, py: Option<&Path>) -> (bool, String, Option<(bool, String)>) {
    let o = depeer()
        .arg("verify")
        .arg(dir)
        .args(["--vkey", vkey])
        .output()
        .unwrap();
    let rust = (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    );
    let p = py.map(|s| {
        let o = Command::new("python3")
            .arg(s)
            .arg(dir)
            .arg(vkey)
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).to_string(),
        )
    });
    (rust.0, rust.1, p)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn set_manifest(dir: &Path, m: &serde_json::Value) {
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(m).unwrap(),
    )
    .unwrap();
}

#[test]
fn dossiers_verify_and_every_tamper_is_named_by_both_verifiers() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = crate::depends::world(tmp.path(), "mccolo-2008", "7");
    let data = tmp.path().join("data");
    let py = python_verifier();
    let vkey = ok(depeer().args(["log", "vkey", "--data"]).arg(&data))
        .trim()
        .to_string();
    let main_time = truth["summary"]["main_event_time"]
        .as_str()
        .unwrap()
        .to_string();
    let rank: serde_json::Value = serde_json::from_str(&ok(depeer()
        .args(["rank", "--json", "--top", "1", "--at", &main_time, "--data"])
        .arg(&data)))
    .unwrap();
    let top = format!("AS{}", rank["ranking"][0]["asn"].as_u64().unwrap());
    let bot = sql(
        &data,
        &format!("SELECT relay_ip, count(*) AS n FROM attribution WHERE relay_ip IS NOT NULL AND botnet IS NOT NULL AND time <= TIMESTAMP '{main_time}' GROUP BY 1 ORDER BY n DESC, relay_ip LIMIT 1"),
    )[0]["relay_ip"]
        .as_str()
        .unwrap()
        .to_string();
    let prefix = sql(
        &data,
        &format!("SELECT relay_prefix, count(*) AS n FROM attribution WHERE relay_prefix IS NOT NULL AND time <= TIMESTAMP '{main_time}' GROUP BY 1 ORDER BY n DESC, relay_prefix LIMIT 1"),
    )[0]["relay_prefix"]
        .as_str()
        .unwrap()
        .to_string();
    let domain = sql(
        &data,
        &format!("SELECT u.registrable_domain, count(*) AS n FROM message_urls u JOIN messages m ON u.sha256 = m.sha256 WHERE u.registrable_domain IS NOT NULL AND m.arrival_time <= TIMESTAMP '{main_time}' GROUP BY 1 ORDER BY n DESC, u.registrable_domain LIMIT 1"),
    )[0]["registrable_domain"]
        .as_str()
        .unwrap()
        .to_string();
    let mut dossiers = Vec::new();
    for (i, subject) in [&top, &bot, &prefix, &domain].into_iter().enumerate() {
        let out = tmp.path().join(format!("dossier{i}"));
        ok(depeer()
            .args([
                "dossier",
                subject,
                "--at",
                &main_time,
                "--window",
                "30d",
                "--max-samples",
                "12",
                "--out",
            ])
            .arg(&out)
            .arg("--data")
            .arg(&data));
        let m = manifest(&out);
        assert!(
            !m["evidence"].as_array().unwrap().is_empty(),
            "{subject}: {m}"
        );
        assert!(
            !m["claims"].as_array().unwrap().is_empty(),
            "{subject}: {m}"
        );
        for k in ["subject", "at", "claims", "evidence"] {
            assert!(m.get(k).is_some(), "{k}");
        }
        let e = &m["evidence"][0];
        let mut keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["kind", "log_index", "observed", "path", "proof", "sha256"]
        );
        assert!(
            out.join("index.html").exists()
                && out.join("checkpoint").exists()
                && out.join("vkey").exists()
        );
        let (r, msg, p) = both(&out, &vkey, py.as_deref());
        assert!(r, "{subject}: {msg}");
        if let Some((ok, pm)) = p {
            assert!(ok, "python on {subject}: {pm}");
        }
        dossiers.push(out);
    }
    check_routing_and_listing_evidence(&dossiers[0], &vkey, py.as_deref(), tmp.path());
    check_tampers(&dossiers[0], &vkey, py.as_deref(), tmp.path());
}

/// The top AS's dossier holds MRT records behind its routing claims and
/// feed records behind its listing claims, each cited; a byte flipped in
/// one of each is named by both verifiers.
fn check_routing_and_listing_evidence(dossier: &Path, vkey: &str, py: Option<&Path>, tmp: &Path) {
    let m = manifest(dossier);
    let ev = m["evidence"].as_array().unwrap();
    let path_of = |kind: &str| {
        ev.iter()
            .find(|e| e["kind"] == kind)
            .map(|e| e["path"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {kind} evidence: {m}"))
    };
    let (mrt, feed) = (path_of("mrt"), path_of("feed"));
    let cites = |prefix: &str, kind: &str| {
        m["claims"].as_array().unwrap().iter().any(|c| {
            c["id"].as_str().unwrap().starts_with(prefix)
                && c["evidence"].as_array().unwrap().iter().any(|p| {
                    p.as_str()
                        .unwrap()
                        .starts_with(&format!("evidence/{kind}-"))
                })
        })
    };
    assert!(cites("route-", "mrt") && cites("event-", "mrt"), "{m}");
    // A route shown by a RIB entry cites the dump's peer table first
    // (TABLE_DUMP_V2 = 13, PEER_INDEX_TABLE = 1), then the entry (13, 2).
    let mrt_type = |p: &str| {
        let b = std::fs::read(dossier.join(p)).unwrap();
        (
            u16::from_be_bytes([b[4], b[5]]),
            u16::from_be_bytes([b[6], b[7]]),
        )
    };
    assert!(
        m["claims"].as_array().unwrap().iter().any(|c| {
            let ev: Vec<&str> = c["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            c["id"].as_str().unwrap().starts_with("route-")
                && ev.len() >= 2
                && mrt_type(ev[0]) == (13, 1)
                && mrt_type(ev[1]) == (13, 2)
        }),
        "{m}"
    );
    assert!(cites("listing-", "feed"), "{m}");
    for (i, p) in [mrt, feed].into_iter().enumerate() {
        let copy = tmp.join(format!("objtamper{i}"));
        copy_dir(dossier, &copy);
        let f = copy.join(&p);
        let mut b = std::fs::read(&f).unwrap();
        let j = b.len() / 2;
        b[j] ^= 1;
        std::fs::write(&f, b).unwrap();
        let (r, msg, pyr) = both(&copy, vkey, py);
        assert!(!r && msg.contains(&p), "{p}: {msg}");
        if let Some((ok, pm)) = pyr {
            assert!(!ok && pm.contains(&p), "python, {p}: {pm}");
        }
    }
}

/// Each tamper case is rejected by both verifiers, and both name it.
fn check_tampers(dossier: &Path, vkey: &str, py: Option<&Path>, tmp: &Path) {
    let m = manifest(dossier);
    let ev: Vec<serde_json::Value> = m["evidence"].as_array().unwrap().clone();
    assert!(ev.len() >= 2, "{m}");
    let other_key = depeer_evidence::NoteSigner::generate(
        depeer_evidence::NoteVerifier::parse(vkey).unwrap().name(),
    )
    .unwrap();
    // Each tamper: (name, edit, a word both verifiers' messages must contain).
    type Edit = Box<dyn Fn(&Path)>;
    let p0 = ev[0]["path"].as_str().unwrap().to_string();
    let p1 = ev[1]["path"].as_str().unwrap().to_string();
    let (q0, q1) = (
        ev[0]["proof"].as_str().unwrap().to_string(),
        ev[1]["proof"].as_str().unwrap().to_string(),
    );
    let cases: Vec<(&str, Edit, String)> = vec![
        (
            "byte flipped in a sample",
            Box::new({
                let p0 = p0.clone();
                move |d: &Path| {
                    let f = d.join(&p0);
                    let mut b = std::fs::read(&f).unwrap();
                    let i = b.len() / 2;
                    b[i] ^= 1;
                    std::fs::write(f, b).unwrap();
                }
            }),
            p0.clone(),
        ),
        (
            "evidence file removed",
            Box::new({
                let p1 = p1.clone();
                move |d: &Path| std::fs::remove_file(d.join(&p1)).unwrap()
            }),
            p1.clone(),
        ),
        (
            "two proofs swapped",
            Box::new({
                let (q0, q1) = (q0.clone(), q1.clone());
                move |d: &Path| {
                    let (a, b) = (
                        std::fs::read(d.join(&q0)).unwrap(),
                        std::fs::read(d.join(&q1)).unwrap(),
                    );
                    std::fs::write(d.join(&q0), b).unwrap();
                    std::fs::write(d.join(&q1), a).unwrap();
                }
            }),
            p0.clone(),
        ),
        (
            "claim citing a missing file",
            Box::new(|d: &Path| {
                let mut m = manifest(d);
                m["claims"][0]["evidence"]
                    .as_array_mut()
                    .unwrap()
                    .push("evidence/not-there.eml".into());
                set_manifest(d, &m);
            }),
            "not-there".to_string(),
        ),
        (
            "checkpoint re-signed with another key",
            Box::new(move |d: &Path| {
                let note = std::fs::read_to_string(d.join("checkpoint")).unwrap();
                let text = depeer_evidence::split_note(&note).unwrap().0.to_string();
                std::fs::write(d.join("checkpoint"), other_key.sign(&text).unwrap()).unwrap();
            }),
            "checkpoint".to_string(),
        ),
        (
            "log entry dropped",
            Box::new(|d: &Path| {
                let mut m = manifest(d);
                m["evidence"].as_array_mut().unwrap().remove(0);
                set_manifest(d, &m);
            }),
            p0.clone(),
        ),
    ];
    for (i, (name, edit, word)) in cases.iter().enumerate() {
        let d = tmp.join(format!("tampered{i}"));
        copy_dir(dossier, &d);
        edit(&d);
        let (r, msg, p) = both(&d, vkey, py);
        assert!(!r, "{name}: depeer verify accepted it: {msg}");
        assert!(
            msg.contains(word.as_str()),
            "{name}: depeer verify did not name {word}: {msg}"
        );
        if let Some((ok, pm)) = p {
            assert!(!ok, "{name}: python accepted it: {pm}");
            assert!(
                pm.contains(word.as_str()),
                "{name}: python did not name {word}: {pm}"
            );
        }
    }
}
