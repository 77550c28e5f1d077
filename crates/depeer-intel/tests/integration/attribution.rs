//! Attribution's guards on hand-made batches: unknown stays unknown,
//! mailing-list mail is never labelled, a mislabelled listing is overruled
//! by its cluster, and the result does not depend on the batch order. The
//! end-to-end figures on simulated worlds are `examples/attribute_world.rs`
//! scored by `scripts/score/intel`.

use std::net::IpAddr;

use depeer_intel::{BotListIndex, MessageFeatures, NoBotList, RuleSet, Signal, attribute_batch};

fn msg(i: u8, t: i64) -> MessageFeatures {
    MessageFeatures {
        sha256: [i; 32],
        time: t,
        relay_ip: Some(IpAddr::from([198, 51, 100, i])),
        url_domains: vec!["pills-shop.example".into()],
        ..MessageFeatures::default()
    }
}

#[test]
fn spam_no_signal_supports_stays_unknown() {
    let rules = RuleSet::builtin().unwrap();
    let batch: Vec<_> = (0..20).map(|i| msg(i, i64::from(i))).collect();
    for a in attribute_batch(&batch, &rules, &NoBotList) {
        assert_eq!(a.botnet, None);
        assert_eq!(a.signal, Signal::None);
        assert_eq!(a.confidence, 0.0);
        assert!(a.campaign.is_some(), "clustered without a label");
    }
}

#[test]
fn labels_propagate_and_a_mislabelled_listing_is_overruled() {
    let rules = RuleSet::builtin().unwrap();
    let mut list = BotListIndex::new();
    // Five of twenty relays listed as Zorbex, one (relay 7) as Srizbi.
    for i in [1u8, 3, 5, 9, 11] {
        list.insert(IpAddr::from([198, 51, 100, i]), "Trojan.Zorbex", 0, 100);
    }
    list.insert(IpAddr::from([198, 51, 100, 7]), "SRIZBI", 0, 100);
    let batch: Vec<_> = (0..20).map(|i| msg(i, i64::from(i))).collect();
    let out = attribute_batch(&batch, &rules, &list);
    for a in &out {
        assert_eq!(a.botnet.as_deref(), Some("zorbex"), "{a:?}");
    }
    assert_eq!(out[2].signal, Signal::Cluster);
    assert_eq!(
        out[1].signal,
        Signal::Cluster,
        "own listing agrees, cluster stronger"
    );
    assert_eq!(out[7].signal, Signal::Cluster);
    assert!(out[7].confidence < out[2].confidence);
}

#[test]
fn mailing_list_mail_is_not_labelled_even_from_a_listed_relay() {
    let rules = RuleSet::builtin().unwrap();
    let mut list = BotListIndex::new();
    let mut batch: Vec<_> = (0..20).map(|i| msg(i, i64::from(i))).collect();
    for (i, m) in batch.iter_mut().enumerate() {
        list.insert(m.relay_ip.unwrap(), "srizbi", 0, 100);
        if i % 2 == 0 {
            m.headers.list_id = true;
        }
    }
    for (i, a) in attribute_batch(&batch, &rules, &list).iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(a.botnet, None, "{i}");
            assert_eq!(a.campaign, None);
        } else {
            assert_eq!(a.botnet.as_deref(), Some("srizbi"));
        }
    }
}

#[test]
fn a_cluster_dominated_by_list_mail_passes_no_label() {
    let rules = RuleSet::builtin().unwrap();
    let mut list = BotListIndex::new();
    let mut batch: Vec<_> = (0..20).map(|i| msg(i, i64::from(i))).collect();
    list.insert(batch[0].relay_ip.unwrap(), "srizbi", 0, 100);
    list.insert(batch[1].relay_ip.unwrap(), "srizbi", 0, 100);
    for m in batch.iter_mut().skip(5) {
        m.headers.list_unsubscribe = true;
    }
    let out = attribute_batch(&batch, &rules, &list);
    for a in &out[2..5] {
        assert_eq!(a.botnet, None, "{a:?}");
    }
}

#[test]
fn the_result_does_not_depend_on_the_batch_order() {
    let rules = RuleSet::builtin().unwrap();
    let mut list = BotListIndex::new();
    for i in [1u8, 3, 5] {
        list.insert(IpAddr::from([198, 51, 100, i]), "cutwail", 0, 100);
    }
    let batch: Vec<_> = (0..20).map(|i| msg(i, i64::from(i))).collect();
    let mut rev = batch.clone();
    rev.reverse();
    let mut a = attribute_batch(&batch, &rules, &list);
    let mut b = attribute_batch(&rev, &rules, &list);
    a.sort_by_key(|x| x.sha256);
    b.sort_by_key(|x| x.sha256);
    assert_eq!(a, b);
}
