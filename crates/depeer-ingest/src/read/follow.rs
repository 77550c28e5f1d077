//! `depeer events --follow`: volume events as data is committed, in the
//! total or in each series of a scope (botnet, sending AS, hosting AS).
//! Each [`Follower::poll`] reads the `messages` files committed since the
//! last one (committed files never change, so every message is read
//! once), feeds them to `depeer_analysis::OnlineVolume`s, and returns the
//! events that became confirmed, each with how long after its time that
//! was (in data time: the newest message seen). The causes of a confirmed
//! event of the total are those the batch read side
//! ([`super::events::events`]) gives for the same event over the days
//! around it, so the online and batch answers agree.
//!
//! A scope splits each message as `depeer series --by` does
//! ([`Keyer`]): one detector per key, created at the key's first message.
//! A message waits until what splits it is there (its `attribution` row,
//! which `ingest mail` commits after the messages; the routes for a
//! sending AS), at most [`MAX_WAIT_POLLS`] polls, then counts as unknown.
//! The splitter is read again only when one of the tables it reads has
//! new files. A key that goes quiet (a botnet whose C&C was cut) still
//! sees time pass: every detector's clock moves with the newest message
//! of all, once a block (an hour), so its drop is confirmed like the
//! total's. At most `max_keys` keys are followed (memory: one week of
//! one-minute counts, about 90 kB, each); messages of keys past that are
//! counted in [`Follower::skipped`]. Routing events (`kind` `routing`) are
//! not followed online: `depeer events --scope` gives them in batch.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use depeer_analysis::{Confirmed, OnlineParams, OnlineVolume};
use depeer_core::Timestamp;
use depeer_store::{Dataset, MessagePoint, names};
use serde::Serialize;

use super::ReadError;
use super::events::{EventOut, EventScope, events};
use super::series::{Keyer, SeriesBy};

/// Polls a message waits for what splits it before it counts as unknown.
pub const MAX_WAIT_POLLS: u32 = 3;

/// The tables a scope's splitter reads: when one has new files, it is
/// read again.
const SPLIT_TABLES: [&str; 5] = [
    names::ATTRIBUTION,
    names::ROUTES,
    names::AS_LINKS,
    names::AS_NAMES,
    names::FEED_ENTRIES,
];

/// Seconds of data before a confirmed event read again for its causes.
const CAUSE_CONTEXT: i64 = 3 * 86_400;

/// One confirmed event of `depeer events --follow`.
#[derive(Debug, Serialize)]
pub struct FollowedEvent {
    /// The event, as `depeer events` gives it.
    #[serde(flatten)]
    pub event: EventOut,
    /// The newest message time when it was confirmed (RFC 3339).
    pub confirmed_at: String,
    /// Seconds from the event's time to its confirmation, in data time.
    pub delay_seconds: i64,
}

/// Follows the dataset in a data directory.
#[derive(Debug)]
pub struct Follower {
    data: PathBuf,
    seen: HashSet<PathBuf>,
    online: OnlineVolume,
    keyed: Option<Keyed>,
    causes: bool,
}

/// The detectors of a scope's keys.
struct Keyed {
    by: SeriesBy,
    scope: &'static str,
    params: OnlineParams,
    max_keys: usize,
    keyer: Option<Keyer>,
    /// The files of [`SPLIT_TABLES`] when `keyer` was read.
    read_from: Vec<Vec<PathBuf>>,
    /// Messages waiting for their split, with the polls waited.
    pending: Vec<(MessagePoint, u32)>,
    detectors: BTreeMap<String, OnlineVolume>,
    /// The block (Unix s / block) every detector's clock was moved to.
    block: Option<i64>,
    messages: u64,
    skipped: u64,
}

