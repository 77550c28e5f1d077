//! Attribution of a batch on several threads, with the result one thread
//! gives, message by message.
//!
//! Three steps: (1) each message's own signals ([`Attributor::prepare`]:
//! rule, template, bot list, keys) need nothing but the message, so any
//! thread computes them; (2) filing into the index is one sequential pass
//! in message order (ids are given in order of first appearance, which
//! the solver's fixed summation order relies on); (3) once the campaigns
//! are solved, deciding and enriching read the index only, so the batch
//! is cut into consecutive slices decided on all threads.
//!
//! Step 1 and 2 overlap: helper threads prepare blocks ahead, and the
//! filing thread prepares a block itself whenever the next one in order
//! is not ready yet, so neither core waits while work is left.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use depeer_intel::{Attributor, BotListIndex, MessageFeatures, OwnSignals, Prepared, RuleSet};

/// Messages per block handed between threads.
const BLOCK: usize = 4_096;
/// Prepared blocks kept ahead of filing at most (bounds the memory).
const AHEAD: usize = 32;

/// Observes `feats` in order with `a` (the same index, ids and signals as
/// `feats.iter().map(|f| a.observe(f, bots))`), preparing on `threads`
/// threads.
pub(super) fn observe_all(
    a: &mut Attributor<'_>,
    feats: &[MessageFeatures],
    rules: &RuleSet,
    bots: &BotListIndex,
    threads: usize,
) -> Vec<OwnSignals> {
    a.reserve(feats.len());
    if threads < 2 || feats.len() < 2 * BLOCK {
        return feats.iter().map(|f| a.observe(f, bots)).collect();
    }
    let blocks: Vec<&[MessageFeatures]> = feats.chunks(BLOCK).collect();
    let n = blocks.len();
    let next = AtomicUsize::new(0);
    let prepare = |b: usize| -> Vec<Prepared<'_>> {
        blocks
            .get(b)
            .map(|block| {
                block
                    .iter()
                    .map(|f| Attributor::prepare(rules, f, bots))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut own = Vec::with_capacity(feats.len());
    std::thread::scope(|s| {
        let (tx, rx) = crossbeam_channel::bounded::<(usize, Vec<Prepared<'_>>)>(AHEAD);
        for _ in 1..threads {
            let (tx, next, prepare) = (tx.clone(), &next, &prepare);
            s.spawn(move || {
                loop {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    if b >= n || tx.send((b, prepare(b))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut ready: BTreeMap<usize, Vec<Prepared<'_>>> = BTreeMap::new();
        let mut b = 0usize;
        while b < n {
            if let Some(p) = ready.remove(&b) {
                let block = blocks.get(b).copied().unwrap_or_default();
                for (f, p) in block.iter().zip(p) {
                    own.push(a.observe_prepared(f, p));
                }
                b += 1;
                continue;
            }
            while let Ok((i, p)) = rx.try_recv() {
                ready.insert(i, p);
            }
            if ready.contains_key(&b) {
                continue;
            }
            // The next block is being prepared elsewhere: prepare one
            // ahead here rather than wait.
            if ready.len() < AHEAD {
                let c = next.fetch_add(1, Ordering::Relaxed);
                if c < n {
                    ready.insert(c, prepare(c));
                    continue;
                }
            }
            match rx.recv() {
                Ok((i, p)) => {
                    ready.insert(i, p);
                }
                // Every helper ended and block b never came: cannot happen
                // (each claimed block is sent); prepare it here.
                Err(_) => {
                    ready.insert(b, prepare(b));
                }
            }
        }
    });
    own
}

/// Sets `out[i] = decide(&feats[i], own[i])` for every message (or
/// whatever stands for it), on up to
/// `threads` threads over consecutive slices. Each result goes straight to
/// its place: no second copy of the rows (concatenating per-thread
/// vectors moved every row once more, a tenth of the time on 825 k
/// messages, most of it the kernel zeroing the pages of the copy).
pub(super) fn decide_into<I: Sync, T: Send>(
    feats: &[I],
    own: &[OwnSignals],
    out: &mut [T],
    threads: usize,
    decide: impl Fn(&I, OwnSignals) -> T + Sync,
) {
    let fill = |feats: &[I], own: &[OwnSignals], out: &mut [T]| {
        for ((f, o), slot) in feats.iter().zip(own).zip(out) {
            *slot = decide(f, *o);
        }
    };
    if threads < 2 || feats.len() < 2 * BLOCK {
        fill(feats, own, out);
        return;
    }
    // More slices than threads: a thread that gets less CPU (a shared
    // machine) does not hold the others up at the end.
    let per = feats.len().div_ceil(threads * 4).max(BLOCK);
    let slices = std::sync::Mutex::new(
        feats
            .chunks(per)
            .zip(own.chunks(per))
            .zip(out.chunks_mut(per)),
    );
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (slices, fill) = (&slices, &fill);
            s.spawn(move || {
                loop {
                    let next = slices.lock().map(|mut it| it.next());
                    let Ok(Some(((f, o), out))) = next else { break };
                    fill(f, o, out);
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::IpAddr;

    use depeer_intel::{BotListIndex, HeaderSummary, MessageFeatures, RuleSet};

    use super::super::{AttributeMode, RoutingAt, decide_on};

    /// A small world: 40 campaigns of 5 families (two send with one
    /// template, one with a template no rule names), sites shared by
    /// campaigns, IP-literal sites, relays reused across campaigns and
    /// weeks, mailing-list mail, messages without a site; a fifth of the
    /// relays listed, some under the wrong family.
    fn world() -> (Vec<MessageFeatures>, BotListIndex) {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let families = ["srizbi", "rustock", "newnet", "Trojan.Other", "megad"];
        let mailers = [
            None,
            Some("Microsoft Outlook Express 6.00.2900.2180"),
            Some("Imit 1.0"),
        ];
        let mut bots = BotListIndex::new();
        let mut feats = Vec::new();
        for i in 0..20_000u64 {
            let camp = rnd(40);
            let fam = (camp % 5) as usize;
            let relay = IpAddr::from([10, fam as u8, rnd(40) as u8, rnd(200) as u8]);
            let time = 1_200_000_000_000_000 + i as i64 * 300_000_000;
            let mut sha = [0u8; 32];
            sha[..8].copy_from_slice(&i.to_le_bytes());
            sha[8] = camp as u8;
            let mut url_domains = vec![format!("c{camp}.example")];
            match rnd(10) {
                0 => url_domains.push(format!("shared{}.example", camp / 7)),
                1 => url_domains.push(format!("192.0.2.{}", rnd(4))),
                2 => url_domains.clear(),
                _ => {}
            }
            let listy = rnd(50) == 0;
            let mut names: Vec<String> = ["Received", "From", "To", "Subject", "Date"]
                .map(String::from)
                .to_vec();
            if listy {
                names.push("List-Id".into());
            }
            feats.push(MessageFeatures {
                sha256: sha,
                time,
                relay_ip: (rnd(20) != 0).then_some(relay),
                message_id: Some(format!("{:x}.{}@host{fam}.example", rnd(1 << 40), rnd(999))),
                headers: HeaderSummary {
                    names,
                    x_mailer: mailers[fam % 3].map(String::from),
                    received: vec!["from x".into(); 1 + fam % 2],
                    list_id: listy,
                    ..HeaderSummary::default()
                },
                url_domains,
                fingerprint: Some([camp as u32; 16]),
                ..MessageFeatures::default()
            });
            if rnd(5) == 0 {
                let listed = if rnd(20) == 0 { (fam + 1) % 5 } else { fam };
                bots.insert(
                    relay,
                    families[listed],
                    time - 3_600_000_000,
                    time + 3_600_000_000,
                );
            }
        }
        (feats, bots)
    }

    /// The threaded path gives the rows one thread gives, message by
    /// message, whatever the number of threads.
    #[test]
    fn attribution_on_several_threads_is_that_of_one() {
        let (feats, bots) = world();
        let rules = RuleSet::builtin().unwrap();
        let routing = RoutingAt::default();
        let old = HashMap::new();
        let run = |t| decide_on(&feats, &rules, &bots, &routing, AttributeMode::All, &old, t);
        let one = run(1);
        assert_eq!(one.len(), feats.len());
        let named = one.iter().filter(|r| r.botnet.is_some()).count();
        assert!(
            named > feats.len() / 2,
            "{named} named: the world exercises the solver"
        );
        assert!(
            one.iter()
                .any(|r| r.signal == "bot-list" || r.signal == "cluster")
        );
        for t in [2, 3, 5] {
            assert!(run(t) == one, "{t} threads differ from one");
        }
    }
}
