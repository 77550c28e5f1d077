//! The `attribution` table (one row per message: botnet, campaign,
//! confidence, the deciding signal and the relay as routed at the message
//! time), and the reads attribution needs: every stored message with its
//! raw bytes, the URL hosts, and the feed listings.
//!
//! The table is partitioned by the UTC day of the message time. It is
//! written in whole days: [`Store::write_attribution`] deletes the parts of
//! the days it replaces and writes the new rows in one commit, so a reader
//! sees the old rows of a day or the new ones, never both.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Float64Array, Float64Builder, Int64Builder, RecordBatch, StringArray,
    StringBuilder, TimestampMicrosecondBuilder,
};
use depeer_core::{FeedEntryObs, Timestamp};

use crate::error::{Result, StoreError};
use crate::parquet_io::{self, Cols, list_parts, opt_str};
use crate::read::Dataset;
use crate::schema::{names, schema_of};

/// Text columns by name, in the order named.
fn texts<'a, const N: usize>(c: &Cols<'a>, names: [&str; N]) -> Result<[&'a StringArray; N]> {
    let found = names
        .iter()
        .map(|n| c.str(n))
        .collect::<Result<Vec<&'a StringArray>>>()?;
    found.try_into().map_err(|_| StoreError::Corrupt {
        path: c.path.to_path_buf(),
        reason: format!("columns {names:?}"),
    })
}

use crate::store::Store;

/// One row of the `attribution` table.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributionRow {
    /// The message (`messages.sha256`, lowercase hex).
    pub sha256: String,
    /// Its arrival time.
    pub time: Timestamp,
    /// Canonical family name; `None` when unknown.
    pub botnet: Option<String>,
    /// Campaign id, when the message has one.
    pub campaign: Option<String>,
    /// Confidence in `botnet`, 0..1.
    pub confidence: f64,
    /// `rule`, `bot-list`, `cluster` or `none`.
    pub signal: String,
    /// The relay address.
    pub relay_ip: Option<String>,
    /// The longest prefix routed to the relay at `time`.
    pub relay_prefix: Option<String>,
    /// The origin AS of that prefix at `time`.
    pub relay_asn: Option<u32>,
    /// The organisation (or AS name) of that AS, when known.
    pub relay_org: Option<String>,
}

/// One stored message, as [`Dataset::scan_messages`] hands it over.
#[derive(Debug)]
pub struct MessageScan<'a> {
    /// SHA-256 of the raw bytes.
    pub sha256: [u8; 32],
    /// Arrival time.
    pub time: Timestamp,
    /// `relay_ip` as stored (text).
    pub relay_ip: Option<&'a str>,
    /// `relay_helo`.
    pub relay_helo: Option<&'a str>,
    /// `relay_rdns`.
    pub relay_rdns: Option<&'a str>,
    /// `from_addr`.
    pub from_addr: Option<&'a str>,
    /// `subject`.
    pub subject: Option<&'a str>,
    /// `message_id`.
    pub message_id: Option<&'a str>,
    /// The hex MinHash fingerprint.
    pub fingerprint: &'a str,
    /// The raw message bytes.
    pub raw: &'a [u8],
}

const DAY_US: i64 = 86_400_000_000;

/// The partition (`YYYY-MM-DD`) a row of `time` goes to.
pub fn attribution_day(time: Timestamp) -> String {
    Timestamp(time.0.div_euclid(DAY_US) * DAY_US).day()
}

fn rows_batch(rows: &[&AttributionRow]) -> Result<RecordBatch> {
    let n = rows.len();
    let text = |bytes: usize| StringBuilder::with_capacity(n, n * bytes);
    let (mut sha, mut botnet, mut campaign, mut signal) = (text(64), text(8), text(14), text(8));
    let (mut ip, mut prefix, mut org) = (text(15), text(18), text(16));
    let mut time = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut confidence = Float64Builder::with_capacity(n);
    let mut asn = Int64Builder::with_capacity(n);
    for r in rows {
        sha.append_value(&r.sha256);
        time.append_value(r.time.0);
        botnet.append_option(r.botnet.as_deref());
        campaign.append_option(r.campaign.as_deref());
        confidence.append_value(r.confidence);
        signal.append_value(&r.signal);
        ip.append_option(r.relay_ip.as_deref());
        prefix.append_option(r.relay_prefix.as_deref());
        asn.append_option(r.relay_asn.map(i64::from));
        org.append_option(r.relay_org.as_deref());
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(sha.finish()),
        Arc::new(time.finish()),
        Arc::new(botnet.finish()),
        Arc::new(campaign.finish()),
        Arc::new(confidence.finish()),
        Arc::new(signal.finish()),
        Arc::new(ip.finish()),
        Arc::new(prefix.finish()),
        Arc::new(asn.finish()),
        Arc::new(org.finish()),
    ];
    RecordBatch::try_new(schema_of(names::ATTRIBUTION), cols)
        .map_err(StoreError::arrow("building attribution"))
}