impl std::fmt::Debug for Keyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyed")
            .field("scope", &self.scope)
            .field("keys", &self.detectors.len())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Follower {
    /// A follower of the total of `data` that has read nothing yet;
    /// `causes`: look up the routing causes of each confirmed event.
    #[must_use]
    pub fn new(data: &Path, params: OnlineParams, causes: bool) -> Follower {
        Follower {
            data: data.to_path_buf(),
            seen: HashSet::new(),
            online: OnlineVolume::new(params),
            keyed: None,
            causes,
        }
    }

    /// A follower of each series of `scope` (the total for
    /// [`EventScope::Total`], as [`Follower::new`]), following at most
    /// `max_keys` keys.
    #[must_use]
    pub fn scoped(
        data: &Path,
        params: OnlineParams,
        scope: EventScope,
        max_keys: usize,
        causes: bool,
    ) -> Follower {
        let mut f = Follower::new(data, params.clone(), causes);
        let (by, label) = match scope {
            EventScope::Total => return f,
            EventScope::Botnet => (SeriesBy::Botnet, "botnet"),
            EventScope::SendingAs => (SeriesBy::SendingAs, "sending-as"),
            EventScope::HostingAs => (SeriesBy::HostingAs, "hosting-as"),
        };
        f.keyed = Some(Keyed {
            by,
            scope: label,
            params,
            max_keys,
            keyer: None,
            read_from: Vec::new(),
            pending: Vec::new(),
            detectors: BTreeMap::new(),
            block: None,
            messages: 0,
            skipped: 0,
        });
        f
    }

    /// Messages read so far.
    #[must_use]
    pub fn messages(&self) -> u64 {
        match &self.keyed {
            Some(k) => k.messages,
            None => self.online.messages(),
        }
    }

    /// Messages of keys past `max_keys`, not followed.
    #[must_use]
    pub fn skipped(&self) -> u64 {
        self.keyed.as_ref().map_or(0, |k| k.skipped)
    }

    /// Reads what was committed since the last call and returns the events
    /// it confirms, oldest first. A data directory without a dataset yet
    /// gives nothing (the follower waits for the first ingest).
    pub fn poll(&mut self) -> Result<Vec<FollowedEvent>, ReadError> {
        if !self.data.join("tables").is_dir() {
            return Ok(Vec::new());
        }
        let ds = Dataset::open(&self.data)?;
        let new: Vec<PathBuf> = ds
            .message_parts()?
            .into_iter()
            .filter(|p| !self.seen.contains(p))
            .collect();
        if let Some(k) = self.keyed.as_mut() {
            let points = ds.message_points_in(&new, None, None)?;
            self.seen.extend(new);
            let confirmed = k.feed(&ds, points)?;
            return Ok(confirmed
                .into_iter()
                .map(|(key, c)| k.describe(key, &c))
                .collect());
        }
        let mut times = ds.read_arrival_times(&new)?;
        self.seen.extend(new);
        times.sort_unstable();
        let mut confirmed = Vec::new();
        for t in times {
            self.online.push(t.div_euclid(1_000_000), None);
            confirmed.extend(self.online.poll());
        }
        confirmed.into_iter().map(|c| self.describe(&c)).collect()
    }

    fn describe(&self, c: &Confirmed) -> Result<FollowedEvent, ReadError> {
        let mut followed = followed("total", None, c);
        let event = &mut followed.event;
        if self.causes {
            let from = Timestamp::from_secs(c.time.saturating_sub(CAUSE_CONTEXT));
            let until = Timestamp::from_secs(c.confirmed_at.saturating_add(1));
            let batch = events(&self.data, EventScope::Total, Some(from), Some(until))?;
            let same = batch.into_iter().find(|b| {
                b.kind == event.kind
                    && Timestamp::parse(&b.time)
                        .is_ok_and(|t| t.secs().abs_diff(c.time) <= 3 * 3600)
            });
            if let Some(b) = same {
                event.causes = b.causes;
            }
        }
        Ok(followed)
    }
}

