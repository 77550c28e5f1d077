//! The `events` table written by `depeer events --build`: every volume
//! event of every scope (total, botnet, sending AS, hosting AS) with its
//! first cause in columns and all causes as JSON, replaced whole on each
//! build like `dependencies` (see docs/schema.md).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use depeer_core::Timestamp;

use crate::error::{Result, StoreError};
use crate::parquet_io::{int_col, text_col, time_col};
use crate::schema::ts;
use crate::store::Store;

/// Name of the table `depeer events --build` writes.
pub const EVENTS: &str = "events";

/// One row of `events`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// First minute at the new rate.
    pub time: Timestamp,
    /// Interval of `time`.
    pub time_low: Timestamp,
    /// See `time_low`.
    pub time_high: Timestamp,
    /// `total`, `botnet`, `sending-as` or `hosting-as`.
    pub scope: String,
    /// The botnet or AS number; `None` for the total.
    pub key: Option<String>,
    /// `drop` or `rise`.
    pub kind: String,
    /// Relative change of the rate.
    pub magnitude: f64,
    /// 95 % interval of `magnitude`.
    pub low: f64,
    /// See `low`.
    pub high: f64,
    /// 0..1.
    pub confidence: f64,
    /// The first cause's AS.
    pub cause_asn: Option<u32>,
    /// The first cause's routing event kind.
    pub cause_kind: Option<String>,
    /// The first cause's routing event time.
    pub cause_time: Option<Timestamp>,
    /// Share of the change the first cause explains.
    pub cause_explains: Option<f64>,
    /// Every cause, best first, as `depeer events --json` gives them.
    pub causes: String,
    /// For `kind` `routing`: the routing event's kind.
    pub routing_kind: Option<String>,
    /// For `kind` `routing`: its details.
    pub routing_detail: Option<String>,
}

/// The schema of `events`.
pub fn events_schema() -> Schema {
    let text = |n: &str, null| Field::new(n, DataType::Utf8, null);
    let float = |n: &str, null| Field::new(n, DataType::Float64, null);
    Schema::new(vec![
        Field::new("time", ts(), false),
        Field::new("time_low", ts(), false),
        Field::new("time_high", ts(), false),
        text("scope", false),
        text("key", true),
        text("kind", false),
        float("magnitude", false),
        float("low", false),
        float("high", false),
        float("confidence", false),
        Field::new("cause_asn", DataType::Int64, true),
        text("cause_kind", true),
        Field::new("cause_time", ts(), true),
        float("cause_explains", true),
        text("causes", false),
        text("routing_kind", true),
        text("routing_detail", true),
    ])
}

fn events_batch(rows: &[EventRow]) -> Result<RecordBatch> {
    let t = |f: fn(&EventRow) -> Option<&str>| text_col(rows, f);
    let f = |get: fn(&EventRow) -> Option<f64>| -> ArrayRef {
        Arc::new(rows.iter().map(get).collect::<Float64Array>())
    };
    let cols: Vec<ArrayRef> = vec![
        time_col(rows, |r| Some(r.time)),
        time_col(rows, |r| Some(r.time_low)),
        time_col(rows, |r| Some(r.time_high)),
        t(|r| Some(r.scope.as_str())),
        t(|r| r.key.as_deref()),
        t(|r| Some(r.kind.as_str())),
        f(|r| Some(r.magnitude)),
        f(|r| Some(r.low)),
        f(|r| Some(r.high)),
        f(|r| Some(r.confidence)),
        int_col(rows, |r| r.cause_asn.map(i64::from)),
        t(|r| r.cause_kind.as_deref()),
        time_col(rows, |r| r.cause_time),
        f(|r| r.cause_explains),
        t(|r| Some(r.causes.as_str())),
        t(|r| r.routing_kind.as_deref()),
        t(|r| r.routing_detail.as_deref()),
    ];
    RecordBatch::try_new(Arc::new(events_schema()), cols)
        .map_err(StoreError::arrow("building events"))
}

impl Store {
    /// Replaces the whole `events` table with `rows` in one commit.
    pub fn replace_events(&self, rows: &[EventRow]) -> Result<()> {
        self.replace_derived(EVENTS, &events_batch(rows)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_replaced_and_queryable() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let row = EventRow {
            time: Timestamp(1_226_439_360_000_000),
            time_low: Timestamp(1_226_439_000_000_000),
            time_high: Timestamp(1_226_440_000_000_000),
            scope: "total".into(),
            key: None,
            kind: "drop".into(),
            magnitude: -0.66,
            low: -0.7,
            high: -0.6,
            confidence: 0.98,
            cause_asn: Some(26780),
            cause_kind: Some("as-unreachable".into()),
            cause_time: Some(Timestamp(1_226_439_300_000_000)),
            cause_explains: Some(0.92),
            causes: "[]".into(),
            routing_kind: None,
            routing_detail: None,
        };
        store.replace_events(&[row.clone(), row.clone()]).unwrap();
        store.replace_events(&[row]).unwrap();
        let out = crate::sql(
            tmp.path(),
            "SELECT count(*) AS n, max(cause_asn) AS a, min(magnitude) AS m FROM events WHERE scope = 'total'",
        )
        .unwrap();
        let mut text = Vec::new();
        crate::render(&out, crate::OutputFormat::Csv, &mut text).unwrap();
        assert_eq!(String::from_utf8(text).unwrap(), "n,a,m\n1,26780,-0.66\n");
    }
}