impl Store {
    /// Writes attribution rows in one atomic commit: first every stored
    /// part of the days in `replace_days` (`YYYY-MM-DD`) is deleted, then
    /// `rows` are written, one part per day. With no `replace_days` this
    /// appends. Rows of a replaced day that are not in `rows` are gone.
    pub fn write_attribution(
        &self,
        rows: &[AttributionRow],
        replace_days: &[String],
    ) -> Result<()> {
        if rows.is_empty() && replace_days.is_empty() {
            return Ok(());
        }
        let mut batch = self.inner.new_batch();
        let tdir = self.inner.dir.join("tables").join(names::ATTRIBUTION);
        for day in replace_days {
            for p in list_parts(&tdir.join(format!("day={day}")))? {
                if let Ok(rel) = p.strip_prefix(&self.inner.dir) {
                    batch.delete(rel.to_string_lossy().into_owned());
                }
            }
        }
        let mut by_day: BTreeMap<String, Vec<&AttributionRow>> = BTreeMap::new();
        for r in rows {
            by_day.entry(attribution_day(r.time)).or_default().push(r);
        }
        for (n, (day, rows)) in by_day.iter().enumerate() {
            let rel = format!(
                "tables/{}/day={day}/part-{}-{n}.parquet",
                names::ATTRIBUTION,
                batch.id()
            );
            parquet_io::write_part(&mut batch, &rel, &rows_batch(rows)?, &["sha256"])?;
        }
        self.inner.commit(batch)
    }
}

fn attribution_from(c: &Cols<'_>, out: &mut Vec<AttributionRow>) -> Result<()> {
    let [sha, botnet, campaign, signal] = texts(c, ["sha256", "botnet", "campaign", "signal"])?;
    let [ip, prefix, org] = texts(c, ["relay_ip", "relay_prefix", "relay_org"])?;
    let (time, asn) = (c.ts("time")?, c.i64("relay_asn")?);
    let conf =
        c.rb.column_by_name("confidence")
            .and_then(|a| a.as_any().downcast_ref::<Float64Array>())
            .ok_or_else(|| StoreError::Corrupt {
                path: c.path.to_path_buf(),
                reason: "column confidence is missing or not float64".into(),
            })?;
    let owned = |a, i| opt_str(a, i).map(str::to_string);
    for i in 0..c.rb.num_rows() {
        out.push(AttributionRow {
            sha256: sha.value(i).to_string(),
            time: Timestamp(time.value(i)),
            botnet: owned(botnet, i),
            campaign: owned(campaign, i),
            confidence: conf.value(i),
            signal: signal.value(i).to_string(),
            relay_ip: owned(ip, i),
            relay_prefix: owned(prefix, i),
            relay_asn: (!asn.is_null(i))
                .then(|| u32::try_from(asn.value(i)).ok())
                .flatten(),
            relay_org: owned(org, i),
        });
    }
    Ok(())
}

fn feed_rows_from(c: &Cols<'_>, out: &mut Vec<FeedEntryObs>) -> Result<()> {
    let [source, kind, indicator, address] = texts(c, ["source", "kind", "indicator", "address"])?;
    let [family, file, key] = texts(c, ["family", "source_file", "key"])?;
    let [first, last, ingest] = ["first_seen", "last_seen", "ingest_time"].map(|n| c.ts(n));
    let (first, last, ingest) = (first?, last?, ingest?);
    let (port, line) = (c.i64("port")?, c.i64("source_line")?);
    // Parts written before feed records were kept have no `sha256`.
    let sha = match c.rb.column_by_name("sha256") {
        Some(_) => Some(c.str("sha256")?),
        None => None,
    };
    let time = |a: &datafusion::arrow::array::TimestampMicrosecondArray, i: usize| {
        (!a.is_null(i)).then(|| Timestamp(a.value(i)))
    };
    for i in 0..c.rb.num_rows() {
        out.push(FeedEntryObs {
            source: source.value(i).to_string(),
            kind: kind.value(i).to_string(),
            indicator: indicator.value(i).to_string(),
            address: opt_str(address, i).map(str::to_string),
            family: opt_str(family, i).map(str::to_string),
            port: (!port.is_null(i))
                .then(|| u16::try_from(port.value(i)).ok())
                .flatten(),
            first_seen: time(first, i),
            last_seen: time(last, i),
            ingest_time: Timestamp(ingest.value(i)),
            source_file: file.value(i).to_string(),
            source_line: u64::try_from(line.value(i)).unwrap_or(0),
            key: key.value(i).to_string(),
            sha256: sha.and_then(|s| opt_str(s, i)).map(str::to_string),
        });
    }
    Ok(())
}

const SCAN_COLS: &[&str] = &[
    "sha256",
    "arrival_time",
    "relay_ip",
    "relay_helo",
    "relay_rdns",
    "from_addr",
    "subject",
    "message_id",
    "fingerprint",
    "raw_pack",
    "raw_offset",
    "raw_len",
    "raw_inner_offset",
    "size",
];