impl Keyed {
    /// Reads the splitter again when a table it reads has new files; a
    /// table it needs still empty leaves it unread (the messages wait).
    fn refresh(&mut self, ds: &Dataset) -> Result<(), ReadError> {
        let now = SPLIT_TABLES
            .iter()
            .map(|t| ds.table_parts(t))
            .collect::<Result<Vec<_>, _>>()?;
        if self.keyer.is_some() && now == self.read_from {
            return Ok(());
        }
        self.keyer = match Keyer::read(ds, self.by) {
            Ok(k) => Some(k),
            Err(ReadError::Missing { .. }) => None,
            Err(e) => return Err(e),
        };
        self.read_from = now;
        Ok(())
    }

    /// Counts the messages that can be split now, oldest first, and
    /// returns the events confirmed on the way with their keys.
    fn feed(
        &mut self,
        ds: &Dataset,
        points: Vec<MessagePoint>,
    ) -> Result<Vec<(String, Confirmed)>, ReadError> {
        self.pending.extend(points.into_iter().map(|m| (m, 0)));
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        self.refresh(ds)?;
        let keyer = self.keyer.as_ref();
        let (mut ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(m, waited)| {
                *waited >= MAX_WAIT_POLLS || keyer.is_some_and(|k| k.ready(m))
            });
        self.pending = waiting.into_iter().map(|(m, w)| (m, w + 1)).collect();
        ready.sort_unstable_by_key(|(m, _)| m.time);
        let mut out = Vec::new();
        for (m, _) in ready {
            let t = m.time.secs();
            out.extend(self.tick(t));
            self.count(&m, t);
        }
        Ok(out)
    }

    /// Moves every detector's clock to `t` once a block, and polls them.
    fn tick(&mut self, t: i64) -> Vec<(String, Confirmed)> {
        let block = t.div_euclid(self.params.volume.block.max(1));
        if self.block.is_some_and(|b| b >= block) {
            return Vec::new();
        }
        self.block = Some(block);
        let mut out = Vec::new();
        for (key, d) in &mut self.detectors {
            d.advance(t);
            out.extend(d.poll().into_iter().map(|c| (key.clone(), c)));
        }
        out
    }

    /// Adds message `m` (at Unix second `t`) to the detectors of its keys.
    fn count(&mut self, m: &MessagePoint, t: i64) {
        self.messages += 1;
        let (Some(keyer), detectors) = (self.keyer.as_mut(), &mut self.detectors) else {
            return;
        };
        let (max_keys, params) = (self.max_keys, &self.params);
        let keep_unknown = self.by == SeriesBy::Botnet;
        let mut skipped = false;
        keyer.split(m, |key, w| {
            if key == "unknown" && !keep_unknown {
                return;
            }
            if !detectors.contains_key(key) {
                if detectors.len() >= max_keys {
                    skipped = true;
                    return;
                }
                detectors.insert(key.to_string(), OnlineVolume::new(params.clone()));
            }
            if let Some(d) = detectors.get_mut(key) {
                d.add(t, None, w);
            }
        });
        self.skipped += u64::from(skipped);
    }

    fn describe(&self, key: String, c: &Confirmed) -> FollowedEvent {
        followed(self.scope, Some(key), c)
    }
}

/// A confirmed change as an event of `scope` (no causes yet).
fn followed(scope: &'static str, key: Option<String>, c: &Confirmed) -> FollowedEvent {
    let time = |s: i64| Timestamp::from_secs(s).to_rfc3339();
    FollowedEvent {
        event: EventOut {
            time: time(c.time),
            time_low: time(c.time_low),
            time_high: time(c.time_high),
            scope,
            key,
            kind: c.event.direction.as_str(),
            magnitude: c.event.magnitude,
            low: c.event.magnitude_low,
            high: c.event.magnitude_high,
            confidence: c.event.confidence,
            causes: Vec::new(),
            routing: None,
        },
        confirmed_at: time(c.confirmed_at),
        delay_seconds: c.delay(),
    }
}
