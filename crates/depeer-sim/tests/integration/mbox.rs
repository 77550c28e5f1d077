//! The mbox files hold exactly the messages truth-messages.jsonl names, by
//! SHA-256 of the bytes as docs/sim.md defines them.

use std::collections::BTreeMap;

use sha2::Digest;

use crate::common::{hex, messages, run, split_mboxrd};

#[test]
fn every_message_hash_in_the_truth_matches_the_mbox_bytes() {
    let r = run("mccolo-2008", 21, 1.0);
    let truth = messages(r.path());
    assert_eq!(truth.len() as u64, r.summary.messages);
    let mut by_file: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in &truth {
        by_file
            .entry(m.file.as_str())
            .or_default()
            .push(m.sha256.as_str());
    }
    let mut seen = 0;
    let mut quoted = 0;
    for (file, hashes) in &by_file {
        let bytes = std::fs::read(r.path().join(file)).unwrap();
        quoted += bytes.windows(7).filter(|w| w == b"\n>From ").count();
        let msgs = split_mboxrd(&bytes);
        assert_eq!(msgs.len(), hashes.len(), "{file}");
        for (m, h) in msgs.iter().zip(hashes) {
            assert_eq!(hex(&sha2::Sha256::digest(m)), *h, "{file}");
            seen += 1;
        }
    }
    assert_eq!(seen, truth.len());
    assert!(quoted > 0, "some body lines need >From quoting");
    // The relay named by the truth is in the top Received line.
    let first = &truth[0];
    let bytes = std::fs::read(r.path().join(&first.file)).unwrap();
    let m = &split_mboxrd(&bytes)[0];
    let text = String::from_utf8_lossy(m);
    let recv = text
        .lines()
        .find(|l| l.starts_with("Received: from "))
        .unwrap();
    assert!(recv.contains(&format!("[{}])", first.relay_ip)), "{recv}");
}

#[test]
fn malformed_messages_are_few_marked_and_of_several_kinds() {
    let r = run("mccolo-2008", 22, 5.0);
    let truth = messages(r.path());
    let bad: Vec<_> = truth.iter().filter(|m| m.malformed.is_some()).collect();
    let share = bad.len() as f64 / truth.len() as f64;
    assert!(share > 0.0005 && share < 0.01, "malformed share {share}");
    let kinds: std::collections::BTreeSet<_> =
        bad.iter().filter_map(|m| m.malformed.clone()).collect();
    assert!(kinds.len() >= 4, "{kinds:?}");
    let legit = truth.iter().filter(|m| m.botnet.is_none()).count();
    assert!(legit > 0, "some legitimate mail");
}