/// The last frame decompressed, by (pack, offset): the members of a frame
/// are consecutive rows.
#[derive(Default)]
struct FrameCache {
    key: Option<(String, u64)>,
    bytes: Vec<u8>,
}

impl FrameCache {
    fn member(&mut self, ds: &Dataset, loc: (&str, u64, u64), inner: (u64, u64)) -> Result<&[u8]> {
        let (pack, offset, len) = loc;
        let hit = self
            .key
            .as_ref()
            .is_some_and(|(p, o)| p == pack && *o == offset);
        if !hit {
            self.bytes = crate::raw::read_frame_part(ds.dir(), pack, offset, len, 0, None)?;
            self.key = Some((pack.to_string(), offset));
        }
        let start = usize::try_from(inner.0).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::try_from(inner.1).unwrap_or(usize::MAX));
        self.bytes
            .get(start..end)
            .ok_or_else(|| StoreError::Corrupt {
                path: ds.dir().join("raw").join(pack),
                reason: format!("frame at byte {offset} has no bytes {start}..{end}"),
            })
    }
}

fn scan_batch<T>(
    ds: &Dataset,
    c: &Cols<'_>,
    cache: &mut FrameCache,
    f: &(impl Fn(&MessageScan<'_>) -> T + Sync),
    out: &mut Vec<T>,
) -> Result<()> {
    let [sha, fp, pack, ip] = texts(c, ["sha256", "fingerprint", "raw_pack", "relay_ip"])?;
    let [helo, rdns, from] = texts(c, ["relay_helo", "relay_rdns", "from_addr"])?;
    let [subject, mid] = texts(c, ["subject", "message_id"])?;
    let time = c.ts("arrival_time")?;
    let (off, len) = (c.i64("raw_offset")?, c.i64("raw_len")?);
    let (inner, size) = (c.i64("raw_inner_offset")?, c.i64("size")?);
    let u = |v: i64| u64::try_from(v).unwrap_or(u64::MAX);
    for i in 0..c.rb.num_rows() {
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(sha.value(i), &mut sha256).map_err(|_| StoreError::Corrupt {
            path: c.path.to_path_buf(),
            reason: format!("sha256 {:?} is not hex", sha.value(i)),
        })?;
        let raw = cache.member(
            ds,
            (pack.value(i), u(off.value(i)), u(len.value(i))),
            (u(inner.value(i)), u(size.value(i))),
        )?;
        out.push(f(&MessageScan {
            sha256,
            time: Timestamp(time.value(i)),
            relay_ip: opt_str(ip, i),
            relay_helo: opt_str(helo, i),
            relay_rdns: opt_str(rdns, i),
            from_addr: opt_str(from, i),
            subject: opt_str(subject, i),
            message_id: opt_str(mid, i),
            fingerprint: fp.value(i),
            raw,
        }));
    }
    Ok(())
}

impl Dataset {
    /// Runs `per_file` on every part of `table`, in parallel.
    fn each_part<T: Send>(
        &self,
        table: &str,
        per_file: impl Fn(&Path) -> Result<Vec<T>> + Sync,
    ) -> Result<Vec<T>> {
        parquet_io::par_files(
            &list_parts(&self.dir().join("tables").join(table))?,
            per_file,
        )
    }

    /// Every row of `attribution`.
    pub fn read_attribution(&self) -> Result<Vec<AttributionRow>> {
        self.read_all(names::ATTRIBUTION, attribution_from)
    }

    /// Every row of `feed_entries`.
    pub fn read_feed_entries(&self) -> Result<Vec<FeedEntryObs>> {
        self.read_all(names::FEED_ENTRIES, feed_rows_from)
    }

    /// Every row of `message_urls` as (message hex SHA-256, host,
    /// registrable domain).
    pub fn read_url_hosts(&self) -> Result<Vec<(String, String, Option<String>)>> {
        self.read_all(names::MESSAGE_URLS, |c, out| {
            let (s, h, d) = (
                c.str("sha256")?,
                c.str("host")?,
                c.str("registrable_domain")?,
            );
            for i in 0..c.rb.num_rows() {
                out.push((
                    s.value(i).to_string(),
                    h.value(i).to_string(),
                    opt_str(d, i).map(str::to_string),
                ));
            }
            Ok(())
        })
    }

    /// Calls `f` on every stored message with its raw bytes, in parallel
    /// across files (each frame of raw bytes is decompressed once per
    /// file), and returns the results in file order.
    pub fn scan_messages<T: Send>(
        &self,
        f: impl Fn(&MessageScan<'_>) -> T + Sync,
    ) -> Result<Vec<T>> {
        self.each_part(names::MESSAGES, |p| {
            let mut v = Vec::new();
            let mut cache = FrameCache::default();
            parquet_io::read_columns(p, SCAN_COLS, |rb| {
                scan_batch(self, &Cols { rb, path: p }, &mut cache, &f, &mut v)
            })?;
            Ok(v)
        })
    }
}
