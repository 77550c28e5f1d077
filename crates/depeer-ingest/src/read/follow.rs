//! `depeer events --follow`: volume events of the total as data is
//! committed. Each [`Follower::poll`] reads the `messages` files committed
//! since the last one (committed files never change, so every message is
//! read once), feeds their arrival times to
//! `depeer_analysis::OnlineVolume`, and returns the events that became
//! confirmed, each with how long after its time that was (in data time:
//! the newest message seen). The causes of a confirmed event are those
//! the batch read side ([`super::events::events`]) gives for the same
//! event over the days around it, so the online and batch answers agree.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use depeer_analysis::{Confirmed, OnlineParams, OnlineVolume};
use depeer_core::Timestamp;
use depeer_store::Dataset;
use serde::Serialize;

use super::ReadError;
use super::events::{EventOut, EventScope, events};

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
    causes: bool,
}

impl Follower {
    /// A follower of `data` that has read nothing yet; `causes`: look up
    /// the routing causes of each confirmed event.
    #[must_use]
    pub fn new(data: &Path, params: OnlineParams, causes: bool) -> Follower {
        Follower {
            data: data.to_path_buf(),
            seen: HashSet::new(),
            online: OnlineVolume::new(params),
            causes,
        }
    }

    /// Messages read so far.
    #[must_use]
    pub fn messages(&self) -> u64 {
        self.online.messages()
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
        let time = |s: i64| Timestamp::from_secs(s).to_rfc3339();
        let mut event = EventOut {
            time: time(c.time),
            time_low: time(c.time_low),
            time_high: time(c.time_high),
            scope: "total",
            key: None,
            kind: c.event.direction.as_str(),
            magnitude: c.event.magnitude,
            low: c.event.magnitude_low,
            high: c.event.magnitude_high,
            confidence: c.event.confidence,
            causes: Vec::new(),
            routing: None,
        };
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
        Ok(FollowedEvent {
            event,
            confirmed_at: time(c.confirmed_at),
            delay_seconds: c.delay(),
        })
    }
}
