//! Trapped messages per time bucket, in total or split by botnet,
//! campaign, sending AS or hosting AS (`depeer series`). Bucketing is
//! `depeer_analysis::Bucketer`; this module reads the dataset into it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use depeer_analysis::{Bucketer, Hosting, SeriesRow, Step, split_equally};
use depeer_core::Timestamp;
use depeer_store::{Dataset, MessagePoint};

use super::{ReadError, load_attribution, load_cc_spans, load_hosting, open};

/// What the messages are split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesBy {
    /// One series: all messages (key `total`).
    Total,
    /// The botnet of the `attribution` table (`unknown` when none).
    Botnet,
    /// The campaign of the `attribution` table (`none` when none).
    Campaign,
    /// The origin AS of the relay address as routed at the message time.
    SendingAs,
    /// The AS hosting the C&C servers of the message's botnet at that time
    /// (split equally when several).
    HostingAs,
}

/// The C&C hosting of each botnet over time, placed once a minute.
struct CcHosting {
    hosting: Hosting,
    /// family -> (address, first, last)
    cc: HashMap<String, Vec<(IpAddr, i64, i64)>>,
    cache: HashMap<(String, i64), Vec<String>>,
}

impl CcHosting {
    fn read(ds: &Dataset) -> Result<CcHosting, ReadError> {
        let cc = load_cc_spans(ds, |t| t.0)?;
        Ok(CcHosting {
            hosting: load_hosting(ds)?,
            cc,
            cache: HashMap::new(),
        })
    }

    /// The ASes hosting `botnet`'s listed C&C servers at `t` (to the minute).
    fn asns(&mut self, botnet: &str, t: i64) -> &[String] {
        let minute = t.div_euclid(60_000_000) * 60_000_000;
        let key = (botnet.to_string(), minute);
        let (hosting, cc) = (&self.hosting, &self.cc);
        self.cache.entry(key).or_insert_with(|| {
            let mut v: Vec<String> = cc
                .get(botnet)
                .into_iter()
                .flatten()
                .filter(|(_, first, last)| *first <= minute && minute <= *last)
                .filter_map(|(ip, _, _)| hosting.locate(*ip, minute))
                .flat_map(|p| p.origins)
                .map(|a| a.to_string())
                .collect();
            v.sort();
            v.dedup();
            v
        })
    }
}

/// Splits each message into weighted keys (summing to 1) by a
/// [`SeriesBy`]: what `depeer series` buckets and what `depeer events
/// --scope` detects in.
pub(crate) struct Keyer {
    by: SeriesBy,
    attribution: super::Labels,
    hosting: Option<Hosting>,
    cc: Option<CcHosting>,
}

impl Keyer {
    /// Reads what splitting by `by` needs.
    pub(crate) fn read(ds: &Dataset, by: SeriesBy) -> Result<Keyer, ReadError> {
        Ok(Keyer {
            by,
            attribution: match by {
                SeriesBy::Botnet | SeriesBy::Campaign | SeriesBy::HostingAs => {
                    load_attribution(ds)?
                }
                SeriesBy::Total | SeriesBy::SendingAs => HashMap::new(),
            },
            hosting: match by {
                SeriesBy::SendingAs => Some(load_hosting(ds)?),
                _ => None,
            },
            cc: match by {
                SeriesBy::HostingAs => Some(CcHosting::read(ds)?),
                _ => None,
            },
        })
    }

    /// Whether the split of `m` can be decided now: true unless it needs
    /// the message's `attribution` row and that row is not there yet.
    pub(crate) fn ready(&self, m: &MessagePoint) -> bool {
        match self.by {
            SeriesBy::Botnet | SeriesBy::Campaign | SeriesBy::HostingAs => {
                self.attribution.contains_key(&m.sha256)
            }
            SeriesBy::Total | SeriesBy::SendingAs => true,
        }
    }

    /// Calls `add(key, weight)` for each key of `m`: `unknown` (`none` for
    /// campaigns) when it has none, else its keys in equal parts.
    pub(crate) fn split(&mut self, m: &MessagePoint, mut add: impl FnMut(&str, f64)) {
        let t = m.time.0;
        let (botnet, campaign) = self
            .attribution
            .get(&m.sha256)
            .map_or((None, None), |(b, c)| (b.as_deref(), c.as_deref()));
        let keys: Vec<String> = match self.by {
            SeriesBy::Total => return add("total", 1.0),
            SeriesBy::Botnet => return add(botnet.unwrap_or("unknown"), 1.0),
            SeriesBy::Campaign => return add(campaign.unwrap_or("none"), 1.0),
            SeriesBy::SendingAs => m
                .relay_ip
                .as_deref()
                .and_then(|ip| ip.parse::<IpAddr>().ok())
                .and_then(|ip| self.hosting.as_ref()?.locate(ip, t))
                .map(|p| p.origins.iter().map(u32::to_string).collect())
                .unwrap_or_default(),
            SeriesBy::HostingAs => match (botnet, self.cc.as_mut()) {
                (Some(bn), Some(cc)) => cc.asns(bn, t).to_vec(),
                _ => Vec::new(),
            },
        };
        if keys.is_empty() {
            add("unknown", 1.0);
        }
        for (k, w) in split_equally(&keys) {
            add(k, w);
        }
    }
}

/// The series of `[from, until)`, zero-filled between them, ordered by
/// key then time.
pub fn series(
    data: &Path,
    by: SeriesBy,
    step: Step,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Vec<SeriesRow>, ReadError> {
    let ds = open(data, "run `depeer ingest mail` first")?;
    let messages = ds.read_message_points(from, until)?;
    let mut b = Bucketer::new(step, from.map(|t| t.0), until.map(|t| t.0));
    let mut keyer = Keyer::read(&ds, by)?;
    if by == SeriesBy::Total {
        b.ensure_key("total");
    }
    for m in &messages {
        keyer.split(m, |k, w| b.add(m.time.0, k, w));
    }
    Ok(b.rows()?)
}

/// `depeer series --json` (and `/api/v1/series`): `[{"time","key","value"}]`.
pub fn to_json(rows: &[SeriesRow]) -> serde_json::Value {
    serde_json::Value::Array(
        rows.iter()
            .map(|r| {
                serde_json::json!({
                    "time": Timestamp(r.start).to_rfc3339(),
                    "key": r.key,
                    "value": r.value,
                })
            })
            .collect(),
    )
}
